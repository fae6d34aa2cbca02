-- training.online_pct: online and blended courses, percent of participants.
WITH counts AS (
    SELECT period, scope,
           CAST(COUNT(*) AS DOUBLE) AS participants,
           CAST(SUM(CASE WHEN mode IN ('online', 'blended') THEN 1 ELSE 0 END) AS DOUBLE) AS online
    FROM training_scoped
    GROUP BY period, scope
)
SELECT period, scope, 'training.online_pct' AS indicator,
       100.0 * online / NULLIF(participants, 0) AS value,
       online AS numerator, participants AS denominator, 'percent' AS unit
FROM counts
