-- training.pass_rate_pct: passed / (passed + failed), percent. Rows still in
-- progress (Đang học) or without a result are left out; none left: null.
WITH counts AS (
    SELECT period, scope,
           CAST(SUM(CASE WHEN result = 'passed' THEN 1 ELSE 0 END) AS DOUBLE) AS passed,
           CAST(SUM(CASE WHEN result IN ('passed', 'failed') THEN 1 ELSE 0 END) AS DOUBLE) AS finished
    FROM training_scoped
    GROUP BY period, scope
)
SELECT period, scope,
       'training.pass_rate_pct' AS indicator,
       100.0 * passed / NULLIF(finished, 0) AS value,
       passed AS numerator,
       finished AS denominator,
       'percent' AS unit
FROM counts
