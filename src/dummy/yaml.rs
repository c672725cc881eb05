//! Reading YAML with line numbers, and writing the scalars of a schema.
//!
//! Scalars are kept as written (not resolved to numbers or booleans by the
//! loader), so a category label `'007'` or `1` reads back as the text it is,
//! and numbers are parsed where a number is expected.

use std::borrow::Cow;

use saphyr::{MarkedYaml, ScalarStyle, YamlData, YamlLoader};
use saphyr_parser::Parser;

/// A YAML node with its position.
pub type Node<'a> = MarkedYaml<'a>;

/// A problem at a line of a YAML file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// 1-based line.
    pub line: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl Problem {
    /// A problem at `node`'s line.
    pub fn at(node: &Node, message: impl Into<String>) -> Problem {
        Problem {
            line: line(node),
            message: message.into(),
        }
    }
}

/// Parses the single document of `text` (an empty text is an empty mapping's
/// absence: `None`).
pub fn load(text: &str) -> Result<Option<Node<'_>>, Problem> {
    let mut loader: YamlLoader<Node> = YamlLoader::default();
    loader.early_parse(false);
    // Study dumps alias large codelists many times.
    loader.alias_limit(50_000_000);
    let mut parser = Parser::new_from_str(text);
    let scan = |e: &saphyr::ScanError| Problem {
        line: e.marker().line(),
        message: format!("invalid YAML: {}", e.info()),
    };
    parser.load(&mut loader, true).map_err(|e| scan(&e))?;
    if let Some(error) = loader.error() {
        return Err(scan(error));
    }
    let mut documents = loader.into_documents();
    match documents.len() {
        0 => Ok(None),
        1 => Ok(documents.pop()),
        _ => Err(Problem {
            line: line(&documents[1]),
            message: "expected one YAML document, found several".into(),
        }),
    }
}

/// The 1-based line where `node` starts.
pub fn line(node: &Node) -> usize {
    node.span.start.line()
}

/// `node` without any tag (`!!python/tuple [...]` is read as `[...]`).
pub fn untagged<'a, 'b>(node: &'b Node<'a>) -> &'b Node<'a> {
    match &node.data {
        YamlData::Tagged(_, inner) => untagged(inner),
        _ => node,
    }
}

/// The text of a scalar and whether it was plain (unquoted).
pub fn scalar<'b>(node: &'b Node) -> Option<(&'b str, bool)> {
    match &untagged(node).data {
        YamlData::Representation(text, style, _) => Some((text, *style == ScalarStyle::Plain)),
        _ => None,
    }
}

/// Whether the node is `null`, `~` or empty.
pub fn is_null(node: &Node) -> bool {
    matches!(
        scalar(node),
        Some(("null" | "Null" | "NULL" | "~" | "", true))
    )
}

/// The text of a scalar that is not null.
pub fn text<'b>(node: &'b Node) -> Option<&'b str> {
    scalar(node).filter(|_| !is_null(node)).map(|(t, _)| t)
}

/// A plain scalar read as a number.
pub fn number(node: &Node) -> Option<f64> {
    match scalar(node) {
        Some((text, true)) => parse_number(text),
        _ => None,
    }
}

/// A YAML 1.2 core-schema number (`1`, `-2.5`, `1e-3`, `.5`).
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim_start_matches('+');
    let first_ok = t
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || b == b'-' || b == b'.');
    if !first_ok || t.contains(['_', 'x', 'o']) {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The key-value pairs of a mapping.
pub fn mapping<'b, 'a>(node: &'b Node<'a>) -> Option<Vec<(&'b Node<'a>, &'b Node<'a>)>> {
    match &untagged(node).data {
        YamlData::Mapping(map) => Some(map.iter().collect()),
        _ => None,
    }
}

/// The items of a sequence.
pub fn sequence<'b, 'a>(node: &'b Node<'a>) -> Option<&'b [Node<'a>]> {
    match &untagged(node).data {
        YamlData::Sequence(items) => Some(items),
        _ => None,
    }
}

/// The value under `key` in a mapping node.
pub fn get<'b, 'a>(node: &'b Node<'a>, key: &str) -> Option<&'b Node<'a>> {
    mapping(node)?
        .into_iter()
        .find(|(k, _)| text(k) == Some(key))
        .map(|(_, v)| v)
}

/// Text as a YAML scalar: plain where that reads back as the same string,
/// single-quoted otherwise.
pub fn quote(text: &str) -> Cow<'_, str> {
    let plain_safe = text
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-. ()/".contains(&b))
        && !text.ends_with(' ')
        && !RESERVED.contains(&text.to_ascii_lowercase().as_str());
    if plain_safe {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("'{}'", text.replace('\'', "''")))
    }
}

/// Plain words that YAML 1.1 or 1.2 readers take for something else.
const RESERVED: [&str; 12] = [
    "null", "true", "false", "yes", "no", "on", "off", "y", "n", ".nan", ".inf", "~",
];

/// A number as written in schemas: integers without a fraction, other
/// values with the shortest digits that read back exactly.
pub fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        crate::table::text::python_float(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_keep_their_text_and_position() {
        let doc = load("a: 1\nb: '007'\nc: null\nd: !!python/tuple\n- x\n")
            .unwrap()
            .unwrap();
        assert_eq!(number(get(&doc, "a").unwrap()), Some(1.0));
        assert_eq!(text(get(&doc, "b").unwrap()), Some("007"));
        assert_eq!(number(get(&doc, "b").unwrap()), None);
        assert!(is_null(get(&doc, "c").unwrap()));
        let d = get(&doc, "d").unwrap();
        assert_eq!(sequence(d).unwrap().len(), 1);
        assert_eq!(line(get(&doc, "c").unwrap()), 3);
    }

    #[test]
    fn syntax_errors_name_their_line() {
        let problem = load("a: 1\nb: [1, 2\n").unwrap_err();
        assert!(problem.line >= 2, "{problem:?}");
        let duplicate = load("a: 1\na: 2\n").unwrap_err();
        assert_eq!(duplicate.line, 2, "{duplicate:?}");
    }

    #[test]
    fn quoted_text_reads_back_as_itself() {
        for text in [
            "M",
            "North East",
            "1",
            "007",
            "null",
            "yes",
            "it's",
            "",
            "a: b",
            "80+",
        ] {
            let yaml = format!("k: {}\n", quote(text));
            let doc = load(&yaml).unwrap().unwrap();
            let node = get(&doc, "k").unwrap();
            assert_eq!(scalar(node).map(|s| s.0), Some(text), "{yaml}");
            assert!(!is_null(node), "{yaml}");
        }
        assert_eq!(quote("flucats_template"), "flucats_template");
    }

    #[test]
    fn numbers_print_compactly_and_exactly() {
        assert_eq!(format_number(25.0), "25");
        assert_eq!(format_number(0.002173913043478261), "0.002173913043478261");
        assert_eq!(format_number(-1.5), "-1.5");
        assert_eq!(
            parse_number("0.002173913043478261"),
            Some(0.002173913043478261)
        );
        assert_eq!(parse_number("1e-3"), Some(0.001));
        assert_eq!(parse_number("2020-01-01"), None);
        assert_eq!(parse_number("abc"), None);
    }
}
