-- training.category.<category>: participants (training rows) per category,
-- one id per category value of the training template: professional,
-- political_theory, state_management, leadership, defense_security,
-- foreign_language, digital, ethnic_language, other. Every scope with training
-- gets all nine ids (0 where none). To count a category value added to the
-- template, add it to both lists below.
WITH counts AS (
    SELECT period, scope,
           CAST(SUM(CASE WHEN category = 'professional' THEN 1 ELSE 0 END) AS DOUBLE) AS professional,
           CAST(SUM(CASE WHEN category = 'political_theory' THEN 1 ELSE 0 END) AS DOUBLE) AS political_theory,
           CAST(SUM(CASE WHEN category = 'state_management' THEN 1 ELSE 0 END) AS DOUBLE) AS state_management,
           CAST(SUM(CASE WHEN category = 'leadership' THEN 1 ELSE 0 END) AS DOUBLE) AS leadership,
           CAST(SUM(CASE WHEN category = 'defense_security' THEN 1 ELSE 0 END) AS DOUBLE) AS defense_security,
           CAST(SUM(CASE WHEN category = 'foreign_language' THEN 1 ELSE 0 END) AS DOUBLE) AS foreign_language,
           CAST(SUM(CASE WHEN category = 'digital' THEN 1 ELSE 0 END) AS DOUBLE) AS digital,
           CAST(SUM(CASE WHEN category = 'ethnic_language' THEN 1 ELSE 0 END) AS DOUBLE) AS ethnic_language,
           CAST(SUM(CASE WHEN category = 'other' THEN 1 ELSE 0 END) AS DOUBLE) AS other
    FROM training_scoped
    GROUP BY period, scope
)
SELECT c.period, c.scope,
       'training.category.' || k.category AS indicator,
       CASE k.category
           WHEN 'professional' THEN c.professional
           WHEN 'political_theory' THEN c.political_theory
           WHEN 'state_management' THEN c.state_management
           WHEN 'leadership' THEN c.leadership
           WHEN 'defense_security' THEN c.defense_security
           WHEN 'foreign_language' THEN c.foreign_language
           WHEN 'digital' THEN c.digital
           WHEN 'ethnic_language' THEN c.ethnic_language
           WHEN 'other' THEN c.other
       END AS value,
       CAST(NULL AS DOUBLE) AS numerator,
       CAST(NULL AS DOUBLE) AS denominator,
       'count' AS unit
FROM counts c
CROSS JOIN (VALUES ('professional'), ('political_theory'), ('state_management'),
                   ('leadership'), ('defense_security'), ('foreign_language'),
                   ('digital'), ('ethnic_language'), ('other')) AS k (category)
