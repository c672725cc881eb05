//! `cohortkit check`, `run` and `demo`: project.yaml pipelines run locally,
//! without Docker.
//!
//! [`project`] reads the file (with line numbers, via [`crate::yaml`]) and
//! [`validate`] applies each version's rules; [`plan`] decides what to run;
//! [`runner`] runs ready actions concurrently, each in its own directory
//! ([`workspace`]) through an executor ([`execute`]); [`outputs`] matches and
//! checks what they wrote; [`state`] and [`metadata`] record it.

pub mod collect;
pub mod demo;
pub mod execute;
pub mod file_names;
pub mod json;
pub mod metadata;
pub mod outputs;
pub mod plan;
pub mod process;
pub mod project;
pub mod runner;
pub mod schedule;
pub mod shell;
pub mod state;
pub mod status_text;
pub mod validate;
pub mod workspace;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

/// Arguments of `cohortkit check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The directory holding project.yaml.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub project_dir: PathBuf,
}

/// Arguments of `cohortkit run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Actions to run (with the actions they need), or `run_all`.
    #[arg(value_name = "ACTION")]
    pub actions: Vec<String>,
    /// The directory holding project.yaml.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub project_dir: PathBuf,
    /// Run the needed actions too, even when earlier runs can be reused.
    #[arg(short = 'f', long)]
    pub force_run_dependencies: bool,
    /// Keep running what can run after an action fails.
    #[arg(long)]
    pub continue_on_error: bool,
    /// Actions to run at once.
    #[arg(short = 'c', long, value_name = "N", default_value_t = 2)]
    pub concurrency: usize,
    /// Report actions that nothing here can run (a missing interpreter, an
    /// image cohortkit does not provide) as skipped instead of failed.
    #[arg(long)]
    pub skip_unavailable: bool,
    /// Prefix progress lines with the time.
    #[arg(long)]
    pub timestamps: bool,
    /// Pass the environment variable NAME on to every action (each gets
    /// only PATH, HOME, LANG, LANGUAGE, LC_*, TMPDIR and
    /// OPENSAFELY_BACKEND otherwise).
    #[arg(long = "env", value_name = "NAME")]
    pub env: Vec<String>,
}

/// Arguments of `cohortkit demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write and run the bundled FLUCATS study.
    #[arg(long, value_name = "DIR", default_value = "cohortkit-demo")]
    pub output_dir: PathBuf,
    /// Actions to run at once.
    #[arg(short = 'c', long, value_name = "N", default_value_t = 2)]
    pub concurrency: usize,
}

/// Runs `cohortkit check`: prints the warnings, and fails with every problem.
pub fn check(args: &CheckArgs) -> anyhow::Result<()> {
    let path = args.project_dir.join("project.yaml");
    let (valid, warnings) = validate::load(&path)?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    println!(
        "{}: valid (version {}, {} actions)",
        path.display(),
        crate::table::text::python_float(valid.project.version),
        valid.project.actions.len()
    );
    Ok(())
}

/// Runs `cohortkit run`: plans, runs, prints the summary; fails when any
/// action failed.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let project_dir = std::path::absolute(&args.project_dir)
        .with_context(|| format!("cannot resolve {}", args.project_dir.display()))?;
    let (valid, warnings) = validate::load(&project_dir.join("project.yaml"))?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    let _lock = state::RunLock::acquire(&project_dir)?;
    // What killed runs left half-written; no other run can be writing now.
    for dir in ["metadata", state::PRIVATE_DIR] {
        crate::table::atomic::remove_stale(&project_dir.join(dir));
    }
    let mut state = state::State::load(&project_dir)?;
    for name in state.cancel_interrupted() {
        eprintln!("note: the last run of {name} was interrupted; it is marked cancelled");
    }
    let planned = match plan::plan(
        &valid.project,
        &args.actions,
        args.force_run_dependencies,
        |action| state.reusable(action, &project_dir),
    )? {
        plan::RunPlan::Run(planned) => planned,
        plan::RunPlan::NothingToDo => {
            println!("=> All actions already completed successfully");
            println!("   Use -f option to force everything to re-run");
            return Ok(());
        }
    };
    let names: Vec<&str> = planned
        .iter()
        .map(|&i| valid.project.actions[i].id.as_str())
        .collect();
    println!("\nRunning actions: {}\n", names.join(", "));
    let options = runner::Options {
        concurrency: args.concurrency,
        continue_on_error: args.continue_on_error,
        skip_unavailable: args.skip_unavailable,
        timestamps: args.timestamps,
        env: args.env.clone(),
    };
    let runner = runner::Runner::new(&project_dir, &valid, state, options)?;
    let interrupts = crate::interrupt::RunInterrupts::take();
    let outcomes = runner.run(&planned);
    print!("\n{}", runner::summary(&outcomes));
    let ended = |verdict| -> Vec<&str> {
        outcomes
            .iter()
            .filter(|o| o.verdict == verdict)
            .map(|o| o.action.as_str())
            .collect()
    };
    if let Some(signal) = crate::interrupt::signal() {
        let listed = |names: Vec<&str>| {
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        };
        anyhow::bail!(
            "the run was interrupted (signal {signal}): cancelled {}; not started {}",
            listed(ended(schedule::Verdict::Cancelled)),
            listed(ended(schedule::Verdict::NotStarted))
        );
    }
    drop(interrupts);
    let failed = ended(schedule::Verdict::Failed);
    if !failed.is_empty() {
        anyhow::bail!(
            "{} of {} actions failed: {} (logs in {})",
            failed.len(),
            outcomes.len(),
            failed.join(", "),
            Path::new("metadata").display()
        );
    }
    Ok(())
}

/// Runs `cohortkit demo`: writes the bundled FLUCATS study to the output
/// directory, runs `run_all --skip-unavailable` there and says where the
/// results are.
pub fn demo(args: &DemoArgs) -> anyhow::Result<()> {
    demo::write_study(&args.output_dir)?;
    run(&RunArgs {
        actions: vec![validate::RUN_ALL.into()],
        project_dir: args.output_dir.clone(),
        force_run_dependencies: false,
        continue_on_error: false,
        concurrency: args.concurrency,
        skip_unavailable: true,
        timestamps: false,
        env: Vec::new(),
    })?;
    println!();
    demo::print_results(&args.output_dir);
    Ok(())
}
