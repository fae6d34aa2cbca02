-- training.participants: training rows (lượt người: one per person per course).
-- A scope with a plan but no training record for the period has 0
-- participants, like its training.plan_attainment_pct. A plan over a range
-- of years (period `2021-2025`, nine characters) makes no row of its own:
-- training.plan_range.participants counts against it.
WITH counts AS (
    SELECT period, scope, CAST(COUNT(*) AS DOUBLE) AS participants
    FROM training_scoped
    GROUP BY period, scope
),
planned AS (
    SELECT DISTINCT period, scope FROM plan_scoped WHERE LENGTH(period) <> 9
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
