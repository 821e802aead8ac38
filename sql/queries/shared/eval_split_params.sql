-- eval_split_params: the params (JSON) the eval split was reserved with (no row: no split)
SELECT params FROM eval_splits
