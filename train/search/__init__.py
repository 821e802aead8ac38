"""Mixture search (``train search``): predict the best mixture from small proxy runs, then prove it on runs it did not see.

RegMix (Liu et al. 2024) and Data Mixing Laws (Ye et al. 2024), end to end on a run's catalog:

- :mod:`train.search.config`: ``SearchConfig``, the typed search (grouping, target, proxies, constraints, validation).
- :mod:`train.search.targets`: which eval sets a target averages, and each run's value on them.
- :mod:`train.search.proxies`: seeded Dirichlet proxy mixtures and the validation mixtures, emitted as normal manifests.
- :mod:`train.search.regress`: the regressors (linear, log-linear, LightGBM, the mixing-law form) and k-fold CV.
- :mod:`train.search.optimize`: constraints (caps from unique tokens x repetition, minimum shares) and the optimizer.
- :mod:`train.search.validate`: chosen minus baseline over seeds, with a CI against the seed noise.
- :mod:`train.search.run`: the whole search (emit, train through :mod:`train.sweep`, fit, choose, validate, record).
"""
