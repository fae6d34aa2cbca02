-- The scopes the indicator files group by, as nhanluc defines them. nhanluc
-- runs this text itself and writes it to <warehouse>/_schemas/scopes.sql, so
-- another engine (deploy/spark/indicators.py, DuckDB) defines the same views
-- from the same text instead of a copy.
--
-- How to read it: each "-- view: <name>" line starts the SELECT behind one
-- view (or table), defined in the order given. "{table}" stands for each of
-- the tables staff, training, plan, recruitment, rejects and submissions; a
-- view named for one table replaces the template there.
--
-- The engine provides department_codes (code, level): every department of the
-- registry with its level, and every department found in the warehouse but no
-- longer in the registry, with a null level (it keeps its province and
-- department scopes and has no level scope).

-- view: department_scopes
SELECT code, 'province' AS kind, 'province' AS scope, level FROM department_codes
UNION ALL
SELECT code, 'level' AS kind, 'level:' || level AS scope, level FROM department_codes WHERE level IS NOT NULL
UNION ALL
SELECT code, 'department' AS kind, 'department:' || code AS scope, level FROM department_codes

-- view: staff_scoped
-- A staff row's own level comes first: a commune-level officer on a
-- district's roster counts at commune level.
SELECT CASE WHEN s.kind = 'level' THEN 'level:' || COALESCE(CAST(t.level AS STRING), s.level) ELSE s.scope END AS scope, t.*
FROM department_scopes s JOIN staff t ON s.code = t.department

-- view: {table}_scoped
SELECT s.scope AS scope, t.*
FROM department_scopes s JOIN {table} t ON s.code = t.department
