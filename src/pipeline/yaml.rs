//! YAML 1.2 documents as trees that remember the line of every node.
//!
//! Built on `saphyr-parser` events: scalars are resolved with the YAML 1.2
//! core schema (`yes` and `on` stay strings), anchors and aliases are
//! expanded, `<<` merge keys are applied, and duplicate keys are reported
//! with both line numbers (all of them, not just the first).

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr::Scalar;
use saphyr_parser::{Event, Parser, ScalarStyle, Span, SpannedEventReceiver, Tag};

/// A node of the document and the 1-based line where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub value: Value,
    /// The line where the node starts.
    pub line: usize,
}

/// A resolved YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string (quoted, or plain text that is nothing else).
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<Entry>),
}

/// One key of a mapping and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as written (scalar keys only).
    pub key: String,
    /// The line of the key.
    pub line: usize,
    /// The value.
    pub value: Node,
}

/// A problem that stops the document from being read, with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// What is wrong.
    pub message: String,
    /// The 1-based line, where one is known.
    pub line: Option<usize>,
}

impl Value {
    /// The name of the value's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }
}

impl Node {
    /// The string this node holds, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entries of this node, if it is a mapping.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value of `key`, if this node is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }

    /// The node as Python's `json.dumps` writes it: keys in file order,
    /// `", "` and `": "` separators, non-ASCII characters escaped.
    pub fn to_python_json(&self) -> String {
        match &self.value {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) if f.is_nan() => "NaN".into(),
            Value::Float(f) if f.is_infinite() => {
                if *f > 0.0 { "Infinity" } else { "-Infinity" }.into()
            }
            Value::Float(f) => crate::table::text::python_float(*f),
            Value::Str(s) => json_string(s),
            Value::Seq(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(Node::to_python_json)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Map(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|e| format!("{}: {}", json_string(&e.key), e.value.to_python_json()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
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

/// Reads the single document in `text`. Every duplicate key is reported;
/// other problems stop at the first.
pub fn parse(text: &str) -> Result<Node, Vec<YamlError>> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        return Err(vec![YamlError {
            message: format!("invalid YAML: {}", e.info()),
            line: Some(e.marker().line()),
        }]);
    }
    if let Some(error) = builder.fatal {
        return Err(vec![error]);
    }
    if !builder.duplicates.is_empty() {
        return Err(builder.duplicates);
    }
    match builder.documents.len() {
        0 => Err(vec![YamlError {
            message: "the file is empty".into(),
            line: None,
        }]),
        1 => Ok(builder.documents.pop().expect("one document")),
        _ => Err(vec![YamlError {
            message: "the file holds several YAML documents (separated by `---`); it must hold one"
                .into(),
            line: builder.documents.get(1).map(|d| d.line),
        }]),
    }
}

/// A collection being built.
#[derive(Debug)]
enum Frame {
    Seq {
        items: Vec<Node>,
        line: usize,
        anchor: usize,
    },
    Map {
        entries: Vec<Entry>,
        /// A key waiting for its value: text, line, whether it is `<<`.
        key: Option<(String, usize, bool)>,
        /// Mappings merged in with `<<`, in order of precedence.
        merged: Vec<Node>,
        line: usize,
        anchor: usize,
    },
}

#[derive(Debug, Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    documents: Vec<Node>,
    duplicates: Vec<YamlError>,
    fatal: Option<YamlError>,
}

impl<'input> SpannedEventReceiver<'input> for Builder {
    fn on_event(&mut self, event: Event<'input>, span: Span) {
        if self.fatal.is_some() {
            return;
        }
        let line = span.start.line();
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let is_merge_key = style == ScalarStyle::Plain && text == "<<" && tag.is_none();
                if self.awaiting_key() {
                    self.push_key(text.into_owned(), line, is_merge_key);
                    return;
                }
                match resolve(text, style, tag.as_ref()) {
                    Some(value) => self.finish(Node { value, line }, anchor),
                    None => self.fail("a scalar does not match its `!!` tag", line),
                }
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) if self.awaiting_key() => match scalar_text(&node.value) {
                    Some(text) => self.push_key(text, line, false),
                    None => self.fail("mapping keys must be scalars", line),
                },
                Some(node) => self.finish(node, 0),
                None => self.fail("an alias refers to an unknown anchor", line),
            },
            Event::SequenceStart(anchor, _) => {
                if self.awaiting_key() {
                    return self.fail("mapping keys must be scalars", line);
                }
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    line,
                    anchor,
                });
            }
            Event::MappingStart(anchor, _) => {
                if self.awaiting_key() {
                    return self.fail("mapping keys must be scalars", line);
                }
                self.stack.push(Frame::Map {
                    entries: Vec::new(),
                    key: None,
                    merged: Vec::new(),
                    line,
                    anchor,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq {
                        items,
                        line,
                        anchor,
                    }) => (
                        Node {
                            value: Value::Seq(items),
                            line,
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        mut entries,
                        merged,
                        line,
                        anchor,
                        ..
                    }) => {
                        apply_merges(&mut entries, merged);
                        (
                            Node {
                                value: Value::Map(entries),
                                line,
                            },
                            anchor,
                        )
                    }
                    None => return,
                };
                self.finish(node, anchor);
            }
            Event::DocumentEnd
            | Event::DocumentStart(_)
            | Event::StreamStart
            | Event::StreamEnd
            | Event::Nothing => {}
        }
    }
}

impl Builder {
    fn awaiting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn push_key(&mut self, text: String, line: usize, is_merge: bool) {
        if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
            *key = Some((text, line, is_merge));
        }
    }

    fn fail(&mut self, message: &str, line: usize) {
        self.fatal = Some(YamlError {
            message: message.into(),
            line: Some(line),
        });
    }

    /// Places a complete node in its parent (or as a document).
    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                key,
                merged,
                ..
            }) => {
                let (key, line, is_merge) = key.take().expect("a value follows its key");
                if is_merge {
                    match merge_sources(node) {
                        Ok(sources) => merged.extend(sources),
                        Err(line) => self.fail(
                            "a `<<` merge key needs a mapping or a list of mappings",
                            line,
                        ),
                    }
                    return;
                }
                if let Some(first) = entries.iter().find(|e| e.key == key) {
                    self.duplicates.push(YamlError {
                        message: format!("duplicate key `{key}` (lines {} and {line})", first.line),
                        line: Some(line),
                    });
                    return;
                }
                entries.push(Entry {
                    key,
                    line,
                    value: node,
                });
            }
        }
    }
}

/// The mappings a `<<` value merges in, or the line of the offending node.
fn merge_sources(node: Node) -> Result<Vec<Node>, usize> {
    match node.value {
        Value::Map(_) => Ok(vec![node]),
        Value::Seq(items) if items.iter().all(|n| matches!(n.value, Value::Map(_))) => Ok(items),
        _ => Err(node.line),
    }
}

/// Adds merged keys the mapping does not set itself; earlier sources win.
fn apply_merges(entries: &mut Vec<Entry>, merged: Vec<Node>) {
    for source in merged {
        if let Value::Map(source) = source.value {
            for entry in source {
                if !entries.iter().any(|e| e.key == entry.key) {
                    entries.push(entry);
                }
            }
        }
    }
}

/// Resolves a scalar with the core schema; `None` for a tag it does not fit.
fn resolve(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Cow<'_, Tag>>) -> Option<Value> {
    Some(
        match Scalar::parse_from_cow_and_metadata(text, style, tag)? {
            Scalar::Null => Value::Null,
            Scalar::Boolean(b) => Value::Bool(b),
            Scalar::Integer(i) => Value::Int(i),
            Scalar::FloatingPoint(f) => Value::Float(f.into_inner()),
            Scalar::String(s) => Value::Str(s.into_owned()),
        },
    )
}

/// The text of a scalar used as a key through an alias.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("null".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Str(s) => Some(s.clone()),
        Value::Seq(_) | Value::Map(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Node {
        parse(text).unwrap()
    }

    #[test]
    fn scalars_follow_the_yaml_1_2_core_schema() {
        let d = doc("a: yes\nb: on\nc: 3\nd: '3.0'\ne: 3.5\nf: ~\ng: true\nh:\n");
        assert_eq!(d.get("a").unwrap().value, Value::Str("yes".into()));
        assert_eq!(d.get("b").unwrap().value, Value::Str("on".into()));
        assert_eq!(d.get("c").unwrap().value, Value::Int(3));
        assert_eq!(d.get("d").unwrap().value, Value::Str("3.0".into()));
        assert_eq!(d.get("e").unwrap().value, Value::Float(3.5));
        assert_eq!(d.get("f").unwrap().value, Value::Null);
        assert_eq!(d.get("g").unwrap().value, Value::Bool(true));
        assert_eq!(d.get("h").unwrap().value, Value::Null);
    }

    #[test]
    fn nodes_know_their_lines() {
        let d = doc("version: 3\n\nactions:\n  a:\n    run: x:v1\n");
        let actions = d.get("actions").unwrap();
        assert_eq!(actions.as_map().unwrap()[0].line, 4);
        assert_eq!(actions.get("a").unwrap().get("run").unwrap().line, 5);
    }

    #[test]
    fn every_duplicate_key_is_reported_with_both_lines() {
        let errors = parse("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n").unwrap_err();
        let messages: Vec<_> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "duplicate key `c` (lines 3 and 4)",
                "duplicate key `a` (lines 1 and 5)"
            ]
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys_are_expanded() {
        let d =
            doc("base: &b\n  run: x:v1\n  needs: [a]\nother:\n  <<: *b\n  needs: [c]\nlist: *b\n");
        let other = d.get("other").unwrap();
        assert_eq!(other.get("run").unwrap().as_str(), Some("x:v1"));
        assert_eq!(other.get("needs").unwrap().to_python_json(), r#"["c"]"#);
        assert_eq!(
            d.get("list").unwrap().get("run").unwrap().as_str(),
            Some("x:v1")
        );
    }

    #[test]
    fn empty_files_several_documents_and_syntax_errors_are_clear() {
        assert_eq!(parse("").unwrap_err()[0].message, "the file is empty");
        assert_eq!(
            parse("# just a comment\n").unwrap_err()[0].message,
            "the file is empty"
        );
        let several = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(several[0].message.contains("several YAML documents"));
        let syntax = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(syntax[0].message.starts_with("invalid YAML"), "{syntax:?}");
        assert!(syntax[0].line.is_some());
    }

    #[test]
    fn nodes_print_as_python_json() {
        let d = doc("c: {name: \"it's\", n: [1, 2.5, 1e20, .inf], u: é, z: ~, b: true}\n");
        assert_eq!(
            d.get("c").unwrap().to_python_json(),
            r#"{"name": "it's", "n": [1, 2.5, 1e+20, Infinity], "u": "\u00e9", "z": null, "b": true}"#
        );
    }

    #[test]
    fn folded_blocks_keep_the_newlines_of_more_indented_lines() {
        let d = doc("run: >\n  tool:v1\n    --a x\n    --b y\n");
        assert_eq!(
            d.get("run").unwrap().as_str(),
            Some("tool:v1\n  --a x\n  --b y\n")
        );
    }
}
