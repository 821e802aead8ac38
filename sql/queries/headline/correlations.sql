-- correlations: the stored correlations of the primary preset (the first one stored), ood/bpb first
SELECT * FROM correlations
WHERE preset = (SELECT preset FROM correlations ORDER BY rowid LIMIT 1)
ORDER BY target = 'ood/bpb' DESC, target, rowid
