-- staff.qualification.*_pct: qualification structure, percent of headcount.
WITH counts AS (
    SELECT period, scope,
           CAST(COUNT(*) AS DOUBLE) AS headcount,
           CAST(SUM(CASE WHEN qualification IN ('doctorate', 'master') THEN 1 ELSE 0 END) AS DOUBLE) AS postgraduate,
           CAST(SUM(CASE WHEN qualification = 'university' THEN 1 ELSE 0 END) AS DOUBLE) AS university,
           CAST(SUM(CASE WHEN qualification IN ('college', 'intermediate') THEN 1 ELSE 0 END) AS DOUBLE) AS college_vocational,
           CAST(SUM(CASE WHEN qualification IN ('elementary', 'none') OR qualification IS NULL THEN 1 ELSE 0 END) AS DOUBLE) AS other
    FROM staff_scoped
    GROUP BY period, scope
)
SELECT period, scope, 'staff.qualification.postgraduate_pct' AS indicator,
       100.0 * postgraduate / NULLIF(headcount, 0) AS value, postgraduate AS numerator, headcount AS denominator, 'percent' AS unit
FROM counts
UNION ALL
SELECT period, scope, 'staff.qualification.university_pct',
       100.0 * university / NULLIF(headcount, 0), university, headcount, 'percent'
FROM counts
UNION ALL
SELECT period, scope, 'staff.qualification.college_vocational_pct',
       100.0 * college_vocational / NULLIF(headcount, 0), college_vocational, headcount, 'percent'
FROM counts
UNION ALL
SELECT period, scope, 'staff.qualification.other_pct',
       100.0 * other / NULLIF(headcount, 0), other, headcount, 'percent'
FROM counts
