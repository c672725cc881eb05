//! The rules that depend on the project version (upstream's feature flags,
//! versions compared as floats) and on several actions at once: unique
//! outputs and commands, known and acyclic `needs`, expectations, and what
//! `generate_cohort` actions may declare.

use std::collections::HashMap;
use std::path::Path;

use super::outputs::parent;
use super::project::{
    Action, Command, Parts, Problems, Project, Reading, read, unexpected_parameters,
};
use crate::yaml::{Problem, Resolved};

/// The population upstream uses when the version has no expectations.
pub const DEFAULT_POPULATION: u64 = 1000;

/// The reserved name that means "every action".
pub const RUN_ALL: &str = "run_all";

/// A project that passed every rule of its version.
#[derive(Debug, Clone)]
pub struct Valid {
    /// The project (without a `run_all` action below version 5).
    pub project: Project,
    /// The dummy population for `generate_cohort` actions.
    pub population: u64,
}

/// Reads and checks `path` (a `project.yaml`): returns the valid project and
/// its warnings, or every problem.
pub fn load(path: &Path) -> anyhow::Result<(Valid, Vec<Problem>)> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the project file {}", path.display()))?;
    Ok(parse_and_validate(&text)?)
}

/// Checks project file `text` by every rule of its version, touching
/// nothing else: the valid project and its warnings, or every problem.
pub fn parse_and_validate(text: &str) -> Result<(Valid, Vec<Problem>), Problems> {
    validate(read(text)?)
}

/// Applies the version's rules to every action, whole or not, so that one
/// pass reports every problem; returns the valid project and the warnings,
/// or every problem.
pub fn validate(mut reading: Reading) -> Result<(Valid, Vec<Problem>), Problems> {
    let mut problems = std::mem::take(&mut reading.problems);
    let v = reading.project.version;
    let mut warnings = Vec::new();
    if v < 5.0 {
        warnings.push(Problem::at(
            reading.project.version_line,
            format!(
                "Your project file is using an old version ({}); consider updating to version 5",
                crate::table::text::python_float(v)
            ),
        ));
    }

    if let Some(run_all) = reading.parts().iter().find(|p| p.id == RUN_ALL) {
        let line = run_all.line;
        if v >= 5.0 {
            problems.push(Problem::at(
                line,
                format!("`{RUN_ALL}` is a reserved action name and is not allowed for user-defined actions."),
            ));
        } else {
            warnings.push(Problem::at(
                line,
                format!("`{RUN_ALL}` is a reserved action name: this action is ignored"),
            ));
            reading.project.actions.retain(|a| a.id != RUN_ALL);
            reading.fragments.retain(|f| f.id != RUN_ALL);
            reading.project.names.retain(|n| n != RUN_ALL);
        }
    }

    let population = expectations(&reading.project, &mut problems);

    let parts = reading.parts();
    for part in &parts {
        if let Some(run) = part.run {
            image_rules(part.id, run, v, &mut problems, &mut warnings);
        }
    }
    for action in &reading.project.actions {
        if action.run.is_generate_cohort() {
            generate_cohort_rules(action, &mut problems);
        }
    }
    commands_are_unique(&parts, &mut problems);
    needs_are_known(&parts, &reading.project.names, &mut problems);
    needs_are_acyclic(&parts, &mut problems);
    if v >= 2.0 {
        outputs_are_unique(&parts, &mut problems);
    }
    let project = reading.project;

    problems.sort_by_key(|p| p.line);
    if problems.is_empty() {
        Ok((
            Valid {
                project,
                population,
            },
            warnings,
        ))
    } else {
        Err(Problems(problems))
    }
}

/// The `expectations` rules: required in version 3 exactly, refused from 4.
fn expectations(project: &Project, problems: &mut Vec<Problem>) -> u64 {
    let v = project.version;
    let section = project.expectations.as_ref();
    if v >= 4.0 {
        if let Some(node) = section {
            problems.push(Problem::at(
                node.line,
                "Project includes `expectations` section, which is not supported in this version. Remove it: dummy data sizes are set by each action's own options",
            ));
        }
        return DEFAULT_POPULATION;
    }
    if v != 3.0 {
        return DEFAULT_POPULATION;
    }
    let Some(node) = section else {
        problems.push(Problem::at(
            project.version_line,
            "Project must include `expectations` section",
        ));
        return DEFAULT_POPULATION;
    };
    let Some(entries) = node.as_map() else {
        problems.push(Problem::at(
            node.line,
            "Project `expectations` section must be a dictionary of key/value pairs",
        ));
        return DEFAULT_POPULATION;
    };
    problems.extend(unexpected_parameters(
        entries,
        |k| k == "population_size",
        "project `expectations` section",
        Some(node.line),
    ));
    let Some(size) = node.get("population_size") else {
        problems.push(Problem::at(
            node.line,
            "Project `expectations` section must include `population_size` section",
        ));
        return DEFAULT_POPULATION;
    };
    let population = size.as_scalar().and_then(|s| match s.resolved {
        Resolved::Int(i) => u64::try_from(i).ok(),
        Resolved::Float(f) if f.fract() == 0.0 && f >= 0.0 => Some(f as u64),
        Resolved::Str => s.text.trim().parse::<u64>().ok(),
        _ => None,
    });
    population.unwrap_or_else(|| {
        problems.push(Problem::at(
            size.line,
            "Project expectations population size must be a number",
        ));
        DEFAULT_POPULATION
    })
}

/// cohortextractor (refused from version 4) and tags (`:latest` refused
/// from version 5, `v1` of python and r deprecated).
fn image_rules(
    id: &str,
    run: &Command,
    v: f64,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) {
    let first = &run.words[0];
    let line = run.line;
    if v >= 4.0 && first.starts_with("cohortextractor") {
        problems.push(Problem::at(
            line,
            format!(
                "Action {id} uses cohortextractor actions, which are not supported in this version."
            ),
        ));
    }
    let (image, tag) = (run.image(), run.tag());
    if v < 5.0 {
        if tag == "latest" {
            warnings.push(Problem::at(
                line,
                format!("Action {id} uses `{first}`: pin a version (e.g. `:v2`); version 5 refuses `:latest`"),
            ));
        }
        return;
    }
    if tag == "latest" {
        let mut message = format!(
            "Action {id} uses `{first}`, which is not supported. Provide a version e.g. `:v2` instead."
        );
        if image == "python" || image == "r" {
            message.push_str(&format!(
                " For equivalence, replace `{image}:latest` with `{image}:v1` (but note that `v1` is scheduled for deprecation)."
            ));
        }
        problems.push(Problem::at(line, message));
    } else if tag == "v1" && (image == "python" || image == "r") {
        warnings.push(Problem::at(
            line,
            format!("Action {id} uses `{first}`, which is scheduled for deprecation. Consider upgrading to a more recent version."),
        ));
    }
}

/// `generate_cohort`: one privacy level, one output directory unless
/// `--output-dir` says where.
fn generate_cohort_rules(action: &Action, problems: &mut Vec<Problem>) {
    let levels = action.levels();
    if levels.len() != 1 {
        problems.push(Problem::at(
            action.line,
            format!(
                "A `generate_cohort` action must have exactly one output; {} had {}",
                action.id,
                levels.len()
            ),
        ));
    }
    let has_output_dir = action
        .run
        .args()
        .iter()
        .any(|a| a == "--output-dir" || a.starts_with("--output-dir="));
    let mut dirs: Vec<&str> = action.patterns().map(parent).collect();
    dirs.sort_unstable();
    dirs.dedup();
    if dirs.len() > 1 && !has_output_dir {
        problems.push(Problem::at(
            action.line,
            format!(
                "A `generate_cohort` action must write all its outputs to one directory (or pass --output-dir); {} writes to {}",
                action.id,
                dirs.join(", ")
            ),
        ));
    }
}

fn commands_are_unique(actions: &[Parts], problems: &mut Vec<Problem>) {
    let mut seen: HashMap<&str, Vec<&str>> = HashMap::new();
    for action in actions {
        let Some(run) = action.run else {
            continue;
        };
        let same = seen.entry(run.raw.as_str()).or_default();
        if !same.is_empty() {
            problems.push(Problem::at(
                run.line,
                format!(
                    "Action {} has the same 'run' command as other actions: {}",
                    action.id,
                    same.join(", ")
                ),
            ));
        }
        same.push(action.id);
    }
}

fn needs_are_known(actions: &[Parts], names: &[String], problems: &mut Vec<Problem>) {
    for action in actions {
        for (need, line) in action.needs {
            if !names.contains(need) {
                problems.push(Problem::at(
                    *line,
                    format!(
                        "Action `{}` references an unknown action in its `needs` list: {need}",
                        action.id
                    ),
                ));
            }
        }
    }
}

/// Names every cycle in `needs` (upstream crashes on them).
fn needs_are_acyclic(actions: &[Parts], problems: &mut Vec<Problem>) {
    let index: HashMap<&str, usize> = actions.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
    // 0 = unvisited, 1 = on the current path, 2 = done.
    let mut mark = vec![0u8; actions.len()];
    let mut path = Vec::new();
    for start in 0..actions.len() {
        visit(start, actions, &index, &mut mark, &mut path, problems);
    }

    fn visit(
        i: usize,
        actions: &[Parts],
        index: &HashMap<&str, usize>,
        mark: &mut [u8],
        path: &mut Vec<usize>,
        problems: &mut Vec<Problem>,
    ) {
        if mark[i] != 0 {
            return;
        }
        mark[i] = 1;
        path.push(i);
        for (need, line) in actions[i].needs {
            let Some(&j) = index.get(need.as_str()) else {
                continue;
            };
            if mark[j] == 1 {
                let from = path.iter().position(|&p| p == j).expect("on the path");
                let names: Vec<&str> = path[from..]
                    .iter()
                    .chain(std::iter::once(&j))
                    .map(|&k| actions[k].id)
                    .collect();
                let message = if from == path.len() - 1 {
                    format!("Action `{}` needs itself", actions[j].id)
                } else {
                    format!(
                        "Actions depend on each other in a cycle: {}",
                        names.join(" -> ")
                    )
                };
                problems.push(Problem::at(*line, message));
            } else {
                visit(j, actions, index, mark, path, problems);
            }
        }
        path.pop();
        mark[i] = 2;
    }
}

fn outputs_are_unique(actions: &[Parts], problems: &mut Vec<Problem>) {
    let mut seen = std::collections::HashSet::new();
    for output in actions.iter().flat_map(|a| a.outputs) {
        if !seen.insert(output.pattern.as_str()) {
            problems.push(Problem::at(
                output.line,
                format!("Output path {} is not unique", output.pattern),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_checked_by_every_rule_without_files() {
        let text = "version: 3\nexpectations:\n  population_size: 10\nactions:\n  a:\n    run: python:latest a.py\n    needs: [b]\n    outputs:\n      highly_sensitive:\n        x: output/a.csv\n";
        let problems = parse_and_validate(text).unwrap_err();
        assert_eq!(
            problems.0,
            [Problem::at(
                7,
                "Action `a` references an unknown action in its `needs` list: b"
            )]
        );
        let (valid, warnings) = parse_and_validate(&text.replace("    needs: [b]\n", "")).unwrap();
        assert_eq!(valid.project.actions.len(), 1);
        assert!(
            warnings[0].message.contains("old version (3.0)"),
            "{warnings:?}"
        );
    }
}
