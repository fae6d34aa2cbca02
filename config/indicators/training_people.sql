-- training.people: distinct people trained (not attendances). A person is
-- their person_id; a row without one is the person with that full name and
-- birth date (two rows with the same name and no birth date are one person).
-- A person counts once in a scope however many courses they attended.
-- Counted as the distinct (scope, person) pairs: the same result as
-- COUNT(DISTINCT …) per scope, with a third of the memory at country scale.
WITH people AS (
    SELECT DISTINCT period, scope,
           COALESCE(person_id, full_name || '|' || COALESCE(CAST(birth_date AS STRING), '')) AS person
    FROM training_scoped
)
SELECT period, scope,
       'training.people' AS indicator,
       CAST(COUNT(*) AS DOUBLE) AS value,
       CAST(NULL AS DOUBLE) AS numerator,
       CAST(NULL AS DOUBLE) AS denominator,
       'count' AS unit
FROM people
GROUP BY period, scope
