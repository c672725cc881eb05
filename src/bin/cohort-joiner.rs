//! `cohort-joiner`: the same as `cohortkit join`.
fn main() -> std::process::ExitCode {
    cohortkit::cli::main_as("cohort-joiner")
}
