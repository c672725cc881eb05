//! Output column names, with pandas' `_x`/`_y` suffixes for clashes.

/// The key column every cohort file has.
pub const KEY: &str = "patient_id";

/// The joined file's column names: every lhs column in order, then every rhs
/// column but the key. A non-key name in both files becomes `NAME_x` on the
/// lhs side and `NAME_y` on the rhs side, in place, as pandas `merge` does.
/// Names are compared and kept as bytes, so a CSV header that is not UTF-8
/// passes through unchanged. Fails when the result would hold the same
/// name twice.
pub fn joined_names<N: AsRef<[u8]>>(
    lhs: &[N],
    rhs_without_key: &[N],
) -> Result<Vec<Vec<u8>>, String> {
    let lhs: Vec<&[u8]> = lhs.iter().map(AsRef::as_ref).collect();
    let rhs: Vec<&[u8]> = rhs_without_key.iter().map(AsRef::as_ref).collect();
    let clashes =
        |name: &[u8]| name != KEY.as_bytes() && lhs.contains(&name) && rhs.contains(&name);
    let suffixed = |name: &[u8], suffix: &[u8]| -> Vec<u8> {
        if clashes(name) {
            [name, suffix].concat()
        } else {
            name.to_vec()
        }
    };
    let names: Vec<Vec<u8>> = lhs
        .iter()
        .map(|n| suffixed(n, b"_x"))
        .chain(rhs.iter().map(|n| suffixed(n, b"_y")))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for name in &names {
        if !seen.insert(name) {
            return Err(format!(
                "the joined file would have two columns named \"{}\"; rename one in an input",
                crate::table::text::display_text(name)
            ));
        }
    }
    Ok(names)
}

/// [`joined_names`] of text names (Arrow schemas), as text.
pub fn joined_text_names(
    lhs: &[String],
    rhs_without_key: &[String],
) -> Result<Vec<String>, String> {
    Ok(joined_names(lhs, rhs_without_key)?
        .into_iter()
        .map(|name| String::from_utf8(name).expect("UTF-8 names with ASCII suffixes"))
        .collect())
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
            joined_text_names(&lhs, &rhs).unwrap(),
            strings(&["a", "nulldate_x", "patient_id", "b", "nulldate_y", "c"])
        );
    }

    #[test]
    fn names_that_are_not_utf8_are_compared_as_bytes() {
        let lhs: Vec<&[u8]> = vec![b"caf\xe9", b"patient_id", b"\xff"];
        let rhs: Vec<&[u8]> = vec![b"caf\xe8", b"\xff"];
        let names = joined_names(&lhs, &rhs).unwrap();
        assert_eq!(
            names,
            [
                &b"caf\xe9"[..],
                b"patient_id",
                b"\xff_x",
                b"caf\xe8",
                b"\xff_y"
            ]
        );
    }

    #[test]
    fn suffixes_that_collide_are_refused() {
        let lhs = strings(&["a", "a_x", "patient_id"]);
        let rhs = strings(&["a"]);
        assert!(joined_names(&lhs, &rhs).unwrap_err().contains("\"a_x\""));
    }
}
