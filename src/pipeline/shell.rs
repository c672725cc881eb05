//! Splitting and quoting command lines exactly as Python's `shlex` does in
//! POSIX mode, which is how upstream reads an action's `run:` string: quotes
//! are removed, `#` is not a comment, and newlines separate words.

use std::fmt;

/// A `run:` string that cannot be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// A quote is opened and never closed.
    UnclosedQuote(char),
    /// The string ends with a lone backslash.
    TrailingBackslash,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SplitError::UnclosedQuote(q) => write!(f, "the quote {q} is never closed"),
            SplitError::TrailingBackslash => write!(f, "it ends with a lone backslash"),
        }
    }
}

/// Splits `text` into words like `shlex.split(text)`.
pub fn split(text: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                word.push(chars.next().ok_or(SplitError::TrailingBackslash)?);
                in_word = true;
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(SplitError::UnclosedQuote('\'')),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(SplitError::UnclosedQuote('"')),
                        },
                        Some(c) => word.push(c),
                        None => return Err(SplitError::UnclosedQuote('"')),
                    }
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Quotes one word like `shlex.quote`.
pub fn quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if word.is_empty() {
        "''".into()
    } else if word.chars().all(safe) {
        word.into()
    } else {
        format!("'{}'", word.replace('\'', r#"'"'"'"#))
    }
}

/// Joins words into one command line like `shlex.join`.
pub fn join<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_python_shlex() {
        let words = split(
            "cohortextractor:latest generate_cohort --index-date-range \"2020-03-01 to 2020-03-01 by week\" --x=a#b 'it''s' \"a\\\"b\\c\" e\\ f ''",
        )
        .unwrap();
        assert_eq!(
            words,
            [
                "cohortextractor:latest",
                "generate_cohort",
                "--index-date-range",
                "2020-03-01 to 2020-03-01 by week",
                "--x=a#b",
                "its",
                "a\"b\\c",
                "e f",
                ""
            ]
        );
        assert_eq!(split("a\n  b\tc\n").unwrap(), ["a", "b", "c"]);
    }

    #[test]
    fn unbalanced_quotes_are_errors() {
        assert_eq!(split("a 'b"), Err(SplitError::UnclosedQuote('\'')));
        assert_eq!(split("a \"b"), Err(SplitError::UnclosedQuote('"')));
        assert_eq!(split("a \\"), Err(SplitError::TrailingBackslash));
    }

    #[test]
    fn quoting_round_trips() {
        let words = ["plain", "two words", "it's", "", "--config={\"a\": 1}"];
        assert_eq!(
            join(&words),
            r#"plain 'two words' 'it'"'"'s' '' '--config={"a": 1}'"#
        );
        assert_eq!(split(&join(&words)).unwrap(), words);
    }
}
