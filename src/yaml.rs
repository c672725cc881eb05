//! The one YAML layer: a document as a tree that remembers the line of every
//! node, read from `saphyr-parser` events.
//!
//! - Scalars keep their text as written and whether they were plain
//!   (unquoted), so that a schema reads `'007'` back as text, and their value
//!   under the YAML 1.2 core schema (`yes` and `on` stay strings), which the
//!   pipeline needs.
//! - An alias stands for its anchor's node (shared, not copied), and `<<`
//!   merge keys are applied: keys the mapping sets itself win, then earlier
//!   merged mappings.
//! - Every duplicate key is reported with both lines, not just the first.
//! - Tags on collections (`!!python/tuple [...]`) are ignored; tags on
//!   scalars follow [`Tags`].
//!
//! # Bounds
//!
//! A few nested aliases can describe an exponentially large tree (the
//! "billion laughs": nine lines of nine aliases each make 387 million nodes).
//! An alias shares the anchored node rather than copying it, so reading
//! costs memory in proportion to the file; but whoever walks the tree walks
//! every node an alias stands for. So every alias is measured when it is
//! met, and the document is refused once aliases stand for more than
//! [`MAX_ALIAS_NODES`] nodes or [`MAX_ALIAS_TEXT`] bytes of scalar text in
//! all, or would nest it deeper than [`MAX_DEPTH`] levels (which also bounds
//! plain nesting, so that walking the tree cannot overflow the stack). `<<`
//! merges copy the keys they merge (shallowly), at most [`MAX_MERGED_KEYS`].
//!
//! Real files stay far below these bounds. `cohortextractor dump_study_yaml`
//! aliases a codelist each time a study reuses it: the FLUCATS dump's aliases
//! stand for 1,308 nodes; 4 million is 40 uses of a 100,000-code list.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use saphyr::Scalar as CoreScalar;
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

/// The most nodes that aliases may stand for in one document.
pub const MAX_ALIAS_NODES: usize = 4_000_000;

/// The most bytes of scalar text that aliases may stand for in one document
/// (128 MiB: 32 bytes a node at the node bound; clinical codes are 6 to 18).
pub const MAX_ALIAS_TEXT: usize = 128 << 20;

/// The deepest nesting of collections, aliases included.
pub const MAX_DEPTH: usize = 1_000;

/// The most keys that `<<` merge keys may copy in one document.
pub const MAX_MERGED_KEYS: usize = 100_000;

/// A problem in a file, with its 1-based line where it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The 1-based line.
    pub line: Option<usize>,
    /// What is wrong and, where it helps, what to do.
    pub message: String,
}

impl Problem {
    /// A problem at `line`.
    pub fn at(line: usize, message: impl Into<String>) -> Problem {
        Problem {
            line: Some(line),
            message: message.into(),
        }
    }

    /// A problem of the whole file, at no line.
    pub fn unplaced(message: impl Into<String>) -> Problem {
        Problem {
            line: None,
            message: message.into(),
        }
    }
}

/// The message, then its line: `what is wrong (line 3)`.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} (line {line})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What a scalar's tag means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tags {
    /// A `!!` core tag decides the scalar's value (`!!str 3` is a string),
    /// and one that does not fit it (`!!int abc`) is a problem. A scalar
    /// with any other tag (`!custom`) is [`Resolved::Tagged`].
    Check,
    /// Every tag is ignored: scalars resolve by their text alone (dumps from
    /// Python carry tags such as `!!python/tuple` that mean nothing here).
    Ignore,
}

/// A node of the document and the line where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub value: Value,
    /// The 1-based line where the node starts (for an alias, the alias).
    pub line: usize,
}

/// What a node holds. Collections are shared by the aliases of their
/// anchor, so cloning a node is cheap.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar.
    Scalar(Scalar),
    /// A sequence.
    Seq(Arc<[Node]>),
    /// A mapping, in document order (merged keys after the mapping's own).
    Map(Arc<[Entry]>),
}

/// One key of a mapping and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key (keys are scalars).
    pub key: Scalar,
    /// The line of the key.
    pub line: usize,
    /// The value.
    pub value: Node,
}

/// A scalar: its text as written and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// The text, quotes and escapes removed (`'007'` is `007`).
    pub text: Arc<str>,
    /// Whether it was written plain, without quotes or block indicators.
    pub plain: bool,
    /// Its YAML 1.2 core-schema value.
    pub resolved: Resolved,
}

/// A scalar's value under the YAML 1.2 core schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolved {
    /// `~`, `null` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string: the scalar's text.
    Str,
    /// A scalar with a tag outside the core schema (`!custom x`), when
    /// tags are checked: a value of its own kind, not a string, as the
    /// YAML loaders of Python take it.
    Tagged,
}

impl Scalar {
    /// Whether the scalar is null (`~`, `null` or nothing).
    pub fn is_null(&self) -> bool {
        self.resolved == Resolved::Null
    }

    /// The text, unless the scalar is null.
    pub fn text(&self) -> Option<&str> {
        (!self.is_null()).then_some(&*self.text)
    }
}

impl Node {
    /// The scalar this node is, if it is one.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    /// The string this node is, by the core schema (`3` and `true` are not
    /// strings; `'3'` is).
    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar()
            .filter(|s| s.resolved == Resolved::Str)
            .map(|s| &*s.text)
    }

    /// The text of a scalar that is not null, as written (`3`, `yes`, `007`).
    pub fn text(&self) -> Option<&str> {
        self.as_scalar()?.text()
    }

    /// A plain scalar read as a number (see [`parse_number`]).
    pub fn number(&self) -> Option<f64> {
        self.as_scalar()
            .filter(|s| s.plain)
            .and_then(|s| parse_number(&s.text))
    }

    /// Whether the node is a null scalar.
    pub fn is_null(&self) -> bool {
        self.as_scalar().is_some_and(Scalar::is_null)
    }

    /// The items of this node, if it is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
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
            .find(|e| &*e.key.text == key)
            .map(|e| &e.value)
    }

    /// The name of the node's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Scalar(s) => match s.resolved {
                Resolved::Null => "null",
                Resolved::Bool(_) => "boolean",
                Resolved::Int(_) => "integer",
                Resolved::Float(_) => "number",
                Resolved::Str => "string",
                Resolved::Tagged => "tagged value",
            },
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }
}

/// A finite decimal number as YAML 1.2 writes one (`1`, `+2`, `-2.5`,
/// `1e-3`, `.5`); not `0x1f`, `1_000` or `.inf`.
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

/// Reads the single document of `text`; `None` when it holds none (empty,
/// or only comments). Every duplicate key is reported; other problems stop
/// at the first.
pub fn parse(text: &str, tags: Tags) -> Result<Option<Node>, Vec<Problem>> {
    let mut builder = Builder::new(tags);
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            vec![Problem::at(
                e.marker().line(),
                format!("invalid YAML: {}", e.info()),
            )]
        })?;
        builder.on_event(event, span).map_err(|p| vec![p])?;
    }
    if !builder.duplicates.is_empty() {
        return Err(builder.duplicates);
    }
    Ok(builder.root)
}

/// The first tab that the YAML readers of Python refuse (PyYAML, and
/// ruyaml, which `opensafely` reads project files with): they take a tab for
/// text only inside quoted and block scalars and comments, and refuse it
/// anywhere else (indentation, between tokens, inside plain scalars), where
/// YAML 1.2 allows one as white space. `None` when there is none before
/// the first point where the text is not YAML ([`parse`] says why).
pub fn tab_python_refuses(text: &str) -> Option<Problem> {
    let chars: Vec<char> = text.chars().collect();
    let mut texts = Vec::new();
    let mut readable = usize::MAX;
    for event in Parser::new_from_str(text) {
        match event {
            Ok((Event::Scalar(_, style, ..), span)) if style != ScalarStyle::Plain => {
                // A quoted scalar's span runs on over the white space after
                // it, so its end is found from its quotes.
                let end = match style {
                    ScalarStyle::SingleQuoted => closing_quote(&chars, span.start.index(), '\''),
                    ScalarStyle::DoubleQuoted => closing_quote(&chars, span.start.index(), '"'),
                    _ => None,
                };
                texts.push(span.start.index()..end.map_or(span.end.index(), |i| i + 1));
            }
            Ok(_) => {}
            Err(error) => {
                readable = error.marker().index();
                break;
            }
        }
    }
    let mut texts = texts.into_iter().peekable();
    let (mut line, mut in_comment, mut after_space) = (1, false, true);
    for (index, &c) in chars.iter().take(readable).enumerate() {
        while texts.next_if(|range| range.end <= index).is_some() {}
        let in_text = texts.peek().is_some_and(|range| range.start <= index);
        if c == '\n' {
            (line, in_comment, after_space) = (line + 1, false, true);
            continue;
        }
        if !in_text && !in_comment {
            match c {
                '\t' => {
                    return Some(Problem::at(
                        line,
                        "invalid YAML: a tab outside quotes, which the YAML reader of opensafely refuses; use spaces, or quote the text that holds it",
                    ));
                }
                '#' if after_space => in_comment = true,
                _ => {}
            }
        }
        after_space = c == ' ';
    }
    None
}

/// The index of the quote that closes the quoted scalar whose first
/// `quote` is at or after `from` (`''` and `\"` do not close one).
fn closing_quote(chars: &[char], from: usize, quote: char) -> Option<usize> {
    let open = from + chars.get(from..)?.iter().position(|&c| c == quote)?;
    let mut index = open + 1;
    while let Some(&c) = chars.get(index) {
        match c {
            '\\' if quote == '"' => index += 2,
            '\'' if quote == '\'' && chars.get(index + 1) == Some(&'\'') => index += 2,
            c if c == quote => return Some(index),
            _ => index += 1,
        }
    }
    None
}

/// How much of the document a node stands for: what walking it visits.
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    nodes: usize,
    text: usize,
    depth: usize,
}

impl Size {
    fn scalar(text: &str) -> Size {
        Size {
            nodes: 1,
            text: text.len(),
            depth: 0,
        }
    }

    /// Adds a child (a key, an item or a value) to a collection's size.
    fn add(&mut self, child: Size) {
        self.nodes += child.nodes;
        self.text += child.text;
        self.depth = self.depth.max(child.depth + 1);
    }
}

/// A collection being built.
#[derive(Debug)]
struct Frame {
    kind: FrameKind,
    line: usize,
    anchor: usize,
    size: Size,
}

#[derive(Debug)]
enum FrameKind {
    Seq(Vec<Node>),
    Map(MapFrame),
}

#[derive(Debug, Default)]
struct MapFrame {
    entries: Vec<Entry>,
    /// The line of each key set so far, by text.
    lines: HashMap<Arc<str>, usize>,
    /// A key waiting for its value, and whether it is `<<`.
    key: Option<(Scalar, usize, bool)>,
    /// Entries merged in with `<<`, in order of precedence.
    merged: Vec<Entry>,
}

impl MapFrame {
    /// The mapping's entries, then merged keys it does not set itself
    /// (earlier sources win).
    fn into_entries(mut self) -> Vec<Entry> {
        for entry in std::mem::take(&mut self.merged) {
            if !self.lines.contains_key(&entry.key.text) {
                self.lines.insert(entry.key.text.clone(), entry.line);
                self.entries.push(entry);
            }
        }
        self.entries
    }
}

struct Builder {
    tags: Tags,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, Size)>,
    root: Option<Node>,
    duplicates: Vec<Problem>,
    /// What aliases have stood for so far.
    expanded: Size,
    /// Keys copied by `<<` so far.
    merged: usize,
}

impl Builder {
    fn new(tags: Tags) -> Builder {
        Builder {
            tags,
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            duplicates: Vec::new(),
            expanded: Size::default(),
            merged: 0,
        }
    }

    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<(), Problem> {
        let line = span.start.line();
        let starts_node = matches!(
            event,
            Event::Scalar(..)
                | Event::Alias(_)
                | Event::SequenceStart(..)
                | Event::MappingStart(..)
        );
        if starts_node && self.stack.is_empty() && self.root.is_some() {
            return Err(Problem::at(
                line,
                "the file holds several YAML documents (separated by `---`); it must hold one",
            ));
        }
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let scalar = self.scalar(text, style, tag.as_deref(), line)?;
                let size = Size::scalar(&scalar.text);
                let is_merge = scalar.plain && &*scalar.text == "<<" && tag.is_none();
                let node = Node {
                    value: Value::Scalar(scalar),
                    line,
                };
                if self.awaiting_key() {
                    self.key(node, size, anchor, is_merge)
                } else {
                    self.finish(node, size, anchor)
                }
            }
            Event::Alias(id) => {
                let (mut node, size) = self.expand(id, line)?;
                node.line = line;
                if self.awaiting_key() {
                    self.key(node, size, 0, false)
                } else {
                    self.finish(node, size, 0)
                }
            }
            Event::SequenceStart(anchor, _) => self.open(FrameKind::Seq(Vec::new()), line, anchor),
            Event::MappingStart(anchor, _) => {
                self.open(FrameKind::Map(MapFrame::default()), line, anchor)
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(());
                };
                let value = match frame.kind {
                    FrameKind::Seq(items) => Value::Seq(items.into()),
                    FrameKind::Map(map) => Value::Map(map.into_entries().into()),
                };
                let node = Node {
                    value,
                    line: frame.line,
                };
                self.finish(node, frame.size, frame.anchor)
            }
            Event::DocumentEnd
            | Event::DocumentStart(_)
            | Event::StreamStart
            | Event::StreamEnd
            | Event::Nothing => Ok(()),
        }
    }

    /// A scalar's text and value; a core tag that does not fit is a problem
    /// when tags are checked.
    fn scalar(
        &self,
        text: Cow<'_, str>,
        style: ScalarStyle,
        tag: Option<&Tag>,
        line: usize,
    ) -> Result<Scalar, Problem> {
        let tag = match self.tags {
            Tags::Check => tag.map(Cow::Borrowed),
            Tags::Ignore => None,
        };
        let resolved = match CoreScalar::parse_from_cow_and_metadata(
            Cow::Borrowed(&text),
            style,
            tag.as_ref(),
        ) {
            Some(CoreScalar::Null) => Resolved::Null,
            Some(CoreScalar::Boolean(b)) => Resolved::Bool(b),
            Some(CoreScalar::Integer(i)) => Resolved::Int(i),
            Some(CoreScalar::FloatingPoint(f)) => Resolved::Float(f.into_inner()),
            Some(CoreScalar::String(_))
                if tag.as_ref().is_some_and(|t| !t.is_yaml_core_schema()) =>
            {
                Resolved::Tagged
            }
            Some(CoreScalar::String(_)) => Resolved::Str,
            None => {
                let tag = tag.map_or_else(String::new, |t| format!("!!{}", t.suffix));
                return Err(Problem::at(
                    line,
                    format!(
                        "`{text}` does not fit its tag `{tag}`; remove the tag or fix the value"
                    ),
                ));
            }
        };
        Ok(Scalar {
            text: text.into(),
            plain: style == ScalarStyle::Plain,
            resolved,
        })
    }

    /// The node anchored as `id`, once what it stands for fits the bounds.
    fn expand(&mut self, id: usize, line: usize) -> Result<(Node, Size), Problem> {
        let Some((node, size)) = self.anchors.get(&id) else {
            return Err(Problem::at(line, "an alias refers to an unknown anchor"));
        };
        let too_much = |what: String| {
            Problem::at(
                line,
                format!(
                    "aliases here expand to more than {what}; the file is probably malicious or broken (aliases may stand for at most {MAX_ALIAS_NODES} nodes and {} MiB of text in all, nested at most {MAX_DEPTH} levels deep)",
                    MAX_ALIAS_TEXT >> 20
                ),
            )
        };
        if self.expanded.nodes + size.nodes > MAX_ALIAS_NODES {
            return Err(too_much(format!("{MAX_ALIAS_NODES} nodes")));
        }
        if self.expanded.text + size.text > MAX_ALIAS_TEXT {
            return Err(too_much(format!("{} MiB of text", MAX_ALIAS_TEXT >> 20)));
        }
        if self.stack.len() + size.depth > MAX_DEPTH {
            return Err(too_much(format!("{MAX_DEPTH} levels of nesting")));
        }
        self.expanded.nodes += size.nodes;
        self.expanded.text += size.text;
        Ok((node.clone(), *size))
    }

    fn open(&mut self, kind: FrameKind, line: usize, anchor: usize) -> Result<(), Problem> {
        if self.awaiting_key() {
            return Err(Problem::at(line, "mapping keys must be scalars"));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(Problem::at(
                line,
                format!("the document nests more than {MAX_DEPTH} levels deep"),
            ));
        }
        self.stack.push(Frame {
            kind,
            line,
            anchor,
            size: Size {
                nodes: 1,
                ..Size::default()
            },
        });
        Ok(())
    }

    fn awaiting_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                kind: FrameKind::Map(MapFrame { key: None, .. }),
                ..
            })
        )
    }

    /// Holds a mapping key until its value comes.
    fn key(
        &mut self,
        node: Node,
        size: Size,
        anchor: usize,
        is_merge: bool,
    ) -> Result<(), Problem> {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        let Value::Scalar(key) = node.value else {
            return Err(Problem::at(node.line, "mapping keys must be scalars"));
        };
        if let Some(frame) = self.stack.last_mut()
            && let FrameKind::Map(map) = &mut frame.kind
        {
            frame.size.add(size);
            map.key = Some((key, node.line, is_merge));
        }
        Ok(())
    }

    /// Places a complete node in its parent, or as the document.
    fn finish(&mut self, node: Node, size: Size, anchor: usize) -> Result<(), Problem> {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        frame.size.add(size);
        match &mut frame.kind {
            FrameKind::Seq(items) => items.push(node),
            FrameKind::Map(map) => {
                let (key, line, is_merge) = map.key.take().expect("a value follows its key");
                if is_merge {
                    let entries = merge_sources(&node)?;
                    self.merged += entries.len();
                    if self.merged > MAX_MERGED_KEYS {
                        return Err(Problem::at(
                            node.line,
                            format!(
                                "`<<` merge keys here copy more than {MAX_MERGED_KEYS} keys; the file is probably malicious or broken"
                            ),
                        ));
                    }
                    map.merged.extend(entries.into_iter().cloned());
                    return Ok(());
                }
                match map.lines.get(&key.text) {
                    Some(first) => self.duplicates.push(Problem::at(
                        line,
                        format!("duplicate key `{}` (lines {first} and {line})", key.text),
                    )),
                    None => {
                        map.lines.insert(key.text.clone(), line);
                        map.entries.push(Entry {
                            key,
                            line,
                            value: node,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// The entries a `<<` value merges in, in order of precedence: those of a
/// mapping, or of a list of mappings.
fn merge_sources(node: &Node) -> Result<Vec<&Entry>, Problem> {
    let maps: Option<Vec<&[Entry]>> = match &node.value {
        Value::Map(entries) => Some(vec![&**entries]),
        Value::Seq(items) => items.iter().map(Node::as_map).collect(),
        Value::Scalar(_) => None,
    };
    let maps = maps.ok_or_else(|| {
        Problem::at(
            node.line,
            "a `<<` merge key needs a mapping or a list of mappings",
        )
    })?;
    Ok(maps.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn tabs_are_refused_outside_quotes_block_scalars_and_comments() {
        let refused = [
            "run: python:v2 a.py\tb\n",
            "run:\tpython:v2\n",
            "a:\n\tb: 1\n",
            "run: 'x'\t\n",
            "a: [1,\t2]\n",
            "a: 1\n\t\nb: 2\n",
            "a: 'one\n  two'\nb: c\td\n",
            "a: b#\tc\n",
            "a: 'it''s'\t\n",
            "a: \"say \\\"hi\\\"\"\t\n",
        ];
        for text in refused {
            assert!(tab_python_refuses(text).is_some(), "{text:?}");
        }
        assert_eq!(
            tab_python_refuses("a: 'one\n  two'\nb: c\td\n")
                .unwrap()
                .line,
            Some(3)
        );
        let accepted = [
            "run: \"python:v2\ta.py\"\n",
            "run: 'python:v2\ta.py'\n",
            "run: \"python:v2\\ta.py\"\n",
            "run: python:v2 a.py # a\tcomment\n",
            "#\tcomment\nrun: x\n",
            "run: |\n  line\twith tab\n  \tand another\nb: 2\n",
            "run: >\n  folded\ttext\n",
            "a: é\nb: 'ü\t'\n",
            "a: 'it''s\ttrue'\n",
            "a: \"a \\\" and\ttab\"\n",
            "a: !!str 'x\ty'\n",
        ];
        for text in accepted {
            assert_eq!(tab_python_refuses(text), None, "{text:?}");
        }
    }

    fn doc(text: &str) -> Node {
        parse(text, Tags::Check).unwrap().unwrap()
    }

    fn resolved(d: &Node, key: &str) -> Resolved {
        d.get(key).unwrap().as_scalar().unwrap().resolved
    }

    #[test]
    fn scalars_follow_the_yaml_1_2_core_schema() {
        let d = doc("a: yes\nb: on\nc: 3\nd: '3.0'\ne: 3.5\nf: ~\ng: true\nh:\ni: 0x1f\n");
        assert_eq!(d.get("a").unwrap().as_str(), Some("yes"));
        assert_eq!(d.get("b").unwrap().as_str(), Some("on"));
        assert_eq!(resolved(&d, "c"), Resolved::Int(3));
        assert_eq!(d.get("d").unwrap().as_str(), Some("3.0"));
        assert_eq!(resolved(&d, "e"), Resolved::Float(3.5));
        assert_eq!(resolved(&d, "f"), Resolved::Null);
        assert_eq!(resolved(&d, "g"), Resolved::Bool(true));
        assert!(d.get("h").unwrap().is_null());
        assert_eq!(resolved(&d, "i"), Resolved::Int(31));
        assert_eq!(d.get("c").unwrap().as_str(), None);
        assert_eq!(d.get("c").unwrap().kind(), "integer");
    }

    #[test]
    fn scalars_keep_their_text_and_style() {
        let d = doc("a: 1\nb: '007'\nc: null\nd: \"x\\ty\"\n");
        let b = d.get("b").unwrap().as_scalar().unwrap();
        assert_eq!((&*b.text, b.plain), ("007", false));
        assert_eq!(d.get("a").unwrap().text(), Some("1"));
        assert_eq!(d.get("a").unwrap().number(), Some(1.0));
        assert_eq!(d.get("b").unwrap().number(), None);
        assert_eq!(d.get("c").unwrap().text(), None);
        assert_eq!(d.get("d").unwrap().as_str(), Some("x\ty"));
    }

    #[test]
    fn tags_are_checked_or_ignored() {
        let text = "a: !!str 3\nb: !!python/tuple [x, y]\nc: !custom 4\n";
        let checked = parse(text, Tags::Check).unwrap().unwrap();
        assert_eq!(checked.get("a").unwrap().as_str(), Some("3"));
        assert_eq!(checked.get("b").unwrap().as_seq().unwrap().len(), 2);
        assert_eq!(resolved(&checked, "c"), Resolved::Int(4));
        let ignored = parse(text, Tags::Ignore).unwrap().unwrap();
        assert_eq!(resolved(&ignored, "a"), Resolved::Int(3));
        let mismatch = "a: 1\nb: !!int abc\n";
        let problems = parse(mismatch, Tags::Check).unwrap_err();
        assert_eq!(
            problems,
            [Problem::at(
                2,
                "`abc` does not fit its tag `!!int`; remove the tag or fix the value"
            )]
        );
        let ignored = parse(mismatch, Tags::Ignore).unwrap().unwrap();
        assert_eq!(ignored.get("b").unwrap().as_str(), Some("abc"));
    }

    #[test]
    fn nodes_know_their_lines() {
        let d = doc("version: 3\n\nactions:\n  a:\n    run: x:v1\n");
        let actions = d.get("actions").unwrap();
        assert_eq!(actions.as_map().unwrap()[0].line, 4);
        assert_eq!(actions.get("a").unwrap().line, 5);
        assert_eq!(actions.get("a").unwrap().get("run").unwrap().line, 5);
    }

    #[test]
    fn every_duplicate_key_is_reported_with_both_lines() {
        let problems = parse("a: 1\nb:\n  c: 1\n  c: 2\n  c: 3\na: 3\n", Tags::Check).unwrap_err();
        assert_eq!(
            problems,
            [
                Problem::at(4, "duplicate key `c` (lines 3 and 4)"),
                Problem::at(5, "duplicate key `c` (lines 3 and 5)"),
                Problem::at(6, "duplicate key `a` (lines 1 and 6)"),
            ]
        );
        assert_eq!(
            problems[0].to_string(),
            "duplicate key `c` (lines 3 and 4) (line 4)"
        );
    }

    #[test]
    fn anchors_and_aliases_are_expanded() {
        let d = doc(
            "base: &b\n  run: x:v1\n  needs: [a]\nlist: *b\nkey: &k name\n*k : 2\n&l k2: 3\nl: *l\n",
        );
        let list = d.get("list").unwrap();
        assert_eq!(list.get("run").unwrap().as_str(), Some("x:v1"));
        assert_eq!(list.line, 4, "an alias is at its own line");
        assert_eq!(list.get("run").unwrap().line, 2);
        assert_eq!(d.get("name").unwrap().text(), Some("2"));
        assert_eq!(d.get("l").unwrap().text(), Some("k2"), "anchored keys");
        let unknown = parse("a: *nowhere\n", Tags::Check).unwrap_err();
        assert_eq!(unknown[0].line, Some(1), "{unknown:?}");
    }

    #[test]
    fn merge_keys_fill_in_what_the_mapping_does_not_set() {
        let d = doc(
            "one: &one {run: a, needs: [x], extra: 1}\ntwo: &two {run: b, more: 2}\nuse:\n  <<: [*one, *two]\n  needs: [c]\n",
        );
        let keys: Vec<&str> = d
            .get("use")
            .unwrap()
            .as_map()
            .unwrap()
            .iter()
            .map(|e| &*e.key.text)
            .collect();
        assert_eq!(keys, ["needs", "run", "extra", "more"]);
        let used = d.get("use").unwrap();
        assert_eq!(used.get("run").unwrap().as_str(), Some("a"));
        assert_eq!(
            used.get("needs").unwrap().as_seq().unwrap()[0].text(),
            Some("c")
        );
        let bad = parse("a: &a [1]\nb:\n  <<: *a\n", Tags::Check).unwrap_err();
        assert_eq!(
            bad,
            [Problem::at(
                3,
                "a `<<` merge key needs a mapping or a list of mappings"
            )]
        );
        let quoted = doc("a:\n  '<<': 1\n");
        assert_eq!(
            quoted.get("a").unwrap().get("<<").unwrap().text(),
            Some("1")
        );
    }

    #[test]
    fn empty_files_several_documents_and_syntax_errors_are_clear() {
        assert_eq!(parse("", Tags::Check), Ok(None));
        assert_eq!(parse("# just a comment\n", Tags::Check), Ok(None));
        let several = parse("a: 1\n---\nb: 2\n", Tags::Check).unwrap_err();
        assert!(several[0].message.contains("several YAML documents"));
        assert_eq!(several[0].line, Some(3));
        let syntax = parse("a: [1, 2\nb: 3\n", Tags::Check).unwrap_err();
        assert!(syntax[0].message.starts_with("invalid YAML"), "{syntax:?}");
        assert!(syntax[0].line.is_some());
        let complex = parse("? [a]\n: 1\n", Tags::Check).unwrap_err();
        assert_eq!(complex, [Problem::at(1, "mapping keys must be scalars")]);
    }

    #[test]
    fn folded_blocks_keep_the_newlines_of_more_indented_lines() {
        let d = doc("run: >\n  tool:v1\n    --a x\n    --b y\n");
        assert_eq!(
            d.get("run").unwrap().as_str(),
            Some("tool:v1\n  --a x\n  --b y\n")
        );
    }

    /// Nine levels of nine aliases: 9^9 (387 million) nodes if expanded.
    fn laughs(levels: usize, width: usize) -> String {
        let names: Vec<String> = (0..levels).map(|i| format!("l{i}")).collect();
        let mut text = format!(
            "{}: &{} [{}]\n",
            names[0],
            names[0],
            vec!["x"; width].join(",")
        );
        for pair in names.windows(2) {
            let items = vec![format!("*{}", pair[0]); width].join(",");
            text += &format!("{}: &{} [{items}]\n", pair[1], pair[1]);
        }
        text
    }

    #[test]
    fn a_billion_laughs_is_refused_quickly_at_the_alias() {
        let start = Instant::now();
        let problems = parse(&laughs(9, 9), Tags::Ignore).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(10));
        assert_eq!(problems.len(), 1);
        // l6 (line 7) holds aliases of 597,871 nodes each: the sixth passes
        // the bound.
        assert_eq!(problems[0].line, Some(7), "{problems:?}");
        assert!(
            problems[0].message.starts_with(
                "aliases here expand to more than 4000000 nodes; the file is probably malicious or broken"
            ),
            "{problems:?}"
        );
    }

    /// `a`, a list of 1,999 items (2,000 nodes), and `b`, `aliases` of it.
    fn many_aliases(aliases: usize) -> String {
        format!(
            "a: &a [{}]\nb: [{}]\n",
            vec!["x"; 1999].join(","),
            vec!["*a"; aliases].join(",")
        )
    }

    #[test]
    fn aliases_up_to_the_bound_load() {
        // 2,000 aliases of 2,000 nodes: exactly the bound.
        let d = parse(&many_aliases(2000), Tags::Ignore).unwrap().unwrap();
        assert_eq!(d.get("b").unwrap().as_seq().unwrap().len(), 2000);
        let problems = parse(&many_aliases(2001), Tags::Ignore).unwrap_err();
        assert!(
            problems[0].message.contains("4000000 nodes"),
            "{problems:?}"
        );
    }

    #[test]
    fn merged_keys_are_bounded() {
        let keys: Vec<String> = (0..1000).map(|i| format!("k{i}: {i}")).collect();
        let merges = |n: usize| {
            format!(
                "m: &m {{{}}}\nl: [{}]\n",
                keys.join(", "),
                vec!["{<<: *m}"; n].join(", ")
            )
        };
        let d = parse(&merges(100), Tags::Check).unwrap().unwrap();
        let last = &d.get("l").unwrap().as_seq().unwrap()[99];
        assert_eq!(last.get("k999").unwrap().text(), Some("999"));
        let problems = parse(&merges(101), Tags::Check).unwrap_err();
        assert!(
            problems[0].message.contains("copy more than 100000 keys"),
            "{problems:?}"
        );
    }

    #[test]
    fn long_text_through_aliases_is_bounded() {
        let long = "x".repeat(1 << 20);
        let text = format!("a: &a {long}\nb: [{}]\n", vec!["*a"; 129].join(","));
        let problems = parse(&text, Tags::Ignore).unwrap_err();
        assert!(
            problems[0].message.contains("more than 128 MiB of text"),
            "{problems:?}"
        );
        let under = format!("a: &a {long}\nb: [{}]\n", vec!["*a"; 127].join(","));
        assert!(parse(&under, Tags::Ignore).is_ok());
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}x{}", "[".repeat(200), "]".repeat(200));
        assert!(parse(&deep, Tags::Check).is_ok());
        let mut block = String::new();
        for depth in 0..MAX_DEPTH + 1 {
            block += &format!("{}k:\n", " ".repeat(depth));
        }
        let problems = parse(&block, Tags::Check).unwrap_err();
        assert!(
            problems[0].message.contains("nests more than 1000 levels"),
            "{problems:?}"
        );
        // Aliases cannot stack depth past the bound either.
        let mut chained = String::from("l0: &l0 [x]\n");
        for i in 1..=MAX_DEPTH {
            chained += &format!("l{i}: &l{i} [*l{}]\n", i - 1);
        }
        let problems = parse(&chained, Tags::Check).unwrap_err();
        assert!(
            problems[0].message.contains("levels of nesting"),
            "{problems:?}"
        );
    }

    #[test]
    fn numbers_are_decimal_and_finite() {
        assert_eq!(
            parse_number("0.002173913043478261"),
            Some(0.002173913043478261)
        );
        assert_eq!(parse_number("1e-3"), Some(0.001));
        assert_eq!(parse_number("+2"), Some(2.0));
        assert_eq!(parse_number(".5"), Some(0.5));
        for bad in ["2020-01-01", "abc", "0x1f", "1_000", ".inf", ""] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
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
            let doc = parse(&yaml, Tags::Ignore).unwrap().unwrap();
            let node = doc.get("k").unwrap();
            assert_eq!(node.as_scalar().map(|s| &*s.text), Some(text), "{yaml}");
            assert!(!node.is_null(), "{yaml}");
        }
        assert_eq!(quote("flucats_template"), "flucats_template");
    }
}
