-- training.leaders_trained_pct: leaders and managers on the roster (the
-- `leadership` derived from Chức vụ through config/posts.toml is leader or
-- manager) who attended at least one course in the period, percent of all
-- leaders and managers; training.leaders_digital_pct: the same with a course
-- of the digital category; training.planned_cadres_trained_pct: staff in the
-- planning (in_planning, Quy hoạch) with a course in the period, percent of
-- staff in the planning; training.leaders.unknown_post: roster rows whose
-- position names no post of the table (leadership null), so a post missing
-- from the mapping shows instead of silently leaving the denominators.
-- A training row matches a roster row of the same period anywhere in the
-- province by person_id, else (a training row without one) by full name +
-- birth date: a course counts for the attendee's department whoever reported
-- it, whatever its result. Scopes follow the staff row's level and exist
-- where there is a roster; a zero denominator gives a null value.
WITH by_id AS (
    SELECT period, person_id,
           MAX(CASE WHEN category = 'digital' THEN 1 ELSE 0 END) AS digital
    FROM training
    WHERE person_id IS NOT NULL
    GROUP BY period, person_id
),
by_name AS (
    SELECT period, full_name, birth_date,
           MAX(CASE WHEN category = 'digital' THEN 1 ELSE 0 END) AS digital
    FROM training
    WHERE person_id IS NULL AND full_name IS NOT NULL AND birth_date IS NOT NULL
    GROUP BY period, full_name, birth_date
),
people AS (
    SELECT s.period, s.scope,
           CASE WHEN s.leadership IN ('leader', 'manager') THEN 1 ELSE 0 END AS is_leader,
           CASE WHEN s.in_planning THEN 1 ELSE 0 END AS is_planned,
           CASE WHEN s.leadership IS NULL AND s.position IS NOT NULL THEN 1 ELSE 0 END AS unknown_post,
           CASE WHEN i.person_id IS NULL AND n.full_name IS NULL THEN 0 ELSE 1 END AS trained,
           CASE WHEN COALESCE(i.digital, 0) + COALESCE(n.digital, 0) > 0 THEN 1 ELSE 0 END AS digital
    FROM staff_scoped s
    LEFT JOIN by_id i
      ON i.period = s.period AND i.person_id = s.person_id
    LEFT JOIN by_name n
      ON n.period = s.period AND n.full_name = s.full_name AND n.birth_date = s.birth_date
),
agg AS (
    SELECT period, scope,
           CAST(SUM(is_leader) AS DOUBLE) AS leaders,
           CAST(SUM(is_leader * trained) AS DOUBLE) AS leaders_trained,
           CAST(SUM(is_leader * digital) AS DOUBLE) AS leaders_digital,
           CAST(SUM(is_planned) AS DOUBLE) AS planned,
           CAST(SUM(is_planned * trained) AS DOUBLE) AS planned_trained,
           CAST(SUM(unknown_post) AS DOUBLE) AS unknown_post
    FROM people
    GROUP BY period, scope
)
SELECT a.period, a.scope, i.indicator,
       CASE i.indicator
           WHEN 'training.leaders_trained_pct' THEN 100.0 * a.leaders_trained / NULLIF(a.leaders, 0)
           WHEN 'training.leaders_digital_pct' THEN 100.0 * a.leaders_digital / NULLIF(a.leaders, 0)
           WHEN 'training.planned_cadres_trained_pct' THEN 100.0 * a.planned_trained / NULLIF(a.planned, 0)
           ELSE a.unknown_post
       END AS value,
       CASE i.indicator
           WHEN 'training.leaders_trained_pct' THEN a.leaders_trained
           WHEN 'training.leaders_digital_pct' THEN a.leaders_digital
           WHEN 'training.planned_cadres_trained_pct' THEN a.planned_trained
       END AS numerator,
       CASE i.indicator
           WHEN 'training.leaders_trained_pct' THEN a.leaders
           WHEN 'training.leaders_digital_pct' THEN a.leaders
           WHEN 'training.planned_cadres_trained_pct' THEN a.planned
       END AS denominator,
       CASE WHEN i.indicator = 'training.leaders.unknown_post' THEN 'count' ELSE 'percent' END AS unit
FROM agg a
CROSS JOIN (VALUES ('training.leaders_trained_pct'), ('training.leaders_digital_pct'),
                   ('training.planned_cadres_trained_pct'), ('training.leaders.unknown_post')) AS i (indicator)
