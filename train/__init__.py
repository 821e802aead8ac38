"""mixlab's trainer: compact decoder-only Transformers trained on mixtures, evaluated in bits per byte."""
