-- schema: every catalog table, created IF NOT EXISTS; the catalog records the version it applied
-- version: 5
-- Views over Parquet (documents, one per stage, doc_signals, ...) are created by curate/core/catalog/__init__.py
-- because their file paths cannot be bound; see Catalog.refresh_views.

CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- One row per invocation of a command that changed the catalog (curate run, mix, train, ...).
CREATE TABLE IF NOT EXISTS runs (
    run_id       VARCHAR PRIMARY KEY,
    command      VARCHAR NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    status       VARCHAR NOT NULL,          -- running | done | failed
    config       JSON,                      -- the resolved config (recipe, spec, train config)
    code_version VARCHAR                    -- mixlab version + git commit when available
);

-- One row per stage of the recipe that has completed (ingest included).
CREATE TABLE IF NOT EXISTS stages (
    stage        VARCHAR PRIMARY KEY,
    kind         VARCHAR NOT NULL,          -- ingest | map | global
    position     INTEGER NOT NULL,
    version      VARCHAR NOT NULL,
    fingerprint  VARCHAR NOT NULL,          -- hash of stage, version, params and upstream fingerprint
    params       JSON,
    n_in         BIGINT,
    n_kept       BIGINT,
    n_dropped    BIGINT,
    wall_s       DOUBLE,
    finished_at  TIMESTAMP
);

-- One row per (stage, shard) completed: the unit of parallelism and of resume.
CREATE TABLE IF NOT EXISTS shards (
    stage       VARCHAR NOT NULL,
    shard       VARCHAR NOT NULL,
    n_in        BIGINT NOT NULL,
    n_kept      BIGINT NOT NULL,
    n_dropped   BIGINT NOT NULL,
    n_bytes     BIGINT,
    wall_s      DOUBLE,
    PRIMARY KEY (stage, shard)
);

-- Ingest accounting per input file: every record read is a document or a reject.
CREATE TABLE IF NOT EXISTS ingest_files (
    input_file  VARCHAR NOT NULL,
    task        VARCHAR NOT NULL,           -- file or file@byte-range for split inputs
    source      VARCHAR NOT NULL,
    n_records   BIGINT NOT NULL,            -- lines / rows / files read
    n_docs      BIGINT NOT NULL,
    n_rejected  BIGINT NOT NULL,
    n_bytes     BIGINT NOT NULL,
    wall_s      DOUBLE,
    PRIMARY KEY (task)
);

-- Input records that never became documents, with where and why.
CREATE TABLE IF NOT EXISTS rejects (
    input_file  VARCHAR NOT NULL,
    line        BIGINT,                     -- 1-based line (or row) number when known
    byte_offset BIGINT,                     -- offset in the (decompressed) stream
    reason      VARCHAR NOT NULL,           -- e.g. ingest.malformed_json, ingest.missing_text
    field       VARCHAR,                    -- the field concerned, when there is one
    excerpt     VARCHAR                     -- a short, escaped excerpt of the record
);

-- One row per document dropped by a stage.
CREATE TABLE IF NOT EXISTS decisions (
    doc_id  VARCHAR NOT NULL,
    stage   VARCHAR NOT NULL,
    reason  VARCHAR NOT NULL,               -- <stage>.<why>, e.g. length_filter.too_short
    detail  VARCHAR                         -- e.g. the kept doc_id of a duplicate cluster
);

-- Extra tables written by stages as Parquet (e.g. topic_labels), exposed as views of the same name.
CREATE TABLE IF NOT EXISTS artifacts (
    table_name VARCHAR PRIMARY KEY,
    stage      VARCHAR NOT NULL,
    path       VARCHAR NOT NULL              -- relative to the data root
);

-- Where the run's data (docs shards, stage parts and artifacts) lives when not in the run folder:
-- a URL such as s3://bucket/run (curate run --data). No row: the run folder itself.
CREATE TABLE IF NOT EXISTS data_root (
    location VARCHAR NOT NULL
);

-- Diversity of any scope (corpus, source, lang, topic, mixture, ad-hoc SQL selection).
CREATE TABLE IF NOT EXISTS diversity (
    scope_kind  VARCHAR NOT NULL,
    scope_id    VARCHAR NOT NULL,
    metric      VARCHAR NOT NULL,
    value       DOUBLE,
    ci_low      DOUBLE,
    ci_high     DOUBLE,
    n_docs      BIGINT,
    sample_size BIGINT,
    params      JSON,
    computed_at TIMESTAMP DEFAULT current_timestamp
);

-- Mixtures emitted by `curate mix` (see curate/mix/emit.py).
CREATE TABLE IF NOT EXISTS mixtures (
    mixture_id    VARCHAR PRIMARY KEY,
    name          VARCHAR NOT NULL,
    sweep_id      VARCHAR,
    spec          JSON NOT NULL,
    seed          BIGINT NOT NULL,
    token_budget  BIGINT NOT NULL,           -- mixture tokens: the run's BPE, or the bytes4 estimate (manifest.json token_counter)
    n_docs        BIGINT NOT NULL,
    n_tokens      BIGINT NOT NULL,           -- realized, repeats counted, in token_budget's unit (no EOS)
    path          VARCHAR NOT NULL,          -- relative to the run folder
    created_at    TIMESTAMP DEFAULT current_timestamp
);

CREATE TABLE IF NOT EXISTS mixture_docs (
    mixture_id VARCHAR NOT NULL,
    doc_id     VARCHAR NOT NULL,
    repeats    INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS mixture_composition (
    mixture_id VARCHAR NOT NULL,
    group_key  VARCHAR NOT NULL,
    n_docs     BIGINT NOT NULL,
    n_tokens   BIGINT NOT NULL,             -- in the mixture's token_budget unit, repeats counted
    weight     DOUBLE NOT NULL,
    max_repeats INTEGER NOT NULL
);

-- Held-out evaluation documents reserved by `curate mix --eval-split`.
CREATE TABLE IF NOT EXISTS eval_sets (
    eval_set  VARCHAR NOT NULL,             -- e.g. id/<group> or ood/<group>
    doc_id    VARCHAR NOT NULL,
    group_key VARCHAR NOT NULL,
    kind      VARCHAR NOT NULL              -- id | ood
);

-- Pool documents excluded from every mixture because they duplicate an eval document.
CREATE TABLE IF NOT EXISTS contamination (
    eval_doc_id VARCHAR NOT NULL,
    doc_id      VARCHAR NOT NULL,
    method      VARCHAR NOT NULL,           -- exact | minhash | containment
    similarity  DOUBLE
);

-- The eval split's parameters and the documents its contamination check covered (curate/mix/eval_split.py).
CREATE TABLE IF NOT EXISTS eval_splits (
    params          JSON NOT NULL,
    n_docs_checked  BIGINT NOT NULL,
    docs_digest     VARCHAR NOT NULL,           -- bit_xor of doc_id hashes: changes when documents change
    n_eval_docs     BIGINT NOT NULL,
    n_contaminated  BIGINT NOT NULL,
    created_at      TIMESTAMP DEFAULT current_timestamp
);

-- Training runs (train/), their curves and evaluations.
CREATE TABLE IF NOT EXISTS train_runs (
    train_id        VARCHAR PRIMARY KEY,
    mixture_id      VARCHAR,
    sweep_id        VARCHAR,
    preset          VARCHAR NOT NULL,
    seed            BIGINT NOT NULL,
    data_seed       BIGINT NOT NULL,
    tokens          BIGINT NOT NULL,     -- training tokens: BPE of tokenizer_hash, packed with one EOS per document
    tokenizer_hash  VARCHAR,
    n_params        BIGINT,
    n_params_non_embedding BIGINT,
    device          VARCHAR,
    wall_s          DOUBLE,
    tokens_per_s    DOUBLE,
    final_train_loss DOUBLE,
    final_val_loss  DOUBLE,              -- nats per token on held-out sequences of the run's own mixture
    status          VARCHAR,
    config          JSON,
    created_at      TIMESTAMP DEFAULT current_timestamp
);
-- The "learned" check (train/learned.py), added in schema version 3 (hence ALTER for older catalogs).
ALTER TABLE train_runs ADD COLUMN IF NOT EXISTS steps BIGINT;
ALTER TABLE train_runs ADD COLUMN IF NOT EXISTS unigram_entropy DOUBLE;     -- nats/token of its training tokens
ALTER TABLE train_runs ADD COLUMN IF NOT EXISTS loss_below_unigram DOUBLE;  -- unigram_entropy - final_val_loss
ALTER TABLE train_runs ADD COLUMN IF NOT EXISTS tail_gain DOUBLE;           -- relative val-loss gain over the last 20% of steps
ALTER TABLE train_runs ADD COLUMN IF NOT EXISTS learned BOOLEAN;            -- half of the unigram-to-bigram gain made (see bigram_loss; `converged`: the tail rule)

CREATE TABLE IF NOT EXISTS train_curve (
    train_id     VARCHAR NOT NULL,
    step         BIGINT NOT NULL,
    tokens       BIGINT NOT NULL,       -- BPE training tokens so far (as train_runs.tokens)
    lr           DOUBLE,
    train_loss   DOUBLE,
    val_loss     DOUBLE,
    tokens_per_s DOUBLE
);

CREATE TABLE IF NOT EXISTS evals (
    train_id VARCHAR NOT NULL,
    eval_set VARCHAR NOT NULL,
    metric   VARCHAR NOT NULL,              -- bpb, continuation_acc, domain_choice_acc, cloze_acc
    value    DOUBLE,
    n        BIGINT
);
ALTER TABLE evals ADD COLUMN IF NOT EXISTS chance DOUBLE;  -- a probe's chance level (NULL for bpb)

-- Does the mixture ranking of a small proxy transfer to a larger model (DataDecide-style)? One row per
-- pair of presets x target, over the mixtures both trained (seed means). Rewritten by `reports correlate`.
CREATE TABLE IF NOT EXISTS scale_agreement (
    preset_small VARCHAR NOT NULL,
    preset_large VARCHAR NOT NULL,
    target       VARCHAR NOT NULL,          -- eval_set/metric, e.g. ood/bpb
    n_mixtures   INTEGER NOT NULL,
    rho          DOUBLE,                    -- Spearman of the two scales' per-mixture means
    rho_ci_low   DOUBLE,
    rho_ci_high  DOUBLE,
    tau          DOUBLE,                    -- Kendall tau-b
    p_perm       DOUBLE,                    -- two-sided permutation p of rho
    warning      VARCHAR,
    computed_at  TIMESTAMP DEFAULT current_timestamp
);

-- Diversity <-> generalization statistics (reports/correlate.py), one row per metric x target, over
-- mixtures (seed means). Derived data: `reports correlate` drops and recreates it on every analysis.
CREATE TABLE IF NOT EXISTS correlations (
    metric      VARCHAR NOT NULL,
    target      VARCHAR NOT NULL,           -- eval_set/metric, e.g. ood/bpb
    preset      VARCHAR,                    -- the model size whose runs were correlated
    n_mixtures  INTEGER NOT NULL,
    n_seeds     INTEGER NOT NULL,           -- fewest seeds of any mixture used
    seed_sd     DOUBLE,                     -- pooled standard deviation of the target across seeds
    rho         DOUBLE,                     -- Spearman
    rho_ci_low  DOUBLE,                     -- bootstrap 95% CIs resample mixtures
    rho_ci_high DOUBLE,
    tau         DOUBLE,                     -- Kendall tau-b
    tau_ci_low  DOUBLE,
    tau_ci_high DOUBLE,
    r           DOUBLE,                     -- Pearson
    r_ci_low    DOUBLE,
    r_ci_high   DOUBLE,
    p_perm      DOUBLE,                     -- two-sided permutation p of rho
    p_holm      DOUBLE,                     -- Holm-adjusted across the metrics tested for this target
    partial_rho DOUBLE,                     -- Spearman rho controlling for `confound`
    confound    VARCHAR,
    loo_rank_agreement DOUBLE,              -- leave-one-mixture-out regression: rank agreement
    n_close_pairs INTEGER,                  -- neighbouring mixtures closer than 2 x seed_sd
    warning     VARCHAR,
    seed        BIGINT,                     -- bootstrap / Monte Carlo seed
    computed_at TIMESTAMP DEFAULT current_timestamp
);

-- ---------------------------------------------------------------------------------------------------
-- Studies (schema version 4): leak-free fits, designed mixtures, covariates, per-document losses, effects.

-- The eval split's identity: every fitted model records the split_id it excluded (view fit_docs).
ALTER TABLE eval_splits ADD COLUMN IF NOT EXISTS split_id VARCHAR;   -- digest of the (eval_set, doc_id) rows

-- A designed study (`curate mix sweep` with a `design`): the pre-registered question, written before training.
CREATE TABLE IF NOT EXISTS studies (
    sweep_id         VARCHAR PRIMARY KEY,
    design           VARCHAR NOT NULL,      -- line | subsets | dirichlet | vary
    factor           VARCHAR NOT NULL,      -- the design factor, e.g. log2_k or group_entropy
    target           VARCHAR NOT NULL,      -- the pre-registered target, e.g. unseen/bpb
    grouping         VARCHAR NOT NULL,      -- group_by of the study arm, e.g. source
    control_grouping VARCHAR,               -- group_by of the negative-control arm, e.g. bucket:8 (NULL: none)
    confounds        VARCHAR[],             -- covariates adjusted for (names in mixture_covariates)
    spec             JSON NOT NULL,         -- the whole sweep spec as given
    created_at       TIMESTAMP DEFAULT current_timestamp
);

-- One row per mixture of a designed study: its arm, the factor's value and the groups it holds.
CREATE TABLE IF NOT EXISTS mixture_design (
    mixture_id   VARCHAR PRIMARY KEY,
    sweep_id     VARCHAR NOT NULL,
    arm          VARCHAR NOT NULL,          -- study | control (pseudo-groups: the effect should be null)
    factor       VARCHAR NOT NULL,
    factor_value DOUBLE NOT NULL,
    draw         INTEGER NOT NULL,          -- draw index within a factor level
    grouping     VARCHAR NOT NULL,          -- the MixtureSpec group_by (source, topic_id, bucket:8, ...)
    groups       VARCHAR[] NOT NULL         -- groups with a positive share
);

-- Per mixture, properties the design factor could stand in for (long form; the mixture_confounds report pivots).
CREATE TABLE IF NOT EXISTS mixture_covariates (
    mixture_id VARCHAR NOT NULL,
    name       VARCHAR NOT NULL,            -- tokens_per_byte, mean_doc_tokens, epochs, lang_share:en, user:<name>, ...
    value      DOUBLE,
    role       VARCHAR NOT NULL             -- confound | user
);

-- Each eval document's cross-entropy under each mixture's smoothed n-gram LM (run tokenizer): how aligned
-- the eval text is to the mixture, and the n-gram baseline the study analysis compares the Transformer with.
CREATE TABLE IF NOT EXISTS mixture_alignment (
    mixture_id VARCHAR NOT NULL,
    eval_set   VARCHAR NOT NULL,
    doc_id     VARCHAR NOT NULL,
    nll_bits   DOUBLE NOT NULL,
    n_bytes    BIGINT NOT NULL
);

-- Per training run, evaluated checkpoint and eval document: summed NLL in bits (paired comparisons).
CREATE TABLE IF NOT EXISTS eval_doc_losses (
    train_id VARCHAR NOT NULL,
    step     BIGINT NOT NULL,
    eval_set VARCHAR NOT NULL,
    doc_id   VARCHAR NOT NULL,
    nll_bits DOUBLE NOT NULL,
    n_bytes  BIGINT NOT NULL
);

-- Eval metrics at intermediate checkpoints (bits per byte); the final evaluation is in evals.
CREATE TABLE IF NOT EXISTS checkpoint_evals (
    train_id VARCHAR NOT NULL,
    step     BIGINT NOT NULL,
    tokens   BIGINT NOT NULL,               -- BPE training tokens so far
    eval_set VARCHAR NOT NULL,
    metric   VARCHAR NOT NULL,
    value    DOUBLE,
    n        BIGINT
);

-- Two checks, two messages (train/learned.py): learned = far enough below unigram; converged = flat tail.
ALTER TABLE train_runs ADD COLUMN IF NOT EXISTS converged BOOLEAN;   -- tail_gain < 0.05
-- Held-out loss of a smoothed bigram of the run's training tokens: learned = (unigram - val) >= half of
-- (unigram - bigram_loss), i.e. the run made at least half of the gain token pairs alone make.
ALTER TABLE train_runs ADD COLUMN IF NOT EXISTS bigram_loss DOUBLE;
-- Runs recorded before the split stored learned = (margin and flat tail): re-derive both from their numbers
-- (the 1.5-nat margin those runs were judged by; they have no bigram_loss).
UPDATE train_runs SET learned = loss_below_unigram >= 1.5, converged = tail_gain < 0.05
WHERE converged IS NULL AND loss_below_unigram IS NOT NULL AND tail_gain IS NOT NULL;
-- DataDecide's pairwise decision accuracy: the share of mixture pairs both scales order the same way.
ALTER TABLE scale_agreement ADD COLUMN IF NOT EXISTS decision_accuracy DOUBLE;

-- A designed study's answer (`reports study`, reports/study.py): one row per analysis. `primary` is the
-- pre-registered (factor, target) on the study arm with its verdict; `control` the same on the negative
-- control arm; `ngram*` the same with the per-mixture n-gram LM in place of the Transformer; `beyond_ngram`
-- adds the mixture's n-gram alignment as a covariate; `unadjusted` drops the confounds; `checkpoint` rows
-- repeat `primary` at intermediate checkpoints. Derived data: rewritten by every analysis of the sweep.
CREATE TABLE IF NOT EXISTS study_effects (
    sweep_id       VARCHAR NOT NULL,
    analysis       VARCHAR NOT NULL,
    arm            VARCHAR NOT NULL,        -- study | control
    model          VARCHAR NOT NULL,        -- the preset trained, or ngram
    factor         VARCHAR NOT NULL,
    target         VARCHAR NOT NULL,
    step_frac      DOUBLE NOT NULL,         -- 1.0: the final evaluation; else the checkpoint's share of training
    adjusted_for   VARCHAR[],               -- confounds in the regression
    held_fixed     VARCHAR[],               -- confounds constant across the mixtures (held fixed by the design)
    n_mixtures     INTEGER,
    n_runs         INTEGER,
    estimate       DOUBLE,                  -- change of the target per unit of the factor (OLS over mixtures)
    ci_low         DOUBLE,                  -- 95%: cluster bootstrap over mixtures (seeds nested), t on residual df
    ci_high        DOUBLE,
    p_value        DOUBLE,                  -- Freedman-Lane permutation p of the factor given the confounds
    se             DOUBLE,
    mde            DOUBLE,                  -- minimum detectable |effect| at 80% power
    mixed_estimate DOUBLE,                  -- random intercept per mixture (statsmodels MixedLM), run level
    mixed_ci_low   DOUBLE,
    mixed_ci_high  DOUBLE,
    seed_sd        DOUBLE,                  -- pooled within-mixture sd of the run-level outcome
    effect_range   DOUBLE,                  -- |estimate| x the factor's range across the design
    vif            DOUBLE,                  -- of the factor given the adjusted confounds
    max_abs_rho_confound DOUBLE,            -- largest |Spearman rho| of the factor with any recorded confound
    verdict        VARCHAR,                 -- effect | inconclusive | not identifiable | refused
    reason         VARCHAR,
    notes          VARCHAR,
    n_boot         INTEGER,
    n_perm         INTEGER,
    seed           BIGINT,
    computed_at    TIMESTAMP DEFAULT current_timestamp
);

-- Per mixture and analysis: the outcome the regression used (target relative to each group's mean), for plots.
CREATE TABLE IF NOT EXISTS study_outcomes (
    sweep_id     VARCHAR NOT NULL,
    analysis     VARCHAR NOT NULL,
    step_frac    DOUBLE NOT NULL,
    mixture_id   VARCHAR NOT NULL,
    arm          VARCHAR NOT NULL,
    factor_value DOUBLE NOT NULL,
    outcome      DOUBLE
);

-- Mixture search (`train search`, RegMix-style): one row per search, its headline and the chosen mixture.
CREATE TABLE IF NOT EXISTS search_runs (
    search_id          VARCHAR PRIMARY KEY,
    proxy_sweep        VARCHAR NOT NULL,      -- mixtures.sweep_id of the proxies
    validation_sweep   VARCHAR,               -- mixtures.sweep_id of the chosen mixture and the baselines
    grouping           VARCHAR NOT NULL,      -- group_by of every mixture (source, lang, topic_id, a column)
    groups             VARCHAR[] NOT NULL,    -- the regression's features, in order
    target             VARCHAR NOT NULL,      -- e.g. panel/bpb, unseen/bpb, id/<group>/bpb
    preset             VARCHAR NOT NULL,      -- proxy model size
    tokens             BIGINT NOT NULL,       -- training tokens (and mixture budget) of each proxy, the run's BPE tokens
    n_proxies          INTEGER NOT NULL,      -- finished proxies used (fit + held out)
    n_heldout          INTEGER NOT NULL,      -- proxies never used in fitting
    n_not_learned      INTEGER,               -- proxies that failed the learned check
    model              VARCHAR NOT NULL,      -- regressor chosen by k-fold CV: linear | loglinear | gbm | law
    cv_spearman        DOUBLE,                -- mean over folds of the chosen model
    cv_mae             DOUBLE,
    heldout_spearman   DOUBLE,                -- chosen model refitted on every fit proxy, scored on the held-out ones
    heldout_mae        DOUBLE,
    chosen_weights     JSON NOT NULL,         -- group -> share of the chosen mixture
    chosen_mixture_id  VARCHAR,               -- the chosen mixture as a normal manifest
    predicted_target   DOUBLE,                -- the regression's prediction for it
    validation_preset  VARCHAR,
    validation_seeds   INTEGER,
    seed_sd            DOUBLE,                -- pooled within-mixture sd of the target over the validation seeds
    config             JSON NOT NULL,         -- the whole SearchConfig
    created_at         TIMESTAMP DEFAULT current_timestamp
);

-- Per search: every mixture's weights with its predicted and actual target (proxies: out-of-fold per model).
CREATE TABLE IF NOT EXISTS search_predictions (
    search_id  VARCHAR NOT NULL,
    mixture_id VARCHAR NOT NULL,
    role       VARCHAR NOT NULL,              -- proxy (cross-validated) | heldout | chosen | uniform | natural | best_proxy
    model      VARCHAR NOT NULL,              -- the regressor that predicted
    fold       INTEGER,                       -- CV fold of a proxy (NULL otherwise)
    weights    JSON NOT NULL,                 -- realized token shares of the groups
    predicted  DOUBLE,
    actual     DOUBLE,                        -- the target (mean over seeds for validation mixtures)
    n_runs     INTEGER
);

-- Per search, regressor and CV fold: rank and absolute agreement of predicted vs actual targets.
CREATE TABLE IF NOT EXISTS search_folds (
    search_id VARCHAR NOT NULL,
    model     VARCHAR NOT NULL,
    fold      INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    spearman  DOUBLE,
    mae       DOUBLE,
    chosen    BOOLEAN NOT NULL                -- the model the search kept
);

-- Per search and baseline: chosen minus baseline target over validation seeds, 95% CI on the pooled seed sd.
CREATE TABLE IF NOT EXISTS search_comparisons (
    search_id  VARCHAR NOT NULL,
    baseline   VARCHAR NOT NULL,              -- uniform | natural | best_proxy
    n_chosen   INTEGER NOT NULL,
    n_baseline INTEGER NOT NULL,
    difference DOUBLE,                        -- negative: the chosen mixture is better (lower bits per byte)
    ci_low     DOUBLE,
    ci_high    DOUBLE,
    df         INTEGER
);
