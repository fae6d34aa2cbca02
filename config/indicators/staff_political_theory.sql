-- staff.political_theory.advanced_pct, staff.political_theory.intermediate_pct:
-- staff with an advanced (Cao cấp, Cử nhân) or intermediate (Trung cấp)
-- political theory qualification, percent of headcount (staff row's level).
WITH counts AS (
    SELECT period, scope,
           CAST(COUNT(*) AS DOUBLE) AS headcount,
           CAST(SUM(CASE WHEN political_theory = 'advanced' THEN 1 ELSE 0 END) AS DOUBLE) AS advanced,
           CAST(SUM(CASE WHEN political_theory = 'intermediate' THEN 1 ELSE 0 END) AS DOUBLE) AS intermediate
    FROM staff_scoped
    GROUP BY period, scope
),
shares AS (
    SELECT c.period, c.scope, i.indicator,
           CASE i.indicator
               WHEN 'staff.political_theory.advanced_pct' THEN c.advanced
               WHEN 'staff.political_theory.intermediate_pct' THEN c.intermediate
           END AS numerator,
           c.headcount AS denominator
    FROM counts c
    CROSS JOIN (VALUES ('staff.political_theory.advanced_pct'),
                       ('staff.political_theory.intermediate_pct')) AS i (indicator)
)
SELECT period, scope, indicator,
       100.0 * numerator / NULLIF(denominator, 0) AS value,
       numerator, denominator, 'percent' AS unit
FROM shares
