-- training.abroad: training rows with location = abroad (Nước ngoài).
SELECT period, scope,
       'training.abroad' AS indicator,
       CAST(SUM(CASE WHEN location = 'abroad' THEN 1 ELSE 0 END) AS DOUBLE) AS value,
       CAST(NULL AS DOUBLE) AS numerator,
       CAST(NULL AS DOUBLE) AS denominator,
       'count' AS unit
FROM training_scoped
GROUP BY period, scope
