-- training.plan_range.participants, training.plan_range.attainment_pct,
-- training.plan_range.expected_pct: progress against a plan over a range of
-- years (plan period `2021-2025`, "giai đoạn 2021–2025").
--
-- Written under each ordinary period P (a year, a half-year or a quarter
-- with data in any table) that lies inside a range R with a plan in the
-- scope, never under the range itself:
--   participants   = training rows of R's periods from R's first year to the
--                    end of P. A department's report counts unless a longer
--                    report of the same department inside that window holds
--                    it: its year 2023 and not also its 2023-Q1; its quarters
--                    when it sent no 2023 (or P is 2023-H1, which its year
--                    2023 does not lie within).
--   attainment_pct = participants / R's target (a department's `all` plan
--                    rows when it has any, else the sum of its category rows,
--                    summed over the scope's departments, as
--                    training.plan_attainment_pct does); a target of 0: null.
--   expected_pct   = the share of R elapsed at P's end (numerator and
--                    denominator in years): 2023 in 2021-2025 is 3 / 5.
-- When several ranges with a plan hold P in a scope, the one starting last
-- (then the shortest) is compared.
-- A period is a range when its text is nine characters (YYYY-YYYY); a year
-- has four, a half-year or quarter seven (YYYY-Hn, YYYY-Qn).
WITH department_targets AS (
    SELECT period, scope, department,
           CASE WHEN SUM(CASE WHEN category = 'all' THEN 1 ELSE 0 END) > 0
                THEN SUM(CASE WHEN category = 'all' THEN target_participants ELSE 0 END)
                ELSE SUM(target_participants)
           END AS target
    FROM plan_scoped
    WHERE LENGTH(period) = 9
    GROUP BY period, scope, department
),
ranges AS (
    SELECT period AS range_period, scope,
           CAST(SUBSTR(period, 1, 4) AS INT) * 12 AS range_first,
           (CAST(SUBSTR(period, 6, 4) AS INT) + 1) * 12 AS range_last,
           CAST(SUM(target) AS DOUBLE) AS target
    FROM department_targets
    GROUP BY period, scope
),
periods AS (
    SELECT period FROM submissions
    UNION SELECT period FROM staff
    UNION SELECT period FROM training
    UNION SELECT period FROM plan
    UNION SELECT period FROM recruitment
),
-- Each ordinary period as months [first, last) counted from year 0.
ordinary AS (
    SELECT period,
           CAST(SUBSTR(period, 1, 4) AS INT) * 12
             + CASE WHEN LENGTH(period) = 4 THEN 0
                    WHEN SUBSTR(period, 6, 1) = 'H' THEN 6 * (CAST(SUBSTR(period, 7, 1) AS INT) - 1)
                    ELSE 3 * (CAST(SUBSTR(period, 7, 1) AS INT) - 1) END AS first_month,
           CASE WHEN LENGTH(period) = 4 THEN 12
                WHEN SUBSTR(period, 6, 1) = 'H' THEN 6
                ELSE 3 END AS months
    FROM periods
    WHERE LENGTH(period) IN (4, 7)
),
candidates AS (
    SELECT o.period, r.scope, r.range_first, r.range_last, r.target,
           o.first_month + o.months AS period_last,
           ROW_NUMBER() OVER (PARTITION BY o.period, r.scope
                              ORDER BY r.range_first DESC, r.range_last ASC) AS pick
    FROM ordinary o
    JOIN ranges r ON o.first_month >= r.range_first AND o.first_month + o.months <= r.range_last
),
chosen AS (
    SELECT period, scope, range_first, range_last, target, period_last
    FROM candidates
    WHERE pick = 1
),
department_periods AS (
    SELECT t.scope, t.department, t.period, o.first_month, o.first_month + o.months AS last_month,
           CAST(COUNT(*) AS DOUBLE) AS participants
    FROM training_scoped t
    JOIN ordinary o ON o.period = t.period
    GROUP BY t.scope, t.department, t.period, o.first_month, o.months
),
windowed AS (
    SELECT c.period, c.scope, d.department, d.period AS part,
           d.first_month, d.last_month, d.participants
    FROM chosen c
    JOIN department_periods d
      ON d.scope = c.scope AND d.first_month >= c.range_first AND d.last_month <= c.period_last
),
held AS (
    SELECT DISTINCT a.period, a.scope, a.department, a.part
    FROM windowed a
    JOIN windowed b
      ON b.period = a.period AND b.scope = a.scope AND b.department = a.department
     AND b.part <> a.part AND b.first_month <= a.first_month AND b.last_month >= a.last_month
),
counted AS (
    SELECT w.period, w.scope, SUM(w.participants) AS participants
    FROM windowed w
    LEFT JOIN held h
      ON h.period = w.period AND h.scope = w.scope AND h.department = w.department AND h.part = w.part
    WHERE h.part IS NULL
    GROUP BY w.period, w.scope
),
progress AS (
    SELECT c.period, c.scope, c.target,
           COALESCE(p.participants, 0) AS participants,
           CAST(c.period_last - c.range_first AS DOUBLE) / 12 AS years_elapsed,
           CAST(c.range_last - c.range_first AS DOUBLE) / 12 AS years
    FROM chosen c
    LEFT JOIN counted p ON p.period = c.period AND p.scope = c.scope
)
SELECT p.period, p.scope, i.indicator,
       CASE i.indicator
            WHEN 'training.plan_range.participants' THEN p.participants
            WHEN 'training.plan_range.attainment_pct' THEN 100.0 * p.participants / NULLIF(p.target, 0)
            ELSE 100.0 * p.years_elapsed / p.years
       END AS value,
       CASE i.indicator
            WHEN 'training.plan_range.participants' THEN CAST(NULL AS DOUBLE)
            WHEN 'training.plan_range.attainment_pct' THEN p.participants
            ELSE p.years_elapsed
       END AS numerator,
       CASE i.indicator
            WHEN 'training.plan_range.participants' THEN CAST(NULL AS DOUBLE)
            WHEN 'training.plan_range.attainment_pct' THEN p.target
            ELSE p.years
       END AS denominator,
       CASE i.indicator
            WHEN 'training.plan_range.participants' THEN 'count'
            ELSE 'percent'
       END AS unit
FROM progress p
CROSS JOIN (VALUES ('training.plan_range.participants'),
                   ('training.plan_range.attainment_pct'),
                   ('training.plan_range.expected_pct')) AS i (indicator)
