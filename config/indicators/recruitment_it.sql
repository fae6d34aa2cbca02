-- IT recruitment (field = it: Công nghệ thông tin, Chuyển đổi số, An toàn
-- thông tin), over the scopes with any recruitment rows:
--   recruitment.it.fill_rate_pct  recruited / target, percent; a target of 0
--                                 (or no IT line at all): null
--   recruitment.it.resigned       sum of resigned (count)
--   recruitment.it.target         sum of the IT target (count)
--   recruitment.it.recruited      sum of IT recruited (count)
-- A blank recruited or resigned cell counts as 0.
WITH sums AS (
    SELECT period, scope,
           CAST(SUM(CASE WHEN field = 'it' THEN COALESCE(recruited, 0) ELSE 0 END) AS DOUBLE) AS recruited,
           CAST(SUM(CASE WHEN field = 'it' THEN COALESCE(target, 0) ELSE 0 END) AS DOUBLE) AS target,
           CAST(SUM(CASE WHEN field = 'it' THEN COALESCE(resigned, 0) ELSE 0 END) AS DOUBLE) AS resigned
    FROM recruitment_scoped
    GROUP BY period, scope
)
SELECT s.period, s.scope, i.indicator,
       CASE i.indicator
           WHEN 'recruitment.it.fill_rate_pct' THEN 100.0 * s.recruited / NULLIF(s.target, 0)
           WHEN 'recruitment.it.resigned' THEN s.resigned
           WHEN 'recruitment.it.target' THEN s.target
           WHEN 'recruitment.it.recruited' THEN s.recruited
       END AS value,
       CASE WHEN i.indicator = 'recruitment.it.fill_rate_pct' THEN s.recruited END AS numerator,
       CASE WHEN i.indicator = 'recruitment.it.fill_rate_pct' THEN s.target END AS denominator,
       CASE WHEN i.indicator = 'recruitment.it.fill_rate_pct' THEN 'percent' ELSE 'count' END AS unit
FROM sums s
CROSS JOIN (VALUES ('recruitment.it.fill_rate_pct'), ('recruitment.it.resigned'),
                   ('recruitment.it.target'), ('recruitment.it.recruited')) AS i (indicator)
