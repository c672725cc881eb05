//! cohortkit: fast, lossless tools for OpenSAFELY-style cohort studies.
//!
//! The commands, each owning its command line (`args.rs`):
//! - [`join`]: the left join of weekly cohort files to a per-patient file
//!   (`cohort-joiner`), without changing a value;
//! - [`report`]: HTML dataset reports under disclosure control
//!   (`dataset-report`);
//! - [`dummy`]: dummy cohorts drawn from a schema (`cohortkit generate`,
//!   and `generate_cohort` in pipelines) and schema import;
//! - [`measures`]: cohortextractor's `generate_measures`, natively;
//! - [`pipeline`]: `project.yaml` checked and run locally, data actions
//!   in-process (`check`, `run`, `demo`);
//! - [`cli`]: the `cohortkit` subcommands and argv\[0\] dispatch, exit
//!   status and interrupts.
//!
//! What they stand on, importing nothing above:
//! - [`batch`]: files processed in parallel with one pool, one progress
//!   bar and one error naming every failure;
//! - [`directory`]: `-C DIR`, the directory a tool takes its paths from;
//! - [`hashing`]: hash maps that need no random source;
//! - [`interrupt`]: whether a signal came, and how the program stops;
//! - [`progress`]: progress bars on a terminal, silence elsewhere;
//! - [`study`]: cohortextractor study definitions read as written;
//! - [`yaml`]: the one YAML layer, with lines, every duplicate key, merge
//!   keys and bounded aliases;
//! - [`table`]: reading and writing cohort files in every format, values
//!   kept exactly.

pub mod batch;
pub mod cli;
pub mod directory;
pub mod dummy;
pub mod ehrql;
pub mod hashing;
pub mod interrupt;
pub mod join;
pub mod measures;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod study;
pub mod table;
pub mod yaml;
