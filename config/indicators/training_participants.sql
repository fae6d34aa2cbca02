-- training.participants: training rows (lượt người: one per person per course).
SELECT period, scope,
       'training.participants' AS indicator,
       CAST(COUNT(*) AS DOUBLE) AS value,
       CAST(NULL AS DOUBLE) AS numerator,
       CAST(NULL AS DOUBLE) AS denominator,
       'count' AS unit
FROM training_scoped
GROUP BY period, scope
