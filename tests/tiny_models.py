"""Tiny classifiers made in the test itself: a fastText model trained on generated text, and a randomly
initialized Hugging Face BERT classifier with a word-level tokenizer built from a generated vocabulary
(nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

from tests.corpus import make_corpus

DOMAIN_LABELS = {"cooking": "food", "astronomy": "space"}


def train_fasttext(folder: Path, n_docs: int = 120, seed: int = 0, labels: dict[str, str] = DOMAIN_LABELS) -> Path:
    """A fastText model (``model.bin``) telling cooking (``food``) from astronomy (``space``) documents
    (other label names with ``labels``: domain -> label).

    This fastText build is not reproducible on tiny data (the same call gives other weights, and now and
    then stops with "Encountered NaN"), so training is retried; the tests need a model that separates
    the two domains, and check that, not particular scores."""
    import fasttext

    docs = [d for d in make_corpus(n_docs, seed=seed, exact_dup_rate=0, near_dup_rate=0) if d.domain in labels]
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "train.txt"
    data.write_text("".join(f"__label__{labels[d.domain]} {' '.join(d.text.split())}\n" for d in docs))
    for attempt in range(5):
        try:
            model = fasttext.train_supervised(input=str(data), epoch=25, lr=0.5, dim=64, wordNgrams=2, bucket=20_000, thread=1,
                                              seed=seed + attempt, verbose=0)
            break
        except RuntimeError:
            if attempt == 4:
                raise
    path = folder / "model.bin"
    model.save_model(str(path))
    return path


def save_tiny_bert(folder: Path, labels: list[str], seed: int = 0) -> Path:
    """A 1-layer BERT sequence classifier (random weights, seeded) with ``labels`` and its tokenizer."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    words = sorted({w for d in make_corpus(60, seed=seed) for w in d.text.lower().replace(".", " ").split()})
    vocab = {tok: i for i, tok in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *words])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]")
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                        max_position_embeddings=128, num_labels=len(labels), id2label=dict(enumerate(labels)),
                        label2id={label: i for i, label in enumerate(labels)})
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
