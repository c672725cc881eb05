//! The words an action's run ends with (upstream's status message), in its
//! log and in the console summary.

/// How an action's run ended, in words: its status message and, when a
/// pattern matched nothing but the action wrote other files, a hint naming
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    /// The status message.
    pub message: String,
    /// What the user may have meant.
    pub hint: Option<String>,
}

impl Ending {
    /// The message, then the hint after a blank line.
    pub fn joined(&self) -> String {
        match &self.hint {
            Some(hint) => format!("{}\n\n{hint}", self.message),
            None => self.message.clone(),
        }
    }
}

/// The status text of an action that exited with `exit_code` (the reason
/// it could not start, when nothing here can run it, stands for the error),
/// whose `unmatched_patterns` matched no file and whose `unclaimed` new
/// files are no output.
pub fn status_text(
    exit_code: i32,
    unavailable: Option<&str>,
    unmatched_patterns: &[String],
    unclaimed: &[String],
) -> Ending {
    if exit_code != 0 {
        let message = unavailable.unwrap_or("Job exited with an error").to_owned();
        return Ending {
            message,
            hint: None,
        };
    }
    if unmatched_patterns.is_empty() {
        return Ending {
            message: "Completed successfully".into(),
            hint: None,
        };
    }
    Ending {
        message: format!(
            "No outputs found matching patterns:\n - {}",
            unmatched_patterns.join("\n - ")
        ),
        hint: (!unclaimed.is_empty()).then(|| {
            format!(
                "Did you mean to match one of these files instead?\n - {}",
                unclaimed.join("\n - ")
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_error_exit_outranks_missing_outputs() {
        let patterns = strings(&["output/a.csv"]);
        let failed = status_text(1, None, &patterns, &[]);
        assert_eq!(failed.joined(), "Job exited with an error");
        let unavailable = status_text(1, Some("no R here"), &patterns, &[]);
        assert_eq!(
            unavailable,
            Ending {
                message: "no R here".into(),
                hint: None
            }
        );
        assert_eq!(
            status_text(0, None, &[], &strings(&["output/b.csv"])).joined(),
            "Completed successfully"
        );
    }

    #[test]
    fn unmatched_patterns_are_listed_with_the_files_meant() {
        let patterns = strings(&["output/a.csv", "output/b_*.csv"]);
        let text = status_text(0, None, &patterns, &[]);
        assert_eq!(
            text.joined(),
            "No outputs found matching patterns:\n - output/a.csv\n - output/b_*.csv"
        );
        let text = status_text(0, None, &patterns, &strings(&["output/A.csv", "x.log"]));
        assert_eq!(
            text.joined(),
            "No outputs found matching patterns:\n - output/a.csv\n - output/b_*.csv\n\n\
             Did you mean to match one of these files instead?\n - output/A.csv\n - x.log"
        );
    }
}
