-- split_checked: how many documents the eval split's contamination check saw, and their digest
SELECT n_docs_checked, docs_digest FROM eval_splits
