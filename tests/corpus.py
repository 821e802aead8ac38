"""Synthetic multi-domain text with planted near-duplicates, written for mixlab's tests (no third-party text).

Each domain has its own vocabulary and sentence templates, so topic models can separate domains and
diversity metrics can tell a one-domain mixture from a many-domain one. Near-duplicates are copies of an
earlier document with a few words substituted (their word 5-gram Jaccard stays high); exact duplicates
are byte-identical copies. Everything is a pure function of the seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

DOMAINS: dict[str, dict[str, list[str]]] = {
    "cooking": {
        "nouns": ["onion", "garlic", "butter", "flour", "oven", "skillet", "broth", "pepper", "lentils", "dough", "basil", "lemon"],
        "verbs": ["simmer", "whisk", "roast", "chop", "knead", "season", "saute", "bake", "stir", "marinate"],
        "adjs": ["golden", "tender", "crispy", "fragrant", "smoky", "creamy", "tangy", "rustic"],
    },
    "astronomy": {
        "nouns": ["galaxy", "nebula", "telescope", "orbit", "comet", "quasar", "pulsar", "redshift", "planet", "eclipse", "asteroid", "spectrum"],
        "verbs": ["observe", "measure", "orbit", "collapse", "emit", "rotate", "expand", "detect", "track", "calibrate"],
        "adjs": ["distant", "luminous", "massive", "faint", "stellar", "cosmic", "infrared", "elliptical"],
    },
    "software": {
        "nouns": ["compiler", "function", "database", "server", "thread", "module", "parser", "cache", "socket", "kernel", "query", "index"],
        "verbs": ["compile", "deploy", "refactor", "debug", "allocate", "serialize", "parse", "index", "cache", "profile"],
        "adjs": ["concurrent", "immutable", "recursive", "asynchronous", "generic", "stateless", "verbose", "typed"],
    },
    "law": {
        "nouns": ["contract", "tenant", "statute", "plaintiff", "court", "clause", "liability", "warranty", "appeal", "licensee", "damages", "verdict"],
        "verbs": ["enforce", "terminate", "appeal", "indemnify", "waive", "grant", "breach", "notify", "amend", "dismiss"],
        "adjs": ["binding", "lawful", "void", "exclusive", "perpetual", "material", "punitive", "reasonable"],
    },
    "gardening": {
        "nouns": ["tomato", "compost", "seedling", "trellis", "mulch", "rose", "soil", "hedge", "orchard", "bulb", "greenhouse", "weed"],
        "verbs": ["prune", "water", "plant", "harvest", "fertilize", "graft", "sow", "weed", "transplant", "dig"],
        "adjs": ["leafy", "hardy", "perennial", "shady", "fertile", "blooming", "dry", "lush"],
    },
}
FUNCTION_WORDS = ["the", "a", "of", "and", "to", "with", "that", "in", "for", "is", "be", "have"]
TEMPLATES = [
    "The {adj} {noun} will {verb} the {noun2} with a {adj2} {noun3}.",
    "To {verb} a {noun}, first {verb2} the {adj} {noun2} and then the {noun3}.",
    "Every {noun} that we {verb} has a {adj} {noun2} of the {noun3}.",
    "It is {adj} to {verb} the {noun} before you {verb2} the {noun2}.",
    "Experts {verb} the {adj} {noun} and {verb2} its {adj2} {noun2}.",
    "With the {noun} in hand, {verb} the {noun2} until it is {adj}.",
]


@dataclass(frozen=True)
class Doc:
    """One generated document and the truth about it."""

    id: str
    text: str
    domain: str
    dup_of: str | None = None  # the original's id, for planted duplicates
    dup_kind: str | None = None  # "exact" or "near"


def sentence(rng: random.Random, domain: str) -> str:
    vocab = DOMAINS[domain]
    nouns, verbs, adjs = vocab["nouns"], vocab["verbs"], vocab["adjs"]
    return rng.choice(TEMPLATES).format(
        adj=rng.choice(adjs), adj2=rng.choice(adjs), noun=rng.choice(nouns), noun2=rng.choice(nouns),
        noun3=rng.choice(nouns), verb=rng.choice(verbs), verb2=rng.choice(verbs),
    )


def document(rng: random.Random, domain: str, n_sentences: int) -> str:
    """Paragraphs of sentences from one domain, with a numbered sentence for uniqueness."""
    paras = []
    for p in range(max(1, n_sentences // 4)):
        sents = [sentence(rng, domain) for _ in range(4)]
        sents.append(f"Note {rng.randrange(10**6)} on {rng.choice(DOMAINS[domain]['nouns'])} number {p}.")
        paras.append(" ".join(sents))
    return "\n\n".join(paras)


def mutate(rng: random.Random, text: str, n_edits: int) -> str:
    """Substitute ``n_edits`` words at random positions (a near-duplicate of ``text``)."""
    words = text.split(" ")
    for _ in range(n_edits):
        i = rng.randrange(len(words))
        words[i] = rng.choice(FUNCTION_WORDS)
    return " ".join(words)


def make_corpus(
    n_docs: int = 200,
    seed: int = 0,
    domains: tuple[str, ...] = tuple(DOMAINS),
    exact_dup_rate: float = 0.05,
    near_dup_rate: float = 0.1,
    sentences: tuple[int, int] = (8, 24),
) -> list[Doc]:
    """``n_docs`` documents round-robin over ``domains``, with planted exact and near duplicates."""
    rng = random.Random(seed)
    docs: list[Doc] = []
    for i in range(n_docs):
        domain = domains[i % len(domains)]
        originals = [d for d in docs if d.dup_of is None]
        roll = rng.random()
        if originals and roll < exact_dup_rate:
            src = rng.choice(originals)
            docs.append(Doc(f"doc{i:06d}", src.text, src.domain, src.id, "exact"))
        elif originals and roll < exact_dup_rate + near_dup_rate:
            src = rng.choice(originals)
            n_words = len(src.text.split(" "))
            docs.append(Doc(f"doc{i:06d}", mutate(rng, src.text, max(1, n_words // 100)), src.domain, src.id, "near"))
        else:
            docs.append(Doc(f"doc{i:06d}", document(rng, domain, rng.randint(*sentences)), domain))
    return docs


def to_records(docs: list[Doc]) -> list[dict[str, str | None]]:
    """JSON-ready records (id, text, domain) for writing JSONL fixtures."""
    return [{"id": d.id, "text": d.text, "domain": d.domain} for d in docs]


def write_sources(folder: Path, n_docs: int = 400, seed: int = 21) -> None:
    """One ``<domain>.jsonl.gz`` per domain (fields id, text), as `curate demo` writes its corpus."""
    import gzip

    import orjson

    folder.mkdir(parents=True, exist_ok=True)
    docs = make_corpus(n_docs, seed=seed, sentences=(16, 40))
    for domain in sorted({d.domain for d in docs}):
        lines = b"".join(orjson.dumps({"id": d.id, "text": d.text}) + b"\n" for d in docs if d.domain == domain)
        (folder / f"{domain}.jsonl.gz").write_bytes(gzip.compress(lines))
