//! `meta bridge status [--json]`.

use std::process::ExitCode;

use crate::cli::Ctx;
use crate::error::CliResult;

use super::BridgeReport;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON: {"enabled", "node", "scope", "stream", "servers", "auth", "state", "since",
    /// "export_cursor", "last_sequence", "export_backlog", "exported", "skipped_oversize",
    /// "imported", "import_duplicates", "gaps", "last_error", "service_pid"}.
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let report = BridgeReport::of(&workspace)?;
    if args.json {
        ctx.ui.print_json(&report)?;
    } else {
        ctx.ui.print(report.render(ctx))?;
    }
    Ok(ExitCode::SUCCESS)
}
