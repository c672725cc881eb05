//! Project nodes (an action's `config:`) as JSON, written exactly as
//! upstream passes them on: Python's `json.dumps`.

use crate::table::text::python_float;
use crate::yaml::{Node, Resolved, Value};

/// `node` as Python's `json.dumps` writes it: keys in file order, `", "` and
/// `": "` separators, non-ASCII characters escaped.
pub fn python_json(node: &Node) -> String {
    match &node.value {
        Value::Scalar(scalar) => match scalar.resolved {
            Resolved::Null => "null".into(),
            Resolved::Bool(b) => b.to_string(),
            Resolved::Int(i) => i.to_string(),
            Resolved::Float(f) if f.is_nan() => "NaN".into(),
            Resolved::Float(f) if f.is_infinite() => {
                if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
            }
            Resolved::Float(f) => python_float(f),
            Resolved::Str | Resolved::Tagged => json_string(&scalar.text),
        },
        Value::Seq(items) => format!(
            "[{}]",
            items.iter().map(python_json).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|e| format!("{}: {}", json_string(&e.key.text), python_json(&e.value)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A JSON string with every non-ASCII character escaped.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in serde_json::Value::from(text).to_string().chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Tags, parse};

    #[test]
    fn nodes_print_as_python_json() {
        let d = parse(
            "c: {name: \"it's\", n: [1, 2.5, 1e20, .inf], u: é, z: ~, b: true}\n",
            Tags::Check,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            python_json(d.get("c").unwrap()),
            r#"{"name": "it's", "n": [1, 2.5, 1e+20, Infinity], "u": "\u00e9", "z": null, "b": true}"#
        );
    }
}
