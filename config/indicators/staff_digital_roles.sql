-- Staff in digital transformation and information security roles (counts):
--   staff.digital.dedicated  staff with digital_role = dedicated (Chuyên trách)
--   staff.digital.part_time  staff with digital_role = part_time (Kiêm nhiệm)
--   staff.infosec.total      staff with an information security role,
--                            dedicated or part-time
WITH counts AS (
    SELECT period, scope,
           CAST(SUM(CASE WHEN digital_role = 'dedicated' THEN 1 ELSE 0 END) AS DOUBLE) AS digital_dedicated,
           CAST(SUM(CASE WHEN digital_role = 'part_time' THEN 1 ELSE 0 END) AS DOUBLE) AS digital_part_time,
           CAST(SUM(CASE WHEN infosec_role IN ('dedicated', 'part_time') THEN 1 ELSE 0 END) AS DOUBLE) AS infosec
    FROM staff_scoped
    GROUP BY period, scope
)
SELECT c.period, c.scope, i.indicator,
       CASE i.indicator
           WHEN 'staff.digital.dedicated' THEN c.digital_dedicated
           WHEN 'staff.digital.part_time' THEN c.digital_part_time
           WHEN 'staff.infosec.total' THEN c.infosec
       END AS value,
       CAST(NULL AS DOUBLE) AS numerator,
       CAST(NULL AS DOUBLE) AS denominator,
       'count' AS unit
FROM counts c
CROSS JOIN (VALUES ('staff.digital.dedicated'),
                   ('staff.digital.part_time'),
                   ('staff.infosec.total')) AS i (indicator)
