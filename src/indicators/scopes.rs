//! The scopes' SQL ([`SQL`], `scopes.sql`): the one definition of the
//! `department_scopes` table and the `<table>_scoped` views. nhanluc runs it
//! and publishes it in the warehouse (`_schemas/scopes.sql`) for every other
//! engine, so the views cannot drift between engines.

/// The text of `scopes.sql`, as nhanluc runs it and writes it.
pub const SQL: &str = include_str!("scopes.sql");

/// The table the text builds the scopes from: `code`, `level` (null for a
/// department no longer in the registry).
pub(super) const DEPARTMENT_CODES: &str = "department_codes";

/// The table every scoped view joins: one row per department and scope.
pub(super) const DEPARTMENT_SCOPES: &str = "department_scopes";

const VIEW_MARK: &str = "-- view:";
const TEMPLATE: &str = "{table}_scoped";

/// The SELECT behind each named view of `sql`, in the file's order.
fn sections(sql: &str) -> Vec<(&str, String)> {
    let mut sections: Vec<(&str, String)> = Vec::new();
    for line in sql.lines() {
        if let Some(name) = line.strip_prefix(VIEW_MARK) {
            sections.push((name.trim(), String::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    sections
}

/// The SELECT that builds `department_scopes` from `department_codes`.
pub(super) fn department_scopes() -> String {
    sections(SQL)
        .into_iter()
        .find(|(name, _)| *name == DEPARTMENT_SCOPES)
        .map(|(_, body)| body)
        .unwrap_or_default()
}

/// The SELECT behind `<table>_scoped`: the file's own view for the table,
/// else the template with `{table}` replaced.
pub(super) fn scoped_view(table: &str) -> String {
    let sections = sections(SQL);
    let own = format!("{table}_scoped");
    let find = |name: &str| {
        sections
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, body)| body.clone())
    };
    find(&own)
        .or_else(|| find(TEMPLATE).map(|body| body.replace("{table}", table)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_defines_the_scopes_table_then_every_tables_view() {
        let names: Vec<&str> = sections(SQL).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, [DEPARTMENT_SCOPES, "staff_scoped", TEMPLATE]);
        assert!(department_scopes().contains(&format!("FROM {DEPARTMENT_CODES}")));
    }

    #[test]
    fn staff_has_its_own_view_and_the_others_the_template() {
        let staff = scoped_view("staff");
        assert!(staff.contains("t.level"), "{staff}");
        let plan = scoped_view("plan");
        assert!(plan.contains("JOIN plan t ON"), "{plan}");
        assert!(
            !plan.contains("{table}") && !plan.contains("t.level"),
            "{plan}"
        );
    }
}
