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
//! Today: [`plan_branch`] (`meta branch`), [`plan_switch`] (`meta switch`), [`topics`]
//! (`meta branches`), [`check_pins`] (`meta check pins`) and [`plan_push`] (`meta push`:
//! ordered, verified against the remotes, idempotent). Later commands
//! (commit, …) build on the same pieces: [`RepoState`] for refusals,
//! [`Plan`] for their git calls.
//!
//! Every git call goes through [`meta_workflow::git`]; names reach git only inside `refs/…`
//! arguments or glued to an option (`--create=NAME`), and names starting with `-` are refused.

mod branch;
mod error;
mod name;
mod pins;
mod plan;
mod push;
mod remote;
mod state;
mod switch;
mod topics;

pub use branch::{
    Action, BranchPlan, BranchRequest, RepoOutcome, Skip, StartFrom, StartKind, abandoned_ref,
    plan_branch,
};
pub use error::{ChangeError, Refusal};
pub use name::check_branch_name;
pub use pins::{PinCheck, PinStatus, PinsError, PinsRequest, check_pins, pins_without_remote_ref};
pub use plan::{ApplyError, GitCall, Plan, Step};
pub use push::{
    NoPushProgress, OutgoingPin, PROJECT_REMOTE, ProjectPush, PushError, PushFailure, PushOutcome,
    PushPlan, PushProgress, PushReason, PushRefusal, PushRequest, Pushed, Update, plan_push,
};
pub use state::{InProgress, RepoState};
pub use switch::{SwitchOutcome, SwitchPlan, SwitchRequest, SwitchSkip, Target, plan_switch};
pub use topics::{ProjectTopic, RepoTopic, Topic, topics};

/// How the superproject is named in plans, outcomes and refused paths.
pub const SUPERPROJECT: &str = ".";
