//! `meta plugin list [--json]`: every plugin, built-in and installed, from manifests alone.

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::cli::Ctx;
use crate::error::CliResult;
use crate::plugins;
use crate::ui::styles;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON: `[{"name", "version", "enabled", "source", "path", "commands", "service"}]`.
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?;
    let lock = plugins::manager(workspace).lock()?;
    let (entries, problems) = super::list_entries(workspace)?;
    for problem in &problems {
        ctx.ui.warn(problem);
    }
    if args.json {
        ctx.ui.print_json(&entries)?;
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        ctx.ui.note(
            "No plugins. Install one with `meta plugin install SOURCE` (see docs/plugins.md).",
        );
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<[String; 6]> = entries
        .iter()
        .map(|entry| {
            let linked = lock.plugins.get(&entry.name).is_some_and(|e| e.linked);
            [
                entry.name.clone(),
                entry.version.clone(),
                if entry.enabled { "enabled" } else { "disabled" }.to_owned(),
                if entry.commands.is_empty() {
                    "-".to_owned()
                } else {
                    entry.commands.join(", ")
                },
                entry.service.as_ref().map_or_else(
                    || "-".to_owned(),
                    |s| match s.pid {
                        Some(pid) => format!("{} (pid {pid})", s.state),
                        None => s.state.to_owned(),
                    },
                ),
                if linked {
                    format!("{} (linked)", entry.source)
                } else {
                    entry.source.clone()
                },
            ]
        })
        .collect();
    let header = ["NAME", "VERSION", "STATE", "COMMANDS", "SERVICE", "SOURCE"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let line = |cells: [&str; 6], styled: &dyn Fn(usize, &str) -> String| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            out.push_str(&styled(i, cell));
            if i + 1 < cells.len() {
                out.push_str(&" ".repeat(pad + 2));
            }
        }
        out
    };
    let _ = writeln!(
        text,
        "{}",
        line(header, &|_, cell| ctx.ui.paint(styles::HEADER, cell))
    );
    for row in &rows {
        let cells = [
            row[0].as_str(),
            row[1].as_str(),
            row[2].as_str(),
            row[3].as_str(),
            row[4].as_str(),
            row[5].as_str(),
        ];
        let styled = |i: usize, cell: &str| match (i, cell) {
            (0, _) => ctx.ui.paint(styles::EMPHASIS, cell),
            (2, "enabled") => ctx.ui.paint(styles::OK, cell),
            (2, _) => ctx.ui.paint(styles::DIM, cell),
            (4, "failed") => ctx.ui.paint(styles::ERROR, cell),
            _ => cell.to_owned(),
        };
        let _ = writeln!(text, "{}", line(cells, &styled).trim_end());
    }
    // A failed service says why, so the list alone tells what to fix.
    for entry in &entries {
        if let Some(service) = &entry.service
            && service.state == "failed"
            && let Some(reason) = &service.reason
        {
            let _ = writeln!(text, "\n{}: service failed: {reason}", entry.name);
            if let Some(log) = &service.log {
                let _ = writeln!(text, "  its log: {log}");
            }
        }
    }
    ctx.ui.print(text)?;
    Ok(ExitCode::SUCCESS)
}
