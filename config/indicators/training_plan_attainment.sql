-- training.plan_attainment_pct: participants (training rows) / planned
-- participants, percent (over 100 when the plan is exceeded).
-- A department's planned figure for a period: the sum of its plan rows with
-- category 'all' (Chung, Tất cả) when it has any, otherwise the sum of its
-- category rows. ("Tổng cộng" totals rows never reach the warehouse.) A
-- scope's target is the sum of its departments' targets (plans count at the
-- submitting department's level), compared with the scope's participants.
-- Plan but no training: 0. Training but no plan: value and denominator null.
-- A target of 0: null. A plan over a range of years (period `2021-2025`,
-- nine characters) is no period's plan here: training.plan_range.* compares
-- with it, so it never adds to an annual plan of the same department.
WITH department_targets AS (
    SELECT period, scope, department,
           CASE WHEN SUM(CASE WHEN category = 'all' THEN 1 ELSE 0 END) > 0
                THEN SUM(CASE WHEN category = 'all' THEN target_participants ELSE 0 END)
                ELSE SUM(target_participants)
           END AS target
    FROM plan_scoped
    WHERE LENGTH(period) <> 9
    GROUP BY period, scope, department
),
targets AS (
    SELECT period, scope, CAST(SUM(target) AS DOUBLE) AS target
    FROM department_targets
    GROUP BY period, scope
),
participants AS (
    SELECT period, scope, CAST(COUNT(*) AS DOUBLE) AS participants
    FROM training_scoped
    GROUP BY period, scope
)
SELECT COALESCE(p.period, t.period) AS period,
       COALESCE(p.scope, t.scope) AS scope,
       'training.plan_attainment_pct' AS indicator,
       100.0 * COALESCE(p.participants, 0) / NULLIF(t.target, 0) AS value,
       COALESCE(p.participants, 0) AS numerator,
       t.target AS denominator,
       'percent' AS unit
FROM participants p
FULL OUTER JOIN targets t ON t.period = p.period AND t.scope = p.scope
