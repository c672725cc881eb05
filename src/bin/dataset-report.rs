//! `dataset-report`: the same as `cohortkit report`.
fn main() -> std::process::ExitCode {
    cohortkit::cli::main_as("dataset-report")
}
