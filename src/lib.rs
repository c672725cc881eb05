//! cohortkit: fast, lossless tools for OpenSAFELY-style cohort studies.
//!
//! - [`join`]: the left join of weekly cohort files to a per-patient file
//!   (`cohort-joiner`).
//! - [`table`]: reading and writing cohort files in every supported format.

pub mod batch;
pub mod cli;
pub mod directory;
pub mod dummy;
pub mod join;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod table;
pub mod yaml;
