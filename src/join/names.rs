//! Output column names, with pandas' `_x`/`_y` suffixes for clashes.

/// The key column every cohort file has.
pub const KEY: &str = "patient_id";

/// The joined file's column names: every lhs column in order, then every rhs
/// column but the key. A non-key name in both files becomes `NAME_x` on the
/// lhs side and `NAME_y` on the rhs side, in place, as pandas `merge` does.
/// Fails when the result would hold the same name twice.
pub fn joined_names(lhs: &[String], rhs_without_key: &[String]) -> Result<Vec<String>, String> {
    let clashes =
        |name: &String| name != KEY && lhs.contains(name) && rhs_without_key.contains(name);
    let mut names: Vec<String> = lhs
        .iter()
        .map(|n| {
            if clashes(n) {
                format!("{n}_x")
            } else {
                n.clone()
            }
        })
        .collect();
    names.extend(rhs_without_key.iter().map(|n| {
        if clashes(n) {
            format!("{n}_y")
        } else {
            n.clone()
        }
    }));
    let mut seen = std::collections::HashSet::new();
    for name in &names {
        if !seen.insert(name) {
            return Err(format!(
                "the joined file would have two columns named {name:?}; rename one in an input"
            ));
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn clashing_names_get_pandas_suffixes_in_place() {
        let lhs = strings(&["a", "nulldate", "patient_id"]);
        let rhs = strings(&["b", "nulldate", "c"]);
        assert_eq!(
            joined_names(&lhs, &rhs).unwrap(),
            strings(&["a", "nulldate_x", "patient_id", "b", "nulldate_y", "c"])
        );
    }

    #[test]
    fn suffixes_that_collide_are_refused() {
        let lhs = strings(&["a", "a_x", "patient_id"]);
        let rhs = strings(&["a"]);
        assert!(joined_names(&lhs, &rhs).unwrap_err().contains("\"a_x\""));
    }
}
