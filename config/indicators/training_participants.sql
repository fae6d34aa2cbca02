-- training.participants: training rows (lượt người: one per person per course).
-- A scope with a plan but no training record for the period has 0
-- participants, like its training.plan_attainment_pct.
WITH counts AS (
    SELECT period, scope, CAST(COUNT(*) AS DOUBLE) AS participants
    FROM training_scoped
    GROUP BY period, scope
),
planned AS (
    SELECT DISTINCT period, scope FROM plan_scoped
)
SELECT COALESCE(c.period, p.period) AS period,
       COALESCE(c.scope, p.scope) AS scope,
       'training.participants' AS indicator,
       COALESCE(c.participants, 0) AS value,
       CAST(NULL AS DOUBLE) AS numerator,
       CAST(NULL AS DOUBLE) AS denominator,
       'count' AS unit
FROM counts c
FULL OUTER JOIN planned p ON p.period = c.period AND p.scope = c.scope
