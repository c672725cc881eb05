//! Which actions a run starts: the requested ones always, and the actions
//! they need unless a previous run can be reused (as upstream's local runner
//! decides).

use std::collections::HashSet;

use super::project::Project;
use super::validate::RUN_ALL;

/// Why nothing can be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// No action was named.
    #[error("At least one action must be supplied\n{}", valid_names(.0))]
    NoAction(Vec<String>),
    /// An action that is not in the project was named.
    #[error("Action '{name}' not found in project.yaml\n{}", valid_names(.valid))]
    Unknown {
        /// The name given.
        name: String,
        /// The project's actions.
        valid: Vec<String>,
    },
}

/// The outcome of planning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunPlan {
    /// Run these actions (indices into the project's actions, file order).
    Run(Vec<usize>),
    /// `run_all` with every action reusable.
    NothingToDo,
}

fn valid_names(names: &[String]) -> String {
    let mut text = String::from("Valid action names are:\n  run_all (runs all actions in project)");
    for name in names {
        text.push_str("\n  ");
        text.push_str(name);
    }
    text
}

/// Plans a run of `requested` (action names, or `run_all`). An action runs
/// when it is requested by name, when `force` is set, or when `reusable`
/// says its last run cannot be reused; the needs of an action that runs are
/// planned by the same rule.
pub fn plan(
    project: &Project,
    requested: &[String],
    force: bool,
    reusable: impl Fn(&str) -> bool,
) -> Result<RunPlan, PlanError> {
    let names: Vec<String> = project.actions.iter().map(|a| a.id.clone()).collect();
    if requested.is_empty() {
        return Err(PlanError::NoAction(names));
    }
    let index = |name: &str| project.actions.iter().position(|a| a.id == name);
    let run_all = requested.iter().any(|r| r == RUN_ALL);
    let mut explicit = HashSet::new();
    for name in requested.iter().filter(|r| *r != RUN_ALL) {
        explicit.insert(index(name).ok_or_else(|| PlanError::Unknown {
            name: name.clone(),
            valid: names.clone(),
        })?);
    }
    let roots: Vec<usize> = if run_all {
        (0..project.actions.len()).collect()
    } else {
        let mut roots: Vec<usize> = explicit.iter().copied().collect();
        roots.sort_unstable();
        roots
    };

    let mut planned = HashSet::new();
    let mut stack = roots;
    while let Some(i) = stack.pop() {
        if planned.contains(&i) {
            continue;
        }
        let action = &project.actions[i];
        if !(explicit.contains(&i) || force || !reusable(&action.id)) {
            continue;
        }
        planned.insert(i);
        stack.extend(action.needs.iter().filter_map(|(n, _)| index(n)));
    }
    if planned.is_empty() {
        return Ok(RunPlan::NothingToDo);
    }
    let mut order: Vec<usize> = planned.into_iter().collect();
    order.sort_unstable();
    Ok(RunPlan::Run(order))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::project::parse;

    const PROJECT: &str = "version: 5
actions:
  a: {run: 'python:v2 a.py', outputs: {highly_sensitive: {x: output/a.csv}}}
  b: {run: 'python:v2 b.py', needs: [a], outputs: {highly_sensitive: {x: output/b.csv}}}
  c: {run: 'python:v2 c.py', needs: [b], outputs: {highly_sensitive: {x: output/c.csv}}}
  d: {run: 'python:v2 d.py', outputs: {highly_sensitive: {x: output/d.csv}}}
";

    fn names(project: &Project, plan: RunPlan) -> Vec<String> {
        match plan {
            RunPlan::Run(order) => order
                .iter()
                .map(|&i| project.actions[i].id.clone())
                .collect(),
            RunPlan::NothingToDo => vec!["<nothing>".into()],
        }
    }

    fn run(requested: &[&str], force: bool, done: &[&str]) -> Vec<String> {
        let project = parse(PROJECT).unwrap();
        let requested: Vec<String> = requested.iter().map(|s| s.to_string()).collect();
        let plan = plan(&project, &requested, force, |a| done.contains(&a)).unwrap();
        names(&project, plan)
    }

    #[test]
    fn requested_actions_always_run_and_needs_only_when_not_reusable() {
        assert_eq!(run(&["c"], false, &[]), ["a", "b", "c"]);
        assert_eq!(run(&["c"], false, &["a", "b", "c"]), ["c"]);
        assert_eq!(run(&["c"], false, &["a", "c"]), ["b", "c"]);
        // A reused action's own needs are not looked at.
        assert_eq!(run(&["c"], false, &["b"]), ["c"]);
        assert_eq!(run(&["c"], true, &["a", "b", "c"]), ["a", "b", "c"]);
    }

    #[test]
    fn run_all_runs_what_cannot_be_reused() {
        assert_eq!(run(&["run_all"], false, &[]), ["a", "b", "c", "d"]);
        assert_eq!(run(&["run_all"], false, &["a", "b"]), ["c", "d"]);
        assert_eq!(
            run(&["run_all"], false, &["a", "b", "c", "d"]),
            ["<nothing>"]
        );
        assert_eq!(
            run(&["run_all"], true, &["a", "b", "c", "d"]),
            ["a", "b", "c", "d"]
        );
    }

    #[test]
    fn missing_and_unknown_actions_list_the_valid_names() {
        let project = parse(PROJECT).unwrap();
        let none = plan(&project, &[], false, |_| false).unwrap_err();
        assert_eq!(
            none.to_string(),
            "At least one action must be supplied\nValid action names are:\n  run_all (runs all actions in project)\n  a\n  b\n  c\n  d"
        );
        let unknown = plan(&project, &["e".into()], false, |_| false).unwrap_err();
        assert!(
            unknown
                .to_string()
                .starts_with("Action 'e' not found in project.yaml\nValid")
        );
    }
}
