//! The `project.yaml` model: the version, the expectations and the actions,
//! read from a [`yaml`](crate::yaml) tree so that every problem can name its
//! line. The rules that hold in every version are checked here; the rules
//! that depend on the version and on several actions are in
//! [`validate`](super::validate).

use std::fmt;

use super::outputs::{self, Level};
use super::shell;
use crate::table::text::python_float;
use crate::yaml::{self, Entry, Node, Problem, Resolved, Tags};

/// The newest project format.
pub const LATEST_VERSION: f64 = 5.0;

/// The regular expression upstream uses for image tags, as a function:
/// `^(v[0-9.]+(-pre)?|dev|latest)$`.
pub fn is_valid_tag(tag: &str) -> bool {
    if tag == "dev" || tag == "latest" {
        return true;
    }
    let Some(rest) = tag.strip_prefix('v') else {
        return false;
    };
    let rest = rest.strip_suffix("-pre").unwrap_or(rest);
    !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Upstream's "Unexpected parameters (a, b) in PLACE" for the keys of
/// `entries` that `known` rejects, at `line` or else at the first of them.
pub(super) fn unexpected_parameters(
    entries: &[Entry],
    known: impl Fn(&str) -> bool,
    place: &str,
    line: Option<usize>,
) -> Option<Problem> {
    let unexpected: Vec<&Entry> = entries.iter().filter(|e| !known(&e.key.text)).collect();
    let first = unexpected.first()?;
    let names: Vec<&str> = unexpected.iter().map(|e| &*e.key.text).collect();
    Some(Problem::at(
        line.unwrap_or(first.line),
        format!("Unexpected parameters ({}) in {place}", names.join(", ")),
    ))
}

/// Every problem of an invalid project file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Errors in project file")?;
        for problem in &self.0 {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

/// A project file as read, whether or not it is valid: the project, what
/// could be read of the actions it could not hold, and every problem found
/// in one action at a time (the rules across actions and versions are
/// `validate`'s).
#[derive(Debug, Clone)]
pub struct Reading {
    /// The project, with the actions whose `run`, `needs` and `outputs`
    /// were read whole.
    pub project: Project,
    /// The other actions, as far as they could be read.
    pub fragments: Vec<Fragment>,
    /// The problems of single actions and of the file.
    pub problems: Vec<Problem>,
}

/// What could be read of an action whose `run`, `needs` or `outputs` has a
/// problem, so that the rules across actions still check the rest.
#[derive(Debug, Clone)]
pub struct Fragment {
    /// Its name.
    pub id: String,
    /// The line of its name.
    pub line: usize,
    /// Its `run:` command, unless that is what has the problem.
    pub run: Option<Command>,
    /// The needs that were read.
    pub needs: Vec<(String, usize)>,
    /// The outputs that were read.
    pub outputs: Vec<Output>,
}

/// What the rules across actions read of one action, whole or a fragment.
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    /// Its name.
    pub id: &'a str,
    /// The line of its name.
    pub line: usize,
    /// Its `run:` command, where that was read.
    pub run: Option<&'a Command>,
    /// Its needs.
    pub needs: &'a [(String, usize)],
    /// Its outputs.
    pub outputs: &'a [Output],
}

impl Reading {
    /// The parts of every action, whole or not, in file order.
    pub fn parts(&self) -> Vec<Parts<'_>> {
        let whole = self.project.actions.iter().map(|a| Parts {
            id: &a.id,
            line: a.line,
            run: Some(&a.run),
            needs: &a.needs,
            outputs: &a.outputs,
        });
        let fragments = self.fragments.iter().map(|f| Parts {
            id: &f.id,
            line: f.line,
            run: f.run.as_ref(),
            needs: &f.needs,
            outputs: &f.outputs,
        });
        let mut parts: Vec<Parts> = whole.chain(fragments).collect();
        parts.sort_by_key(|p| p.line);
        parts
    }
}

/// A project: the version and the actions (whole; whether the project is
/// valid is for [`validate`](super::validate) to say).
#[derive(Debug, Clone)]
pub struct Project {
    /// `version`, as a float.
    pub version: f64,
    /// The line of `version`.
    pub version_line: usize,
    /// The `expectations` section as written, if any.
    pub expectations: Option<Node>,
    /// The actions in file order.
    pub actions: Vec<Action>,
    /// The names of every action in the file, valid or not.
    pub names: Vec<String>,
}

/// One action.
#[derive(Debug, Clone)]
pub struct Action {
    /// Its name.
    pub id: String,
    /// The line of its name.
    pub line: usize,
    /// Its `run:` command.
    pub run: Command,
    /// The actions it needs, with their lines.
    pub needs: Vec<(String, usize)>,
    /// Its declared outputs, in file order.
    pub outputs: Vec<Output>,
    /// Its `config:` mapping.
    pub config: Option<Node>,
    /// Its `dummy_data_file:`.
    pub dummy_data_file: Option<String>,
}

/// One declared output pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Its privacy level.
    pub level: Level,
    /// Its label (the key under the level).
    pub label: String,
    /// The file pattern.
    pub pattern: String,
    /// The line of the pattern.
    pub line: usize,
}

/// A `run:` command.
#[derive(Debug, Clone)]
pub struct Command {
    /// The string as written.
    pub raw: String,
    /// Its words, split as a POSIX shell does.
    pub words: Vec<String>,
    /// The line of `run:`.
    pub line: usize,
}

impl Command {
    /// The image (or reusable action) name: the first word before `:`.
    pub fn image(&self) -> &str {
        self.words[0].split(':').next().unwrap_or("")
    }

    /// The image tag: the first word after its first `:`.
    pub fn tag(&self) -> &str {
        self.words[0].split_once(':').map_or("", |(_, t)| t)
    }

    /// The arguments after the image.
    pub fn args(&self) -> &[String] {
        &self.words[1..]
    }

    /// Whether this is `cohortextractor:TAG generate_cohort ...`.
    pub fn is_generate_cohort(&self) -> bool {
        self.image() == "cohortextractor"
            && self.args().first().is_some_and(|a| a == "generate_cohort")
    }
}

impl Action {
    /// The patterns of its outputs.
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.outputs.iter().map(|o| o.pattern.as_str())
    }

    /// The distinct privacy levels it declares.
    pub fn levels(&self) -> Vec<Level> {
        let mut levels: Vec<Level> = self.outputs.iter().map(|o| o.level).collect();
        levels.sort();
        levels.dedup();
        levels
    }
}

/// Builds the project model from `text`, checking the rules every version
/// shares. Fails with every problem found. For tests of one stage: the
/// program reads projects with [`read`] and `validate`.
#[cfg(test)]
pub fn parse(text: &str) -> Result<Project, Problems> {
    let reading = read(text)?;
    if reading.problems.is_empty() {
        Ok(reading.project)
    } else {
        Err(Problems(reading.problems))
    }
}

/// Reads `text` as far as it goes: fails only where there is no project to
/// read (not YAML, no version, not a mapping); the problems of its actions
/// come with the [`Reading`].
pub fn read(text: &str) -> Result<Reading, Problems> {
    if let Some(tab) = yaml::tab_python_refuses(text) {
        return Err(Problems(vec![tab]));
    }
    let doc = yaml::parse(text, Tags::Check)
        .map_err(Problems)?
        .ok_or_else(|| Problems(vec![Problem::unplaced("the file is empty")]))?;
    let Some(top) = doc.as_map() else {
        return Err(Problems(vec![Problem::at(
            doc.line,
            format!(
                "the project file must be a mapping with `version` and `actions`, not a {}",
                doc.kind()
            ),
        )]));
    };
    let (version, version_line) = version(&doc)?;
    if version > LATEST_VERSION {
        return Err(Problems(vec![Problem::at(
            version_line,
            format!(
                "The latest version is v{}, but got v{}",
                LATEST_VERSION,
                python_float(version)
            ),
        )]));
    }

    let mut problems = Vec::new();
    problems.extend(unexpected_parameters(
        top,
        |k| ["version", "actions", "expectations"].contains(&k),
        "project",
        None,
    ));

    let mut actions = Vec::new();
    let mut fragments = Vec::new();
    let mut names = Vec::new();
    match doc.get("actions").map(|n| (n, n.as_map())) {
        Some((_, Some(entries))) => {
            for entry in entries {
                names.push(entry.key.text.to_string());
                match action(&entry.key.text, entry.line, &entry.value, &mut problems) {
                    ActionRead::Whole(action) => actions.push(action),
                    ActionRead::Fragment(fragment) => fragments.push(fragment),
                    ActionRead::Unreadable => {}
                }
            }
        }
        other => problems.push(Problem {
            message: "Project `actions` section must be a dictionary of key/value pairs".into(),
            line: other.map(|(n, _)| n.line),
        }),
    }
    Ok(Reading {
        project: Project {
            version,
            version_line,
            expectations: doc.get("expectations").cloned(),
            actions,
            names,
        },
        fragments,
        problems,
    })
}

/// `version` as a float, as Python's `float()` reads it.
fn version(doc: &Node) -> Result<(f64, usize), Problems> {
    let Some(node) = doc.get("version").filter(|n| !n.is_null()) else {
        return Err(Problems(vec![Problem {
            message: format!(
                "Project file must have a `version` attribute specifying which version of the project configuration format it uses (current latest version is {})",
                LATEST_VERSION as i64
            ),
            line: doc.get("version").map(|n| n.line),
        }]));
    };
    let number = node.as_scalar().and_then(|s| match s.resolved {
        Resolved::Int(i) => Some(i as f64),
        Resolved::Float(f) => Some(f),
        Resolved::Bool(b) => Some(f64::from(u8::from(b))),
        Resolved::Str => s.text.trim().replace('_', "").parse::<f64>().ok(),
        Resolved::Null | Resolved::Tagged => None,
    });
    match number {
        Some(v) if !v.is_nan() => Ok((v, node.line)),
        _ => Err(Problems(vec![Problem::at(
            node.line,
            format!(
                "`version` must be a number between 1 and {}",
                LATEST_VERSION as i64
            ),
        )])),
    }
}

/// What one action's definition gave.
enum ActionRead {
    /// Its `run`, `needs` and `outputs` read whole.
    Whole(Action),
    /// Some of them have problems; the rest.
    Fragment(Fragment),
    /// It is not a mapping.
    Unreadable,
}

/// One action's definition, checked on its own; its problems go into
/// `problems`.
fn action(id: &str, line: usize, node: &Node, problems: &mut Vec<Problem>) -> ActionRead {
    let Some(entries) = node.as_map() else {
        problems.push(Problem::at(
            line,
            format!("Configuration for action {id} must be a dictionary of key/value pairs"),
        ));
        return ActionRead::Unreadable;
    };
    for key in ["run", "outputs"] {
        if node.get(key).is_none() {
            problems.push(Problem::at(
                line,
                format!("Action {id} must contain a configuration for '{key}'"),
            ));
        }
    }
    let known = ["run", "outputs", "needs", "config", "dummy_data_file"];
    problems.extend(unexpected_parameters(
        entries,
        |k| known.contains(&k),
        &format!("action {id}"),
        Some(line),
    ));
    let whole_before = problems.len();
    let run = node.get("run").and_then(|n| match command(id, n) {
        Ok(run) => Some(run),
        Err(problem) => {
            problems.push(problem);
            None
        }
    });
    let outputs = node
        .get("outputs")
        .map_or_else(Vec::new, |n| outputs(id, n, problems));
    let needs = needs(id, node.get("needs"), problems);
    let parts_whole = problems.len() == whole_before && node.get("outputs").is_some();
    let config = match node.get("config") {
        None => None,
        Some(n) if n.is_null() => None,
        Some(n) if n.as_map().is_some() => Some(n.clone()),
        Some(n) => {
            problems.push(Problem::at(
                n.line,
                format!("`config` section for action {id} must be a dictionary of key/value pairs"),
            ));
            None
        }
    };
    let dummy_data_file = match node.get("dummy_data_file") {
        None => None,
        Some(n) if n.is_null() => None,
        Some(n) => match n.as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                problems.push(Problem::at(
                    n.line,
                    format!("`dummy_data_file` section for action {id} must be a string"),
                ));
                None
            }
        },
    };
    match run {
        Some(run) if parts_whole => {
            let action = Action {
                id: id.to_owned(),
                line,
                run,
                needs,
                outputs,
                config,
                dummy_data_file,
            };
            problems.extend(ehrql_outputs(&action));
            ActionRead::Whole(action)
        }
        run => ActionRead::Fragment(Fragment {
            id: id.to_owned(),
            line,
            run,
            needs,
            outputs,
        }),
    }
}

/// ehrQL's `generate-dataset`/`generate-measures` outputs: dataset outputs
/// all `highly_sensitive`, an `--output` argument, and patterns matching it.
fn ehrql_outputs(action: &Action) -> Option<Problem> {
    let id = &action.id;
    let words = &action.run.words;
    let kind = match (action.run.image(), words.get(1).map(String::as_str)) {
        ("ehrql" | "databuilder", Some("generate-dataset" | "generate_dataset")) => "dataset",
        ("ehrql" | "databuilder", Some("generate-measures" | "generate_measures")) => "measures",
        _ => return None,
    };
    let problem = |message: String| Some(Problem::at(action.run.line, message));
    let levels = action.levels();
    if kind == "dataset" && levels.iter().any(|l| *l != Level::HighlySensitive) {
        return problem(format!(
            "`{id}` action uses `generate-dataset` and so all outputs must be labelled `highly_sensitive`"
        ));
    }
    let spec = words.iter().enumerate().find_map(|(i, w)| {
        if w == "--output" {
            Some(words.get(i + 1).cloned().unwrap_or_default())
        } else {
            w.strip_prefix("--output=").map(str::to_owned)
        }
    });
    let Some(spec) = spec else {
        return problem(format!(
            "`{id}` action does not provide an `--output` argument specifying where the results of `generate-{kind}` should be stored"
        ));
    };
    let patterns: Vec<&str> = action
        .outputs
        .iter()
        .filter(|o| {
            o.level == Level::HighlySensitive
                || (kind == "measures" && o.level == Level::ModeratelySensitive)
        })
        .map(|o| o.pattern.as_str())
        .collect();
    // `--output DIR/:FORMAT` (or `DIR/NAME:FORMAT`) writes a directory of files.
    let (expected, ok) = match spec.rsplit_once(':') {
        Some((path, ext)) => {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            let dir = if name.is_empty() {
                dir.to_owned()
            } else {
                path.to_owned()
            };
            let glob = format!("{dir}/*.{ext}");
            let ok = patterns.iter().all(|p| outputs::wildcard_match(&glob, p));
            (format!("{dir}/:{ext}"), ok)
        }
        None => (spec.clone(), patterns.contains(&spec.as_str())),
    };
    if ok {
        None
    } else {
        problem(format!(
            "output specification must match the `--output` argument in the `run` command: got {} but was expecting {expected}",
            patterns.join(", ")
        ))
    }
}

/// The `run:` string, split, with a valid `NAME:TAG` first word.
fn command(id: &str, node: &Node) -> Result<Command, Problem> {
    let fail = |message: String| Err(Problem::at(node.line, message));
    let Some(raw) = node.as_str() else {
        return fail(format!("`run` section for action {id} must be a string"));
    };
    let words = match shell::split(raw) {
        Ok(words) => words,
        Err(e) => {
            return fail(format!(
                "Action {id} has a `run` command that cannot be split into words: {e}"
            ));
        }
    };
    if words.is_empty() {
        return fail(format!("run must have a value, {id} has an empty run key"));
    }
    let (name, tag) = words[0].split_once(':').unwrap_or((&words[0], ""));
    if !is_valid_tag(tag) {
        return fail(format!(
            "Action command {name} must have a version specified in the form :vN (e.g. {name}:v2)"
        ));
    }
    Ok(Command {
        raw: raw.to_owned(),
        words,
        line: node.line,
    })
}

/// The `needs:` list: the names that are names; the problems of the others
/// go into `problems`.
fn needs(id: &str, node: Option<&Node>, problems: &mut Vec<Problem>) -> Vec<(String, usize)> {
    let Some(node) = node.filter(|n| !n.is_null()) else {
        return Vec::new();
    };
    let Some(items) = node.as_seq() else {
        problems.push(Problem::at(
            node.line,
            format!("`needs` section for action {id} must be a list"),
        ));
        return Vec::new();
    };
    let mut needs = Vec::new();
    for item in items {
        match item.as_str() {
            Some(name) if name.contains(' ') => problems.push(Problem::at(
                item.line,
                format!("`needs` actions should be separated with commas, but {id} needs `{name}`"),
            )),
            Some(name) => needs.push((name.to_owned(), item.line)),
            None => problems.push(Problem::at(
                item.line,
                format!("`needs` section for action {id} must list action names"),
            )),
        }
    }
    needs
}

/// The `outputs:` section: the outputs with a level, a label and a valid
/// pattern; the problems of the others go into `problems`.
fn outputs(id: &str, node: &Node, problems: &mut Vec<Problem>) -> Vec<Output> {
    let Some(entries) = node.as_map() else {
        problems.push(Problem::at(
            node.line,
            format!("`outputs` section for action {id} must be a dictionary of key/value pairs"),
        ));
        return Vec::new();
    };
    problems.extend(unexpected_parameters(
        entries,
        |k| Level::from_name(k).is_some(),
        &format!("`outputs` section for action {id}"),
        Some(node.line),
    ));
    let mut outputs = Vec::new();
    let mut any_level = false;
    for entry in entries {
        let Some(level) = Level::from_name(&entry.key.text) else {
            continue;
        };
        if entry.value.is_null() {
            continue;
        }
        any_level = true;
        let Some(files) = entry.value.as_map() else {
            problems.push(Problem::at(
                entry.line,
                format!(
                    "`{level}` section for action {id} must be a dictionary of key/value pairs"
                ),
            ));
            continue;
        };
        for file in files {
            let Some(pattern) = file.value.as_str() else {
                problems.push(Problem::at(
                    file.line,
                    format!(
                        "`{}` output for action {id} must be a string",
                        file.key.text
                    ),
                ));
                continue;
            };
            match outputs::check_pattern(pattern, level) {
                Ok(()) => outputs.push(Output {
                    level,
                    label: file.key.text.to_string(),
                    pattern: pattern.to_owned(),
                    line: file.value.line,
                }),
                Err(reason) => problems.push(Problem::at(
                    file.value.line,
                    format!("Output path {pattern} is invalid: {reason}"),
                )),
            }
        }
    }
    if !any_level {
        problems.push(Problem::at(
            node.line,
            format!(
                "Action {id} must specify at least one output of: highly_sensitive, moderately_sensitive, minimally_sensitive"
            ),
        ));
    }
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_upstreams_pattern() {
        for ok in ["v1", "v0.0.44", "v2-pre", "dev", "latest", "v1."] {
            assert!(is_valid_tag(ok), "{ok}");
        }
        for bad in ["", "1", "v", "vx", "v1-beta", "Latest", "v-pre"] {
            assert!(!is_valid_tag(bad), "{bad}");
        }
    }

    #[test]
    fn the_seed_project_parses() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/reference/flucats/project.yaml");
        let project = parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(project.version, 3.0);
        assert_eq!(project.actions.len(), 7);
        let join = &project.actions[5];
        assert_eq!(join.id, "join_cohorts_weekly");
        assert_eq!(
            join.run.words,
            [
                "cohort-joiner:v0.0.44",
                "--lhs",
                "output/input_20*.csv.gz",
                "--rhs",
                "output/input_end.csv.gz",
                "--output-dir",
                "output/joined"
            ]
        );
        assert_eq!(join.needs.len(), 3);
        assert_eq!(join.outputs[0].pattern, "output/joined/input_20*.csv.gz");
        assert!(project.actions[0].run.is_generate_cohort());
        assert_eq!(project.actions[0].run.tag(), "latest");
    }
}
