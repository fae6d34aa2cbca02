-- training.fits_post_pct: attendances (training rows) whose category fits the
-- attendee's post group (the table competencies(post_group, category), from
-- config/competencies.toml), percent of the attendances whose attendee is on
-- a roster of the period with a post group. The attendee is matched to a
-- roster row anywhere in the province by person_id, else (a training row
-- without one) by full name + birth date, and the attendance counts in the
-- attendee's scopes (roster department, the staff row's level), whoever
-- reported it; an attendance counts once per scope however many roster rows
-- it matches. Counted apart, never guessed:
-- training.fits_post.unmatched: attendances that match no roster row (in the
-- reporting department's scopes); training.fits_post.no_post_group: matched
-- attendances whose attendee's position names no post of config/posts.toml.
-- Rows exist where there is training or a matched attendance.
WITH matches AS (
    SELECT s.period, s.scope, CAST(s.post_group AS STRING) AS post_group,
           CAST(t.category AS STRING) AS category,
           t.submission_id || '/' || t.source_sheet || '/' || CAST(t.source_row AS STRING) AS attendance
    FROM training t
    JOIN staff_scoped s ON s.period = t.period AND s.person_id = t.person_id
    UNION ALL
    SELECT s.period, s.scope, CAST(s.post_group AS STRING) AS post_group,
           CAST(t.category AS STRING) AS category,
           t.submission_id || '/' || t.source_sheet || '/' || CAST(t.source_row AS STRING) AS attendance
    FROM training t
    JOIN staff_scoped s
      ON s.period = t.period AND s.full_name = t.full_name AND s.birth_date = t.birth_date
    WHERE t.person_id IS NULL
),
judged AS (
    SELECT m.period, m.scope,
           CAST(COUNT(DISTINCT CASE WHEN m.post_group IS NOT NULL THEN m.attendance END) AS DOUBLE) AS judged,
           CAST(COUNT(DISTINCT CASE WHEN c.category IS NOT NULL THEN m.attendance END) AS DOUBLE) AS fitting,
           CAST(COUNT(DISTINCT CASE WHEN m.post_group IS NULL THEN m.attendance END) AS DOUBLE) AS no_group
    FROM matches m
    LEFT JOIN competencies c ON c.post_group = m.post_group AND c.category = m.category
    GROUP BY m.period, m.scope
),
roster_ids AS (
    SELECT DISTINCT period, person_id FROM staff WHERE person_id IS NOT NULL
),
roster_names AS (
    SELECT DISTINCT period, full_name, birth_date
    FROM staff
    WHERE full_name IS NOT NULL AND birth_date IS NOT NULL
),
reported AS (
    SELECT t.period, t.scope,
           CAST(SUM(CASE
               WHEN t.person_id IS NOT NULL AND i.person_id IS NULL THEN 1
               WHEN t.person_id IS NULL AND n.full_name IS NULL THEN 1
               ELSE 0 END) AS DOUBLE) AS unmatched
    FROM training_scoped t
    LEFT JOIN roster_ids i ON i.period = t.period AND i.person_id = t.person_id
    LEFT JOIN roster_names n
      ON n.period = t.period AND n.full_name = t.full_name AND n.birth_date = t.birth_date
    GROUP BY t.period, t.scope
),
scopes AS (
    SELECT COALESCE(j.period, r.period) AS period,
           COALESCE(j.scope, r.scope) AS scope,
           COALESCE(j.judged, 0) AS judged,
           COALESCE(j.fitting, 0) AS fitting,
           COALESCE(j.no_group, 0) AS no_group,
           COALESCE(r.unmatched, 0) AS unmatched
    FROM judged j
    FULL OUTER JOIN reported r ON r.period = j.period AND r.scope = j.scope
)
SELECT s.period, s.scope, i.indicator,
       CASE i.indicator
           WHEN 'training.fits_post_pct' THEN 100.0 * s.fitting / NULLIF(s.judged, 0)
           WHEN 'training.fits_post.unmatched' THEN s.unmatched
           ELSE s.no_group
       END AS value,
       CASE WHEN i.indicator = 'training.fits_post_pct' THEN s.fitting END AS numerator,
       CASE WHEN i.indicator = 'training.fits_post_pct' THEN s.judged END AS denominator,
       CASE WHEN i.indicator = 'training.fits_post_pct' THEN 'percent' ELSE 'count' END AS unit
FROM scopes s
CROSS JOIN (VALUES ('training.fits_post_pct'), ('training.fits_post.unmatched'),
                   ('training.fits_post.no_post_group')) AS i (indicator)
