-- training.cost_vnd: sum of cost_vnd (VND); null when no row of the scope
-- states a cost.
-- training.lessons_per_participant: mean of lessons (tiết) over the rows that
-- state them; numerator = lessons, denominator = rows with a lesson count.
WITH sums AS (
    SELECT period, scope,
           CAST(SUM(cost_vnd) AS DOUBLE) AS cost,
           CAST(SUM(lessons) AS DOUBLE) AS lessons,
           CAST(COUNT(lessons) AS DOUBLE) AS with_lessons
    FROM training_scoped
    GROUP BY period, scope
)
SELECT s.period, s.scope, i.indicator,
       CASE i.indicator
           WHEN 'training.cost_vnd' THEN s.cost
           WHEN 'training.lessons_per_participant' THEN s.lessons / NULLIF(s.with_lessons, 0)
       END AS value,
       CASE WHEN i.indicator = 'training.lessons_per_participant' THEN s.lessons END AS numerator,
       CASE WHEN i.indicator = 'training.lessons_per_participant' THEN s.with_lessons END AS denominator,
       CASE WHEN i.indicator = 'training.cost_vnd' THEN 'vnd' ELSE 'lessons' END AS unit
FROM sums s
CROSS JOIN (VALUES ('training.cost_vnd'), ('training.lessons_per_participant')) AS i (indicator)
