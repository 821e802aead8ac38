"""Per-mixture covariates on a hand-built corpus, user covariate errors, and the n-gram alignment rows."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from tokenizers import Tokenizer

from curate.core.catalog import Catalog
from curate.mix import covariates
from curate.mix.emit import Extras, MixtureSpec, emit
from curate.mix.eval_split import eval_texts
from curate.mix.sweep import SweepSpec, plan_sweep
from curate.mix.tokens import TOKENIZER_FILE
from curate.models.ngram import fit_docs
from curate.pipeline.recipe import parse_recipe
from curate.pipeline.runner import RecipeRunner
from tests.conftest import write_jsonl
from tests.curate.study_run import build_study_run

EN = ["The committee approved the annual budget after a long discussion about roads and schools.",
      "Please remember to water the garden every morning during the hot summer weeks.",
      "A short note."]
DE = ["Der Ausschuss hat den Haushalt nach einer langen Diskussion über Straßen und Schulen genehmigt.",
      "Bitte denken Sie daran, den Garten in den heißen Sommerwochen jeden Morgen zu gießen."]


@pytest.fixture(scope="module")
def hand_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("covariates")
    write_jsonl(root / "data" / "en.jsonl", [{"id": f"en{i}", "text": t} for i, t in enumerate(EN)] + [{"id": "en-copy", "text": EN[0]}])
    write_jsonl(root / "data" / "de.jsonl", [{"id": f"de{i}", "text": t} for i, t in enumerate(DE)])
    recipe = parse_recipe({"name": "hand", "inputs": [{"path": "data/*.jsonl", "id_field": "id", "source": "{file}"}],
                           "stages": [{"stage": "exact_dedup"}, {"stage": "langid"}]})
    return RecipeRunner(recipe, root, root / "run", workers=1, progress=False).run().run_dir


def test_covariates_on_a_hand_built_mixture(hand_run):
    texts = EN + DE  # the copy of EN[0] is dropped by exact_dedup; its original stays, in a duplicate cluster
    n_bytes = [len(t.encode()) for t in texts]
    tokens = [(b + 3) // 4 for b in n_bytes]  # bytes4: no run tokenizer here
    spec = MixtureSpec(name="all", group_by="source", token_budget=2 * sum(tokens), epochs=2)
    user = {"short_share": "sum(repeats * (n_bytes < 20)::INT) / sum(repeats)", "chars": "sum(repeats * length(text))"}
    with Catalog(hand_run) as cat:
        manifest = emit(cat, spec, diversity_sample=None, extras=Extras(user_covariates=user))
        got = dict(cat.query("SELECT name, value FROM mixture_covariates WHERE mixture_id = $m", {"m": manifest["mixture_id"]}).iter_rows())
        roles = dict(cat.query("SELECT name, role FROM mixture_covariates WHERE mixture_id = $m", {"m": manifest["mixture_id"]}).iter_rows())
        langs = cat.query("SELECT source_id, lang FROM doc_signals WHERE dropped_by IS NULL")
    ids = [f"en{i}" for i in range(3)] + [f"de{i}" for i in range(2)]
    lang_of = dict(zip(langs["source_id"], langs["lang"], strict=True))
    expected_lang = {}
    for doc_id, t in zip(ids, tokens, strict=True):
        expected_lang[f"lang_share:{lang_of[doc_id]}"] = expected_lang.get(f"lang_share:{lang_of[doc_id]}", 0) + t / sum(tokens)
    assert manifest["tokenizer"] == "bytes4" and manifest["n_tokens"] == 2 * sum(tokens)
    assert got["tokens_per_byte"] == pytest.approx(sum(tokens) / sum(n_bytes))
    assert got["mean_doc_tokens"] == pytest.approx(sum(tokens) / 5) and got["mean_doc_bytes"] == pytest.approx(sum(n_bytes) / 5)
    assert got["unique_tokens"] == sum(tokens) and got["epochs"] == 2 and got["repeat_rate"] == pytest.approx(0.5)
    assert got["near_dup_frac"] == pytest.approx(tokens[0] / sum(tokens))
    assert {k: v for k, v in got.items() if k.startswith("lang_share:")} == pytest.approx(expected_lang)
    assert got["script_share:Latin"] == pytest.approx(1.0) and set(expected_lang) >= {"lang_share:en", "lang_share:de"}
    assert got["user:short_share"] == pytest.approx(1 / 5) and got["user:chars"] == 2 * sum(len(t) for t in texts)
    assert roles["user:chars"] == "user" and roles["tokens_per_byte"] == "confound"
    assert "mean_quality" not in got and "quality_model_fit" in manifest["covariates_omitted"]["mean_quality"]
    assert manifest["alignment"] == {"skipped": f"no run tokenizer ({TOKENIZER_FILE}); train it with `train tokenizer`"}


def test_mean_quality_is_left_out_with_the_reason(hand_run):
    with Catalog(hand_run) as cat:
        cat.execute("CREATE OR REPLACE VIEW quality_model_fit AS SELECT 0.5 AS auc, 0.5 AS precision, 0.5 AS recall,"
                    " 0.4998 AS score_p05, 0.5004 AS score_p95, false AS useful, 'AUC 0.50: separates nothing' AS reason")
        try:
            usable, why = covariates.quality_usable(cat)
            manifest = emit(cat, MixtureSpec(name="q", token_budget=40), diversity_sample=None)
        finally:
            cat.execute("DROP VIEW quality_model_fit")
    assert not usable and manifest["covariates_omitted"]["mean_quality"] == "quality model not useful: AUC 0.50: separates nothing"


@pytest.mark.parametrize(("expr", "message"), [
    ("sum(no_such_column)", r"covariate 'bad' \('sum\(no_such_column\)'\) is not a valid SQL aggregate.*no_such_column"),
    ("n_bytes", r"covariate 'bad' .* must aggregate to one value"),
    ("sum(n_bytes); DROP TABLE runs", r"covariate 'bad': one SQL aggregate expression without ';'"),
])
def test_user_covariate_errors_name_the_covariate(hand_run, expr, message):
    with Catalog(hand_run) as cat, pytest.raises(ValueError, match=message):
        covariates.check_user(cat, {"bad": expr})
    sweep = SweepSpec(name="u", base={"token_budget": 40}, vary={"seed": [0, 1]}, covariates={"bad": expr})
    with Catalog(hand_run) as cat, pytest.raises(ValueError, match=message):
        plan_sweep(cat, sweep)


def test_alignment_scores_exactly_the_eval_texts_under_the_mixtures_training_tokens(tmp_path):
    run_dir = build_study_run(tmp_path, n_docs=150)
    with Catalog(run_dir) as cat:
        manifest = emit(cat, MixtureSpec(name="a", group_by="source", token_budget=9000, max_repeats=3), diversity_sample=None)
        rows = cat.query("SELECT * FROM mixture_alignment WHERE mixture_id = $m ORDER BY eval_set, doc_id", {"m": manifest["mixture_id"]})
        sets = eval_texts(cat)
    shards = pl.read_parquet(run_dir / "mixtures" / manifest["mixture_id"] / "part-*.parquet")  # one row per repeat
    tok = Tokenizer.from_file(str(run_dir / TOKENIZER_FILE))
    ids = [np.array(e.ids) for e in tok.encode_batch(shards["text"].to_list(), add_special_tokens=False)]
    model = fit_docs(ids, np.ones(len(ids)), 3, tok.get_vocab_size())
    texts = [t for s in sets.values() for t in s.texts]
    bits = model.doc_bits([np.array(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False)])
    assert rows["doc_id"].to_list() == [d for s in sets.values() for d in s.doc_ids]
    assert rows["n_bytes"].to_list() == [len(t.encode()) for t in texts]
    assert rows["nll_bits"].to_numpy() == pytest.approx(bits, rel=1e-9)
    assert manifest["alignment"]["eval_docs"] == rows.height and all(
        0 < v < 16 and math.isfinite(v) for v in manifest["alignment"]["bits_per_byte"].values())
