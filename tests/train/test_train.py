"""Trainer correctness: overfit one batch, bpb by hand, schedule shape, resume equivalence, learning on text."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from tests.corpus import make_corpus
from train.config import TrainConfig
from train.data import EOS_ID, Batches, encode
from train.evaluate import bits_per_byte, continuation_accuracy, sequence_nll, windows_nll
from train.loop import lr_at, train
from train.model import build_model, parameter_counts
from train.runs import curve_frame

TINY = {"n_layer": 2, "d_model": 64, "n_head": 2, "seq_len": 64}  # a few thousand parameters: fast on CPU


def _tokens(n: int = 20_000, vocab: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(1, vocab, 50)
    return np.tile(base, n // 50 + 1)[:n].astype(np.uint32)  # a repeating pattern: learnable


def _text_tokenizer(texts: list[str], vocab: int = 512) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<|endoftext|>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    return tok


def test_presets_have_the_advertised_sizes():
    sizes = {p: parameter_counts(build_model(p, 8192, 0))[1] for p in ("nano", "micro", "small")}
    assert 0.3e6 < sizes["nano"] < 0.6e6 and 1e6 < sizes["micro"] < 2e6 and 12e6 < sizes["small"] < 30e6
    model = build_model("nano", 8192, 0)
    assert model.lm_head.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()  # tied
    assert model.config._attn_implementation == "sdpa"


def test_lr_schedule():
    cfg = TrainConfig(mixture_id="x", lr=1.0, min_lr_ratio=0.1, warmup_frac=0.1)
    assert lr_at(0, 100, cfg) == pytest.approx(0.1)
    assert lr_at(9, 100, cfg) == pytest.approx(1.0)
    assert lr_at(99, 100, cfg) == pytest.approx(0.1, abs=1e-3)
    lrs = [lr_at(s, 100, cfg) for s in range(10, 100)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:], strict=False))  # cosine decays monotonically
    wsd = TrainConfig(mixture_id="x", lr=1.0, schedule="wsd", warmup_frac=0.1)
    assert lr_at(50, 100, wsd) == 1.0 and lr_at(99, 100, wsd) < 0.2


def test_batches_pack_windows_deterministically():
    tokens = np.arange(1000, dtype=np.uint32)
    a, b = Batches(tokens, 10, 4, seed=3), Batches(tokens, 10, 4, seed=3)
    x, y = a.batch(5)
    assert torch.equal(x, b.batch(5)[0]) and torch.equal(y[:, :-1], x[:, 1:])  # targets are inputs shifted by one
    assert not torch.equal(x, Batches(tokens, 10, 4, seed=4).batch(5)[0])  # the data seed changes the order
    starts = sorted(int(Batches(tokens, 10, 1, seed=0).batch(s)[0][0, 0]) for s in range(99))
    assert starts == list(range(0, 990, 10))  # one epoch visits every window once


def test_tiny_model_overfits_one_batch(tmp_path):
    model = build_model(TINY, 64, seed=0)
    batches = Batches(_tokens(300), seq_len=32, batch_size=4, seed=0)
    fixed = batches.batch(0)
    batches.batch = lambda step: fixed  # the same batch every step
    cfg = TrainConfig(mixture_id="x", lr=1e-2, warmup_frac=0.0, min_lr_ratio=1.0, weight_decay=0.0, checkpoint_every=1000, num_threads=1)
    result = train(model, batches, cfg, 120, tmp_path, "cpu", progress=False)
    assert result.final_train_loss < 0.1


def test_bits_per_byte_equals_hand_computation():
    texts = ["a cat sat on the mat", "héllo wörld ✓ and more"]
    tok = _text_tokenizer(texts * 5, vocab=300)
    model = build_model(TINY, tok.get_vocab_size(), seed=1).eval()
    nll = 0.0
    with torch.no_grad():
        for text in texts:  # each document is EOS + tokens + EOS, scored token by token
            ids = [EOS_ID, *tok.encode(text, add_special_tokens=False).ids, EOS_ID]
            logp = torch.log_softmax(model(torch.tensor([ids[:-1]])).logits[0].double(), -1)
            nll -= sum(logp[i, ids[i + 1]].item() for i in range(len(ids) - 1))
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    assert n_bytes > sum(len(t) for t in texts)  # multi-byte characters count as bytes, not characters
    bpb, n = bits_per_byte(model, tok, texts, seq_len=64, device="cpu", batch_size=1)
    assert n == 2 and bpb == pytest.approx(nll / math.log(2) / n_bytes, rel=1e-5)
    assert bits_per_byte(model, tok, texts, seq_len=64, device="cpu", batch_size=2)[0] == pytest.approx(bpb, rel=1e-5)  # padding is exact


def test_windows_shorter_than_the_document():
    model = build_model(TINY, 64, seed=1).eval()
    ids = [0, 5, 9, 12, 3, 7, 0]
    manual = 0.0
    with torch.no_grad():  # windows of 3 targets: [0 5 9 12] then [12 3 7 0], each on its own prefix only
        for window in ([0, 5, 9, 12], [12, 3, 7, 0]):
            logp = model(torch.tensor([window[:-1]])).logits[0].log_softmax(-1)
            manual -= sum(logp[i, window[i + 1]].item() for i in range(3))
    assert sequence_nll(model, ids, 3, "cpu") == pytest.approx(manual, rel=1e-5)
    assert windows_nll(model, [ids[:4], ids[3:]], "cpu").sum().item() == pytest.approx(manual, rel=1e-5)


def test_resume_gives_the_same_final_loss(tmp_path):
    cfg = TrainConfig(mixture_id="x", checkpoint_every=5, lr=2e-3, num_threads=1, eval_at=[0.2, 0.5, 0.8])
    tokens = _tokens(20_000)
    probe = torch.from_numpy(tokens[:65].astype(np.int64))[None]

    def held_out_loss(model):  # a checkpoint evaluation: what the model says at this step
        with torch.no_grad():
            return {"loss": model(probe[:, :-1], labels=probe[:, :-1]).loss.item()}

    def run(out, stop_at=None):
        return train(build_model(TINY, 64, seed=0), Batches(tokens, 32, 4, seed=1), cfg, 20, out, "cpu", progress=False,
                     stop_at=stop_at, checkpoint_eval=held_out_loss)

    full = run(tmp_path / "full")
    run(tmp_path / "cut", stop_at=12)  # stopped after step 12; roll back to its step-10 checkpoint
    (tmp_path / "cut" / "checkpoint.pt").unlink()
    run(tmp_path / "cut", stop_at=10)
    resumed = run(tmp_path / "cut")
    assert resumed.final_train_loss == pytest.approx(full.final_train_loss, rel=1e-4)
    assert [r["step"] for r in resumed.curve] == list(range(1, 21))
    assert [(c["step"], c["tokens"]) for c in resumed.checkpoint_evals] == [(s, s * cfg.batch_size * 32) for s in (4, 10, 16)]
    assert [c["loss"] for c in resumed.checkpoint_evals] == pytest.approx([c["loss"] for c in full.checkpoint_evals], rel=1e-4)


def test_loss_decreases_on_real_text(tmp_path):
    texts = [d.text for d in make_corpus(60, seed=3, exact_dup_rate=0, near_dup_rate=0)]
    tok = _text_tokenizer(texts)
    tokens = np.asarray([i for ids in encode(tok, texts) for i in (*ids, EOS_ID)], dtype=np.uint32)
    cfg = TrainConfig(mixture_id="x", lr=1e-2, warmup_frac=0.1, eval_every=10, num_threads=1)
    held_out = [[EOS_ID, *ids][:65] for ids in encode(tok, [d.text for d in make_corpus(8, seed=99)])]
    model = build_model(TINY, tok.get_vocab_size(), seed=0)
    val = lambda m: sum(sequence_nll(m.eval(), ids, 64, "cpu") for ids in held_out) / sum(len(i) - 1 for i in held_out)  # noqa: E731
    before = val(model)
    result = train(model.train(), Batches(tokens, 64, 8, seed=0), cfg, 60, tmp_path, "cpu", val_loss=val, progress=False)
    assert result.curve[-1]["train_loss"] < result.curve[0]["train_loss"] * 0.6
    assert result.final_val_loss < before * 0.6  # it generalizes to unseen documents of the same domains
    assert continuation_accuracy(model, tok, [d.text for d in make_corpus(12, seed=98)], "cpu")[1] == 12


def test_eval_sets_cap_is_a_fixed_subset(run_dir):
    from curate.core.catalog import Catalog
    from train.evaluate import eval_sets

    with Catalog(run_dir, read_only=True) as cat:
        full, capped, again = eval_sets(cat), eval_sets(cat, 2), eval_sets(cat, 2)
    assert full.keys() == capped.keys() and len(full["ood/gardening"].texts) == 6
    for name, part in capped.items():
        assert part.kind == full[name].kind and len(part.texts) == min(2, len(full[name].texts))
        assert set(part.texts) <= set(full[name].texts) and set(part.doc_ids) <= set(full[name].doc_ids)
    assert capped == again


def test_curve_of_a_long_run_records_its_sparse_validation_losses():
    curve = [{"step": s, "tokens": s * 2048, "lr": 1e-3, "train_loss": 5.0, "val_loss": 4.2 if s % 400 == 0 else None,
              "tokens_per_s": 1e4} for s in range(1, 1201)]  # val_loss first measured at step 400, as in a 4,000-step run
    frame = curve_frame(curve, "t")
    assert frame.height == 1200 and frame["val_loss"].drop_nulls().to_list() == [4.2, 4.2, 4.2]
