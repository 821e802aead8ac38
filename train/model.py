"""Preset -> transformers LlamaConfig -> LlamaForCausalLM from scratch (no download), SDPA, tied embeddings."""

from __future__ import annotations

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from train.config import PRESETS


def build_model(preset: str | dict[str, int], vocab_size: int, seed: int) -> LlamaForCausalLM:
    """A freshly initialized model; the seed fixes the initialization.

    ``preset`` is a name in PRESETS or a shape dict with the same keys (tests use tinier shapes).
    """
    p = PRESETS[preset] if isinstance(preset, str) else preset
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=p["d_model"],
        intermediate_size=int(8 * p["d_model"] / 3 / 32 + 1) * 32,
        num_hidden_layers=p["n_layer"],
        num_attention_heads=p["n_head"],
        num_key_value_heads=p["n_head"],
        max_position_embeddings=p["seq_len"],
        tie_word_embeddings=True,
        attn_implementation="sdpa",
        bos_token_id=None,
        eos_token_id=0,
        pad_token_id=None,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def parameter_counts(model: torch.nn.Module) -> tuple[int, int]:
    """(all parameters, non-embedding parameters); tied embeddings are counted once."""
    total = sum(p.numel() for p in model.parameters())
    embedding = model.get_input_embeddings().weight.numel()
    return total, total - embedding
