"""mixlab reports package."""
