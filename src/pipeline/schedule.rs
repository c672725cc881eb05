//! The runner's decisions, apart from running anything: when a planned
//! action may start, and when it cannot run because of an action it needs.

use std::collections::HashMap;

use super::project::Action;

/// How an action's part in this run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Ran, and wrote every declared output.
    Succeeded,
    /// Ran and failed, or could not start.
    Failed,
    /// Not run: an action it needs failed.
    DependencyFailed,
    /// Not run: nothing here can run it (or an action it needs), and
    /// `--skip-unavailable` was given.
    Skipped,
    /// Not started because an earlier action failed or the run was
    /// interrupted.
    NotStarted,
    /// Stopped because the run was interrupted.
    Cancelled,
}

impl Verdict {
    /// The verdict in the summary table.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Succeeded => "succeeded",
            Verdict::Failed => "failed",
            Verdict::DependencyFailed => "dependency failed",
            Verdict::Skipped => "skipped",
            Verdict::NotStarted => "not started",
            Verdict::Cancelled => "cancelled",
        }
    }
}

/// What to do now with one pending action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Leave it pending: a need has not ended, or enough actions are running.
    Wait,
    /// Start it: every need succeeded and there is room.
    Start,
    /// Skip it: `need` (an index into the project's actions) was skipped.
    Skip {
        /// The skipped need.
        need: usize,
    },
    /// Do not run it: `need` failed or could not run.
    Blocked {
        /// The need that did not succeed.
        need: usize,
    },
}

/// The needs of each planned action that are planned too, in the order
/// written, by index into `actions`. A need outside the plan is reused from
/// an earlier run, so nothing waits for it.
pub fn planned_needs(actions: &[Action], planned: &[usize]) -> HashMap<usize, Vec<usize>> {
    let index: HashMap<&str, usize> = actions
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    planned
        .iter()
        .map(|&a| {
            let needs = actions[a]
                .needs
                .iter()
                .filter_map(|(name, _)| index.get(name.as_str()).copied())
                .filter(|n| planned.contains(n))
                .collect();
            (a, needs)
        })
        .collect()
}

/// The next step for a pending action with these (planned) `needs`, given
/// the verdicts of the actions that ended (`done`) and how many are
/// `running` of at most `limit` (0 counts as 1). The first need that ended
/// without succeeding decides, whatever the limit.
pub fn step(needs: &[usize], done: &HashMap<usize, Verdict>, running: usize, limit: usize) -> Step {
    let unsuccessful = needs.iter().find_map(|n| {
        done.get(n)
            .filter(|v| **v != Verdict::Succeeded)
            .map(|v| (*n, *v))
    });
    match unsuccessful {
        Some((need, Verdict::Skipped)) => Step::Skip { need },
        Some((need, _)) => Step::Blocked { need },
        None if running < limit.max(1)
            && needs
                .iter()
                .all(|n| done.get(n) == Some(&Verdict::Succeeded)) =>
        {
            Step::Start
        }
        None => Step::Wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::project::Command;

    fn done(verdicts: &[(usize, Verdict)]) -> HashMap<usize, Verdict> {
        verdicts.iter().copied().collect()
    }

    fn action(id: &str, needs: &[&str]) -> Action {
        Action {
            id: id.into(),
            line: 1,
            run: Command {
                raw: "true".into(),
                words: vec!["true".into()],
                line: 1,
            },
            needs: needs.iter().map(|n| (n.to_string(), 1)).collect(),
            outputs: Vec::new(),
            config: None,
            dummy_data_file: None,
        }
    }

    #[test]
    fn an_action_starts_when_every_need_succeeded() {
        assert_eq!(step(&[], &done(&[]), 0, 2), Step::Start);
        let ok = done(&[(0, Verdict::Succeeded), (1, Verdict::Succeeded)]);
        assert_eq!(step(&[0, 1], &ok, 1, 2), Step::Start);
    }

    #[test]
    fn an_action_waits_while_a_need_runs() {
        let one = done(&[(0, Verdict::Succeeded)]);
        assert_eq!(step(&[0, 1], &one, 1, 4), Step::Wait);
    }

    #[test]
    fn a_skipped_or_failed_need_is_named() {
        let ended = done(&[
            (0, Verdict::Succeeded),
            (1, Verdict::Skipped),
            (2, Verdict::Failed),
            (3, Verdict::DependencyFailed),
        ]);
        assert_eq!(step(&[0, 1, 2], &ended, 0, 2), Step::Skip { need: 1 });
        assert_eq!(step(&[2, 1], &ended, 0, 2), Step::Blocked { need: 2 });
        assert_eq!(step(&[3], &ended, 0, 2), Step::Blocked { need: 3 });
        // Even with a need still running, or no room to start.
        assert_eq!(step(&[5, 2], &ended, 2, 2), Step::Blocked { need: 2 });
    }

    #[test]
    fn no_more_than_the_limit_run_at_once() {
        assert_eq!(step(&[], &done(&[]), 1, 2), Step::Start);
        assert_eq!(step(&[], &done(&[]), 2, 2), Step::Wait);
        assert_eq!(step(&[], &done(&[]), 0, 0), Step::Start);
        assert_eq!(step(&[], &done(&[]), 1, 0), Step::Wait);
    }

    #[test]
    fn needs_outside_the_plan_are_ignored() {
        let actions = [
            action("reused", &[]),
            action("first", &[]),
            action("second", &["reused", "first"]),
        ];
        let needs = planned_needs(&actions, &[1, 2]);
        assert_eq!(needs, HashMap::from([(1, vec![]), (2, vec![1])]));
        let first = done(&[(1, Verdict::Succeeded)]);
        assert_eq!(step(&needs[&2], &first, 0, 1), Step::Start);
    }
}
