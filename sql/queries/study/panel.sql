-- panel: every eval document with its group, computed by the group expression of curate.mix.groups.group_sql
-- splices: group_key
SELECT e.doc_id, e.eval_set, e.kind, {group_key} AS group_key FROM eval_sets e JOIN doc_signals USING (doc_id)
