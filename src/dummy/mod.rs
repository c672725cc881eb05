//! PLACEHOLDER for `cohortkit generate` and `cohortkit schema`: being written.

use clap::Args;

/// Arguments of `cohortkit generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {}

/// Arguments of `cohortkit schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {}

/// Runs `cohortkit generate`.
pub fn generate(_args: &GenerateArgs) -> anyhow::Result<()> {
    anyhow::bail!("generate is not implemented yet")
}

/// Runs `cohortkit schema`.
pub fn schema(_args: &SchemaArgs) -> anyhow::Result<()> {
    anyhow::bail!("schema is not implemented yet")
}
