fn main() -> std::process::ExitCode {
    cohortkit::cli::main()
}
