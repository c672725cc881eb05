//! The `pandas` schema metadata of a joined columnar file.
//!
//! pandas `to_feather`/`to_parquet` store, under the schema metadata key
//! `pandas`, a JSON description of each column's pandas dtype: without it a
//! nullable `Int64` column reads back as `float64` and a `category` as
//! plain text. The joined file describes its lhs columns as the lhs file
//! did and its rhs columns as the rhs file did, under their joined names
//! (`_x`/`_y`), and keeps the lhs file's index (the rows are the lhs rows).

use std::collections::HashMap;

use serde_json::{Map, Value};

/// The schema metadata key pandas writes.
pub const KEY: &str = "pandas";

/// The joined file's `pandas` metadata, from the inputs' (either may have
/// none). `lhs_names` and `rhs_names` (less the key) are the inputs'
/// column names, `joined` the output's, lhs first. `None` when neither
/// input has pandas metadata, or it is not the JSON object pandas writes
/// (then it is left out rather than carried over wrong).
pub fn joined(
    lhs: Option<&str>,
    rhs: Option<&str>,
    lhs_names: &[String],
    rhs_names: &[String],
    joined: &[String],
) -> Option<String> {
    let parse = |text: Option<&str>| -> Option<Map<String, Value>> {
        match serde_json::from_str(text?) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        }
    };
    let (lhs, rhs) = (parse(lhs), parse(rhs));
    if lhs.is_none() && rhs.is_none() {
        return None;
    }
    let lhs_renames: HashMap<&str, &str> = lhs_names
        .iter()
        .zip(joined)
        .map(|(old, new)| (old.as_str(), new.as_str()))
        .collect();
    let rhs_renames: HashMap<&str, &str> = rhs_names
        .iter()
        .zip(&joined[lhs_names.len()..])
        .map(|(old, new)| (old.as_str(), new.as_str()))
        .collect();

    let mut columns = Vec::new();
    // The lhs's entries, index columns included, renamed where suffixed.
    for entry in entries(lhs.as_ref()) {
        columns.push(renamed(entry, &lhs_renames, true));
    }
    // The rhs's entries for the columns joined (not its key or index).
    for entry in entries(rhs.as_ref()) {
        if field_name(entry).is_some_and(|name| rhs_renames.contains_key(name)) {
            columns.push(renamed(entry, &rhs_renames, false));
        }
    }
    let mut out = match lhs {
        Some(mut lhs) => {
            if let Some(Value::Array(index)) = lhs.get_mut("index_columns") {
                for column in index.iter_mut() {
                    if let Value::String(name) = column
                        && let Some(new) = lhs_renames.get(name.as_str())
                    {
                        *name = new.to_string();
                    }
                }
            }
            lhs
        }
        None => {
            // The rhs's index does not describe the lhs rows: pandas makes
            // a default one.
            let mut rhs = rhs.expect("one of them");
            rhs.insert("index_columns".into(), Value::Array(Vec::new()));
            rhs
        }
    };
    out.insert("columns".into(), Value::Array(columns));
    Some(Value::Object(out).to_string())
}

fn entries(metadata: Option<&Map<String, Value>>) -> impl Iterator<Item = &Value> {
    metadata
        .and_then(|m| m.get("columns"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn field_name(entry: &Value) -> Option<&str> {
    entry
        .get("field_name")
        .or_else(|| entry.get("name"))
        .and_then(Value::as_str)
}

/// `entry` under its joined name. Entries of columns not renamed (an lhs
/// index column) are kept as they are when `keep_others`.
fn renamed(entry: &Value, renames: &HashMap<&str, &str>, keep_others: bool) -> Value {
    let mut entry = entry.clone();
    let Some(new) = field_name(&entry)
        .and_then(|name| renames.get(name))
        .copied()
    else {
        debug_assert!(keep_others);
        return entry;
    };
    if let Value::Object(map) = &mut entry {
        let label_is_field =
            map.get("name") == map.get("field_name") || !map.contains_key("field_name");
        map.insert("field_name".into(), Value::String(new.into()));
        if label_is_field {
            map.insert("name".into(), Value::String(new.into()));
        }
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn both_sides_are_described_under_their_joined_names() {
        let lhs = r#"{"index_columns": [{"kind": "range", "start": 0, "stop": 3, "step": 1}],
            "columns": [{"name": "patient_id", "field_name": "patient_id", "numpy_type": "int64"},
                        {"name": "a", "field_name": "a", "numpy_type": "Int64"}]}"#;
        let rhs = r#"{"index_columns": [],
            "columns": [{"name": "patient_id", "field_name": "patient_id", "numpy_type": "int64"},
                        {"name": "a", "field_name": "a", "numpy_type": "float64"},
                        {"name": "c", "field_name": "c", "pandas_type": "categorical"}]}"#;
        let out = joined(
            Some(lhs),
            Some(rhs),
            &names(&["patient_id", "a"]),
            &names(&["a", "c"]),
            &names(&["patient_id", "a_x", "a_y", "c"]),
        )
        .unwrap();
        let out: Value = serde_json::from_str(&out).unwrap();
        let fields: Vec<&str> = out["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["field_name"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["patient_id", "a_x", "a_y", "c"]);
        assert_eq!(out["columns"][1]["numpy_type"], "Int64");
        assert_eq!(out["columns"][1]["name"], "a_x");
        assert_eq!(out["index_columns"][0]["stop"], 3);
    }

    #[test]
    fn without_pandas_metadata_there_is_none() {
        let some = names(&["patient_id"]);
        assert_eq!(joined(None, None, &some, &[], &some), None);
        assert_eq!(joined(Some("not json"), None, &some, &[], &some), None);
    }
}
