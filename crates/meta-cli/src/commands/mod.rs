//! Built-in commands, one module each. Each module has an `Args` struct (clap derive) and a
//! `run(ctx, args)` function; the table below registers them.

mod abandon;
mod branch;
mod branches;
pub(crate) mod bridge;
mod check;
mod commit;
mod completions;
mod cruft_link;
mod daemon;
mod diff;
mod events;
mod exec;
mod health;
mod help;
mod init;
mod land;
mod new;
mod plugin;
mod project;
mod prune;
mod push;
mod rebase;
mod status;
mod switch;
mod sync;
mod template;
mod templating;

use crate::registry::Builtin;

/// Registers `module` as `meta <name>`.
macro_rules! builtin {
    ($module:ident, $name:literal, $about:literal) => {
        Builtin {
            name: $name,
            about: $about,
            build: <$module::Args as clap::Args>::augment_args,
            run: |ctx, matches| {
                let args = <$module::Args as clap::FromArgMatches>::from_arg_matches(matches)?;
                $module::run(ctx, args)
            },
        }
    };
}

/// Every built-in command, in the order `meta --help` lists them.
pub static BUILTINS: &[Builtin] = &[
    builtin!(
        init,
        "init",
        "Create a new meta-repo from the built-in template"
    ),
    builtin!(
        new,
        "new",
        "Render a cookiecutter template (a folder or a git URL)"
    ),
    builtin!(
        status,
        "status",
        "Show every project's checkout, changes and upstream, then plugins and events"
    ),
    builtin!(
        health,
        "health",
        "Check the whole meta-repo (config, git, submodules, events, plugins): pass, warn or fail"
    ),
    builtin!(
        project,
        "project",
        "List, add and remove projects (the submodules under src/)"
    ),
    builtin!(
        sync,
        "sync",
        "Check out every project at its pin, in parallel, never losing local work"
    ),
    builtin!(
        exec,
        "exec",
        "Run a command in every project, in parallel, output grouped in project order"
    ),
    builtin!(
        branch,
        "branch",
        "Start a topic: one branch name in the superproject and the selected projects"
    ),
    builtin!(
        branches,
        "branches",
        "List topics: which projects have them, checked out, ahead/behind, pushed, pinned"
    ),
    builtin!(
        check,
        "check",
        "Check the meta-repo against its remotes: `meta check pins` asks whether every pin is pushed"
    ),
    builtin!(
        switch,
        "switch",
        "Switch the superproject and every project to a topic, all or nothing"
    ),
    builtin!(
        commit,
        "commit",
        "Commit in every project of the topic, then record their pins in one superproject commit"
    ),
    builtin!(
        diff,
        "diff",
        "Show the changes of the superproject and every project as one patch of the root"
    ),
    builtin!(
        push,
        "push",
        "Publish the topic: projects' branches first, every pin verified on its remote, then the superproject"
    ),
    builtin!(
        land,
        "land",
        "After the projects' reviews merged (squash merges too), re-pin the topic to what landed"
    ),
    builtin!(
        rebase,
        "rebase",
        "Rebase every project of the topic onto its tracked branch and re-record the pins"
    ),
    builtin!(
        abandon,
        "abandon",
        "Delete a topic everywhere, keeping its tips so `--undo` brings it back"
    ),
    builtin!(
        prune,
        "prune",
        "Abandon every topic whose projects have all landed (squash merges included)"
    ),
    builtin!(
        template,
        "template",
        "Keep projects made from cookiecutter templates up to date (cruft-compatible)"
    ),
    builtin!(
        events,
        "events",
        "Publish events, or show the event log and follow the bus"
    ),
    builtin!(
        bridge,
        "bridge",
        "Share events across machines through NATS JetStream: status, push (CI), resend"
    ),
    builtin!(
        daemon,
        "daemon",
        "Start, stop or inspect the event bus daemon"
    ),
    builtin!(
        plugin,
        "plugin",
        "Manage plugins: list, info, install, uninstall, enable, disable, trust"
    ),
    builtin!(
        completions,
        "completions",
        "Print shell completions for bash, zsh or fish"
    ),
    builtin!(help, "help", "Show help for meta or one of its commands"),
];
