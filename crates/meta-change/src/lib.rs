//! Changes that span the projects of a meta-repo (DESIGN.md section 9): the data and the rules,
//! with no terminal I/O.
//!
//! - A **topic** is a branch name: the superproject's branch plus the same-named branches of
//!   the projects taking part. It is read from the repositories ([`topics`]), never stored.
//! - A project's **start point** is its HEAD when HEAD is the pin or descends from it, else the
//!   pin ([`StartFrom`] forces one); its **tracked branch** follows `meta sync`'s rule
//!   ([`meta_workflow::TrackedBranches`]).
//! - Commands that change repositories first build a [`Plan`]: every git call, listed before
//!   the first runs, so `--dry-run` prints exactly what would run. Reading and refusing
//!   ([`Refusal`]) happen while planning; nothing is written until every repository agreed.
//!   [`Plan::apply`] undoes the calls already made when a later one fails.
//!
//! - Operations whose later steps depend on earlier results keep a [`journal`] while they
//!   run, so a crash half-way can be undone or finished by the next command.
//!
//! Commands: [`plan_branch`] (`meta branch`), [`plan_switch`] (`meta switch`), [`plan_commit`]
//! (`meta commit`), [`plan_push`] (`meta push`: ordered, verified against the remotes,
//! idempotent), [`plan_land`], [`start_rebase`], [`plan_abandon`] / [`plan_prune`], [`topics`]
//! (`meta branches`), [`check_pins`] (`meta check pins`), [`plan_diff`] (`meta diff`).
//!
//! Every git call goes through [`meta_workflow::git`]; names reach git only inside `refs/…`
//! arguments or glued to an option (`--create=NAME`), and names starting with `-` are refused.

mod abandon;
mod branch;
mod commit;
mod diff;
mod error;
pub mod journal;
mod land;
mod name;
mod pins;
mod plan;
mod push;
mod rebase;
mod remote;
mod state;
mod switch;
mod topics;

pub use abandon::{
    AbandonPlan, Abandoned, PrunePlan, PruneTopic, RestorePlan, plan_abandon, plan_prune,
    plan_restore,
};
pub use branch::{
    Action, BranchPlan, BranchRequest, RepoOutcome, Skip, StartFrom, StartKind, abandoned_ref,
    plan_branch,
};
pub use commit::{
    Attach, CommitError, CommitOptions, CommitOutcome, CommitPlan, CommitRequest, CommitSkip,
    Committed, ProjectCommit, RecoverError, Recovered, TOPIC_TRAILER, abort_commit,
    continue_commit, plan_commit,
};
pub use diff::{
    DiffError, DiffFormat, DiffOutput, DiffPlan, DiffRequest, FileChange, Part, Range, RepoDiff,
    plan_diff, read_diffs,
};
pub use error::{ChangeError, Refusal};
pub use land::{
    LandJournalError, LandPlan, LandProject, LandRequest, Landed, NotLanded, abort_land,
    begin_land_journal, plan_land,
};
pub use name::check_branch_name;
pub use pins::{PinCheck, PinStatus, PinsError, PinsRequest, check_pins, pins_without_remote_ref};
pub use plan::{ApplyError, GitCall, JournaledError, Plan, Step, abort_journaled};
pub use push::{
    NoPushProgress, OutgoingPin, PROJECT_REMOTE, ProjectPush, PushError, PushFailure, PushOutcome,
    PushPlan, PushProgress, PushReason, PushRefusal, PushRequest, Pushed, Update, plan_push,
};
pub use rebase::{
    RebaseError, RebaseOutcome, RebaseProject, abort_rebase, continue_rebase, start_rebase,
};
pub use state::{InProgress, RepoState};
pub use switch::{SwitchOutcome, SwitchPlan, SwitchRequest, SwitchSkip, Target, plan_switch};
pub use topics::{ProjectTopic, RepoTopic, Topic, topics};

/// How the superproject is named in plans, outcomes and refused paths.
pub const SUPERPROJECT: &str = ".";
