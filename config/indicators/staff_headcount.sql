-- staff.headcount: staff rows (one per person on the roster).
-- Every indicator query returns: period, scope, indicator, value, numerator,
-- denominator, unit. The *_scoped views repeat each row once per scope
-- (province, level:<level>, department:<CODE>); see README "Indicators".
SELECT period, scope,
       'staff.headcount' AS indicator,
       CAST(COUNT(*) AS DOUBLE) AS value,
       CAST(NULL AS DOUBLE) AS numerator,
       CAST(NULL AS DOUBLE) AS denominator,
       'count' AS unit
FROM staff_scoped
GROUP BY period, scope
