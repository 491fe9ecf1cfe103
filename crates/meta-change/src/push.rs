//! `meta push`: publishes the superproject's current branch T (the topic) so that no
//! superproject commit ever reaches its remote before the pins it records reach theirs.
//!
//! **Planning** ([`plan_push`], reading and asking only):
//! - the superproject's remote (`branch.T.remote`, else `origin`) is asked for its refs with
//!   `ls-remote` (and, when this clone lacks one of their tips, a fetch into the private
//!   namespace of [`crate::remote`]); the *outgoing* commits are those of T it lacks, and their
//!   *pins* every gitlink each one changes against its first parent (all of them, not only the
//!   tip's);
//! - each project holding outgoing pins is read locally, in parallel: when its branch T holds
//!   every pin and some pin is on no remote-tracking ref, T is pushed without asking first (the
//!   push's own per-ref answer verifies it); otherwise (every pin looks pushed, a pin is off T,
//!   or `--force-with-lease`) its remote is asked with one fetch, since remote-tracking refs can
//!   be stale: pins the remote lacks make T pushed when T holds them, else the push is refused;
//! - refusals are collected over every project before anything is pushed.
//!
//! **Running** ([`PushPlan::run`]): phase 1 pushes the projects in parallel with an explicit
//! `refs/heads/T:refs/heads/T` and `--porcelain`; any rejected ref stops there (the superproject
//! is not pushed). Phase 2 is the verification: a ref the remote reports updated (or up to
//! date) to a tip holding the pins is the remote's own answer, and every project not pushed is
//! asked again now (`ls-remote`, then which pins its tips hold; a fetch when a tip is new
//! here), so a pin lost while phase 1 ran stops the superproject. Phase 3 pushes the
//! superproject (`--set-upstream` when T has none). An interrupted push leaves only project
//! branches, and running it again pushes only what the remotes lack.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use meta_repo::ObjectId;
use meta_workflow::git::{
    GitError, git, has_commit, is_ancestor, looks_like_option, rev_parse, symbolic_ref,
};

use crate::SUPERPROJECT;
use crate::plan::GitCall;
use crate::remote::{Remote, parallel, unverifiable_reason};

/// The remote projects are pushed to: the one `meta sync` fetches from.
pub const PROJECT_REMOTE: &str = "origin";

/// What to push and how.
#[derive(Debug, Clone)]
pub struct PushRequest<'a> {
    /// The meta-repo's root.
    pub root: &'a Path,
    /// Repositories asked or pushed at once.
    pub jobs: usize,
    /// The longest one network call (a fetch or a push) may take.
    pub timeout: Duration,
    /// Project pushes may replace the remote's T (`--force-with-lease` on the tip the remote
    /// had), unless that would drop a pin some superproject commit records.
    pub force_with_lease: bool,
    /// Given to every push as `--push-option=OPT`.
    pub push_options: &'a [String],
    /// Only these projects (paths) may be pushed (`None`: any); the others' pins must be on
    /// their remotes already, asked like any project that looks pushed.
    pub only: Option<&'a [String]>,
}

/// A pin an outgoing superproject commit records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutgoingPin {
    pub pin: ObjectId,
    /// The first outgoing superproject commit that records it.
    pub commit: ObjectId,
}

/// Why a project's T is pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushReason {
    /// Some pin is on no remote-tracking ref: not pushed yet, as far as this clone knows.
    NotPushed,
    /// The remote, asked now, lacks a pin (a remote-tracking ref may claim otherwise).
    RemoteLacks,
}

/// One project holding outgoing pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectPush {
    pub path: String,
    /// Its outgoing pins, in the order the superproject commits record them.
    pub pins: Vec<OutgoingPin>,
    /// Its branch T (`None`: it has none; then every pin is on the remote already).
    pub tip: Option<ObjectId>,
    /// The remote's T when the remote was asked while planning (`None`: not asked, or no T).
    pub remote_tip: Option<ObjectId>,
    /// The remote was asked while planning (this is how a project not pushed is verified).
    pub asked: bool,
    /// Why T is pushed (`None`: the remote holds every pin; nothing is pushed).
    pub reason: Option<PushReason>,
    /// The push replaces the remote's T (`--force-with-lease`, not a fast-forward).
    pub forced: bool,
    /// The push (`None`: not pushed).
    pub call: Option<GitCall>,
}

/// The whole of `meta push`, decided. Dropping it deletes the private refs asking left.
#[derive(Debug)]
pub struct PushPlan {
    pub topic: String,
    /// The superproject's remote.
    pub remote: String,
    /// The superproject's T.
    pub tip: ObjectId,
    /// The remote's T, as asked while planning (`None`: it has no T).
    pub remote_tip: Option<ObjectId>,
    /// Superproject commits of T the remote lacks, oldest first.
    pub outgoing: Vec<ObjectId>,
    /// Projects holding outgoing pins, in path order.
    pub projects: Vec<ProjectPush>,
    /// T has no upstream: the superproject's push sets it.
    pub set_upstream: bool,
    /// The superproject's push replaces the remote's T (`--force-with-lease`).
    pub forced: bool,
    /// The superproject's push (`None`: its remote has T already: nothing to push).
    pub superproject: Option<GitCall>,
    root: PathBuf,
    timeout: Duration,
    jobs: usize,
    /// Private namespaces, held only so that dropping the plan deletes them (the
    /// superproject's and every project asked).
    _namespaces: Vec<Namespace>,
}

/// A private namespace of fetched refs, deleted when dropped.
#[derive(Debug)]
struct Namespace(Remote);

impl Drop for Namespace {
    fn drop(&mut self) {
        self.0.clean();
    }
}

/// How the remote took a ref (from `git push --porcelain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// A new branch on the remote.
    New,
    FastForward,
    /// Replaced (with the lease).
    Forced,
    /// The remote had it already.
    UpToDate,
}

impl Update {
    /// The word in output and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Update::New => "new",
            Update::FastForward => "fast-forward",
            Update::Forced => "forced",
            Update::UpToDate => "up-to-date",
        }
    }
}

/// A push the remote (or git) did not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushFailure {
    /// The project's path, or `.` for the superproject.
    pub path: String,
    /// git's reason: the ref's status (`[remote rejected] (pre-receive hook declined)`) or its
    /// `fatal:` line.
    pub reason: String,
    /// What the remote said (`remote: …` lines, prefix removed), e.g. a hook's message.
    pub remote_says: Vec<String>,
}

/// One project pushed in phase 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub path: String,
    pub update: Update,
    /// The tip the remote now has.
    pub tip: ObjectId,
}

/// What [`PushPlan::run`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    /// Projects pushed, in path order.
    pub projects: Vec<Pushed>,
    /// The superproject's push (`None`: nothing to push).
    pub superproject: Option<Update>,
}

/// Told how a push goes, as it goes (called from several threads).
pub trait PushProgress: Sync {
    /// Phase 1 starts with `count` project pushes.
    fn projects(&self, _count: usize) {}
    /// One project push finished.
    fn project_done(&self, _path: &str, _result: Result<&Pushed, &PushFailure>) {}
    /// Phase 2: `count` projects not pushed are asked again.
    fn verifying(&self, _count: usize) {}
    /// Phase 3: the superproject's push starts.
    fn superproject(&self) {}
}

/// A [`PushProgress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPushProgress;

impl PushProgress for NoPushProgress {}

/// Why `meta push` refused, before pushing anything. `path` is a project's path or `.`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushRefusal {
    #[error(
        "the superproject is not on a branch (HEAD detached at {head}): there is no topic to push"
    )]
    Detached { head: String },
    #[error("the superproject has no commit yet")]
    Unborn,
    #[error(
        "the superproject's branch `{name}` starts with `-`, so git could read it as an option"
    )]
    TopicLooksLikeOption { name: String },
    #[error("{} has no remote `{remote}`", place(path))]
    NoRemote { path: String, remote: String },
    #[error(
        "`{path}` is not cloned here, so its pin {} cannot be verified",
        short(pin)
    )]
    NotCloned { path: String, pin: ObjectId },
    #[error(
        "{}: cannot verify that its remote holds the pins: {reason}",
        place(path)
    )]
    CannotVerify { path: String, reason: String },
    #[error(
        "`{path}`: pin {} (recorded by superproject commit {}) is neither in this clone nor on its remote",
        short(pin),
        short(commit)
    )]
    PinMissing {
        path: String,
        pin: ObjectId,
        commit: ObjectId,
    },
    #[error(
        "`{path}`: pin {} (recorded by superproject commit {}) is not on its remote, and no branch meta can push holds it (`{topic}` there {})",
        short(pin),
        short(commit),
        if *topic_exists { "does not contain it" } else { "does not exist" }
    )]
    PinOffTopic {
        path: String,
        topic: String,
        pin: ObjectId,
        commit: ObjectId,
        topic_exists: bool,
    },
    #[error(
        "{}: the remote's `{topic}` is at {}, which `{topic}` here ({}) does not contain",
        place(path),
        short(remote_tip),
        short(tip)
    )]
    Diverged {
        path: String,
        topic: String,
        remote_tip: ObjectId,
        tip: ObjectId,
    },
    #[error(
        "`{path}`: pin {} (recorded by superproject commit {}) is not on its remote, and the project is not among those selected to push",
        short(pin),
        short(commit)
    )]
    NotSelected {
        path: String,
        pin: ObjectId,
        commit: ObjectId,
    },
    #[error(
        "`{path}`: pin {} (recorded by superproject commit {}) was on its remote when asked before the pushes, and is not any more",
        short(pin),
        short(commit)
    )]
    LostMeanwhile {
        path: String,
        pin: ObjectId,
        commit: ObjectId,
    },
    #[error(
        "`{path}`: force-pushing `{topic}` would drop pin {} (recorded by superproject commit {}) from its remote",
        short(pin),
        short(commit)
    )]
    WouldOrphan {
        path: String,
        topic: String,
        pin: ObjectId,
        commit: ObjectId,
    },
}

impl PushRefusal {
    /// The repository it is about (`.` for the superproject).
    pub fn path(&self) -> &str {
        match self {
            PushRefusal::Detached { .. }
            | PushRefusal::Unborn
            | PushRefusal::TopicLooksLikeOption { .. } => SUPERPROJECT,
            PushRefusal::NoRemote { path, .. }
            | PushRefusal::NotCloned { path, .. }
            | PushRefusal::CannotVerify { path, .. }
            | PushRefusal::PinMissing { path, .. }
            | PushRefusal::PinOffTopic { path, .. }
            | PushRefusal::Diverged { path, .. }
            | PushRefusal::NotSelected { path, .. }
            | PushRefusal::LostMeanwhile { path, .. }
            | PushRefusal::WouldOrphan { path, .. } => path,
        }
    }

    /// What to do about it.
    pub fn fix(&self) -> String {
        let git_c = |path: &str| {
            if path == SUPERPROJECT {
                "git".to_owned()
            } else {
                format!("git -C {path}")
            }
        };
        match self {
            PushRefusal::Detached { .. } => "attach the superproject to a branch first: `git switch -c NAME` keeps this commit on a new branch NAME (or `meta switch NAME` for an existing topic), then run `meta push` again".to_owned(),
            PushRefusal::Unborn => "make a first commit in the superproject".to_owned(),
            PushRefusal::TopicLooksLikeOption { .. } => {
                "rename the branch (`git branch -m -- OLD NEW`), then run `meta push` again".to_owned()
            }
            PushRefusal::NoRemote { path, remote } => format!(
                "add it (`{} remote add {remote} URL`), then run `meta push` again",
                git_c(path)
            ),
            PushRefusal::NotCloned { path, .. } => {
                format!("`meta sync {path}` clones it; then run `meta push` again")
            }
            PushRefusal::CannotVerify { path, .. } => format!(
                "check the remote's URL and your access (`{} ls-remote origin`), then run `meta push` again",
                git_c(path)
            ),
            PushRefusal::PinMissing { path, .. } => format!(
                "that commit is lost here and on the remote: record another commit of `{path}` in a new superproject commit, or recover it (`git -C {path} fsck --lost-found`)"
            ),
            PushRefusal::PinOffTopic {
                path, topic, pin, topic_exists, ..
            } => {
                if *topic_exists {
                    format!(
                        "bring it onto `{topic}` there (`git -C {path} switch {topic}` and `git merge {pin}`), re-record the pin, then run `meta push` again"
                    )
                } else {
                    format!(
                        "create `{topic}` there at that commit (`git -C {path} branch {topic} {pin}`), then run `meta push` again"
                    )
                }
            }
            PushRefusal::Diverged { path, topic, .. } if path == SUPERPROJECT => format!(
                "bring the remote's commits into `{topic}` (`git pull --rebase origin {topic}`), or `--force-with-lease` to replace them"
            ),
            PushRefusal::Diverged { path, topic, .. } => format!(
                "bring the remote's commits into `{topic}` (`git -C {path} pull --rebase origin {topic}`) and re-record the pin, or `--force-with-lease` to replace them"
            ),
            PushRefusal::LostMeanwhile { .. } => {
                "someone changed that remote while this ran: run `meta push` again (it pushes the pin when the topic branch holds it)".to_owned()
            }
            PushRefusal::NotSelected { path, .. } => format!(
                "add `{path}` to the projects to push (or run `meta push` without a selection)"
            ),
            PushRefusal::WouldOrphan { path, topic, .. } => format!(
                "keep that commit on the remote: rebuild `{topic}` on top of the remote's (`git -C {path} pull --rebase origin {topic}`) and re-record the pin, instead of replacing it"
            ),
        }
    }
}

/// Why `meta push` stopped.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// Nothing was pushed; every reason is listed.
    #[error("refused: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Refused(Vec<PushRefusal>),
    /// Phase 1: some project pushes failed; the superproject was not pushed. `pushed` took.
    #[error("{} project push{} failed", .failures.len(), if .failures.len() == 1 { "" } else { "es" })]
    Rejected {
        failures: Vec<PushFailure>,
        pushed: Vec<Pushed>,
    },
    /// Phase 2: a pin of a project not pushed could not be found on its remote now; the
    /// superproject was not pushed. `pushed` took.
    #[error("{} pin{} could not be verified on {} remote{} now", .refusals.len(), if .refusals.len() == 1 { "" } else { "s" }, if .refusals.len() == 1 { "its" } else { "their" }, if .refusals.len() == 1 { "" } else { "s" })]
    NotVerified {
        refusals: Vec<PushRefusal>,
        pushed: Vec<Pushed>,
    },
    /// Phase 3: every project is on its remote, the superproject's push failed.
    #[error("the superproject's push failed: {}", .failure.reason)]
    SuperprojectRejected {
        failure: PushFailure,
        pushed: Vec<Pushed>,
    },
    #[error("cannot read `{path}`")]
    Git {
        path: String,
        #[source]
        source: GitError,
    },
}

fn git_error(path: &str) -> impl FnOnce(GitError) -> PushError + '_ {
    move |source| PushError::Git {
        path: path.to_owned(),
        source,
    }
}

/// A repository as people read it in messages: `src/x`, or the superproject.
fn place(path: &str) -> String {
    if path == SUPERPROJECT {
        "the superproject".to_owned()
    } else {
        format!("`{path}`")
    }
}

fn short(id: &ObjectId) -> String {
    id.to_hex_with_len(7).to_string()
}

/// Decides everything `meta push` would do: reads the repositories and asks the remotes that
/// need asking, pushing nothing.
pub fn plan_push(request: &PushRequest<'_>) -> Result<PushPlan, PushError> {
    let root = request.root;
    let Some(tip) = rev_parse(root, "HEAD").map_err(git_error(SUPERPROJECT))? else {
        return Err(PushError::Refused(vec![PushRefusal::Unborn]));
    };
    let Some(topic) = symbolic_ref(root, "HEAD", "refs/heads/").map_err(git_error(SUPERPROJECT))?
    else {
        return Err(PushError::Refused(vec![PushRefusal::Detached {
            head: short(&tip),
        }]));
    };
    if looks_like_option(&topic) {
        return Err(PushError::Refused(vec![
            PushRefusal::TopicLooksLikeOption { name: topic },
        ]));
    }
    let config = config_list(root).map_err(git_error(SUPERPROJECT))?;
    let remote = config
        .get(&format!("branch.{topic}.remote"))
        .filter(|r| *r != "." && !looks_like_option(r))
        .cloned()
        .unwrap_or_else(|| "origin".to_owned());
    let set_upstream = !config.contains_key(&format!("branch.{topic}.merge"));
    if !config.contains_key(&format!("remote.{remote}.url")) {
        return Err(PushError::Refused(vec![PushRefusal::NoRemote {
            path: SUPERPROJECT.to_owned(),
            remote,
        }]));
    }

    let asked_top = ask_superproject(root, &remote, &topic, tip, request.timeout)?;
    let remote_tip = asked_top.topic_tip;
    let mut refusals = Vec::new();
    let mut forced = false;
    if let Some(old) = remote_tip
        && old != tip
        && !is_ancestor(root, old, tip).map_err(git_error(SUPERPROJECT))?
    {
        if request.force_with_lease {
            forced = true;
        } else {
            refusals.push(PushRefusal::Diverged {
                path: SUPERPROJECT.to_owned(),
                topic: topic.clone(),
                remote_tip: old,
                tip,
            });
        }
    }
    let outgoing = asked_top.outgoing;
    let by_project = outgoing_pins(root, &outgoing)?;

    let work: Vec<(String, Vec<OutgoingPin>)> = by_project.into_iter().collect();
    let context = Context {
        root,
        topic: &topic,
        request,
        superproject_tips: &asked_top.tips,
        superproject_tip: tip,
    };
    let planned = parallel(&work, request.jobs, |(path, pins)| {
        context.project(path, pins)
    });
    let mut projects = Vec::new();
    let mut asked: Vec<Namespace> = asked_top.namespace.into_iter().collect();
    for result in planned {
        let (project, namespace, mut refused) = result?;
        refusals.append(&mut refused);
        asked.extend(namespace);
        projects.push(project);
    }
    if !refusals.is_empty() {
        return Err(PushError::Refused(refusals));
    }

    let superproject = (remote_tip != Some(tip)).then(|| {
        // meta has verified the pins itself; git's own check trusts stale remote-tracking
        // refs, and `on-demand` would push projects under the superproject's refspec.
        let mut args = vec![
            "push".to_owned(),
            "--porcelain".to_owned(),
            "--recurse-submodules=no".to_owned(),
        ];
        if set_upstream {
            args.push("--set-upstream".to_owned());
        }
        if forced {
            args.push(lease(&topic, remote_tip));
        }
        args.extend(push_options(request.push_options));
        args.extend(["--".to_owned(), remote.clone(), refspec(&topic)]);
        GitCall::new(SUPERPROJECT, root.to_path_buf(), args)
    });
    Ok(PushPlan {
        topic,
        remote,
        tip,
        remote_tip,
        outgoing: outgoing.into_iter().map(|(commit, _)| commit).collect(),
        projects,
        set_upstream,
        forced,
        superproject,
        root: root.to_path_buf(),
        timeout: request.timeout,
        jobs: request.jobs,
        _namespaces: asked,
    })
}

fn refspec(topic: &str) -> String {
    format!("refs/heads/{topic}:refs/heads/{topic}")
}

fn lease(topic: &str, expected: Option<ObjectId>) -> String {
    // An empty expectation means "the remote must not have it".
    format!(
        "--force-with-lease=refs/heads/{topic}:{}",
        expected.map(|e| e.to_string()).unwrap_or_default()
    )
}

fn push_options(options: &[String]) -> impl Iterator<Item = String> + '_ {
    // Glued to the option, a value can never be read as another option.
    options.iter().map(|o| format!("--push-option={o}"))
}

/// A commit and its first parent (`None`: a root commit).
type WithParent = (ObjectId, Option<ObjectId>);

/// What the superproject's remote has, asked now.
struct AskedSuperproject {
    /// The tips of its branches and tags.
    tips: Vec<ObjectId>,
    /// Its branch T.
    topic_tip: Option<ObjectId>,
    /// Commits of T it lacks, oldest first, each with its first parent.
    outgoing: Vec<WithParent>,
    /// Where its refs were fetched when this clone lacked some tip.
    namespace: Option<Namespace>,
}

/// Asks the superproject's remote for its refs (`ls-remote`: no ref written, nothing to clean);
/// when this clone lacks one of their tips, fetches them into the private namespace instead,
/// so "what the remote lacks" is computed against everything it has.
fn ask_superproject(
    root: &Path,
    remote: &str,
    topic: &str,
    tip: ObjectId,
    timeout: Duration,
) -> Result<AskedSuperproject, PushError> {
    let cannot = |error: &GitError| {
        PushError::Refused(vec![PushRefusal::CannotVerify {
            path: SUPERPROJECT.to_owned(),
            reason: unverifiable_reason(remote, error),
        }])
    };
    let listing = git(root)
        .args(["ls-remote", "--heads", "--tags", "--", remote])
        .no_prompt()
        .timeout(timeout)
        .run()
        .map_err(|e| cannot(&e))?;
    let topic_ref = format!("refs/heads/{topic}");
    let mut tips = Vec::new();
    let mut topic_tip = None;
    for line in listing.lines() {
        let Some((id, name)) = line.split_once('\t') else {
            continue;
        };
        let Ok(id) = ObjectId::from_hex(id.as_bytes()) else {
            continue;
        };
        if name.ends_with("^{}") {
            continue;
        }
        if name == topic_ref {
            topic_tip = Some(id);
        }
        if !tips.contains(&id) {
            tips.push(id);
        }
    }
    if let Some(outgoing) = outgoing_commits(root, tip, &tips)? {
        return Ok(AskedSuperproject {
            tips,
            topic_tip,
            outgoing,
            namespace: None,
        });
    }
    // Some tip is not in this clone: fetch the remote's refs, then read them again.
    let namespace = Namespace(Remote::new(root, remote));
    namespace.0.fetch(timeout).map_err(|e| cannot(&e))?;
    let fetched = git(root)
        .args([
            "for-each-ref",
            "--format=%(objectname)",
            &format!("{}/", namespace.0.namespace),
        ])
        .run()
        .map_err(git_error(SUPERPROJECT))?;
    let tips: Vec<ObjectId> = fetched
        .lines()
        .filter_map(|l| ObjectId::from_hex(l.trim().as_bytes()).ok())
        .collect();
    let topic_tip = namespace.0.branch(topic).map_err(git_error(SUPERPROJECT))?;
    let outgoing = outgoing_commits(root, tip, &tips)?.ok_or_else(|| PushError::Git {
        path: SUPERPROJECT.to_owned(),
        source: GitError::Failed {
            command: "git rev-list --stdin".to_owned(),
            code: None,
            stderr: "the remote's refs name commits that are missing after fetching them"
                .to_owned(),
        },
    })?;
    Ok(AskedSuperproject {
        tips,
        topic_tip,
        outgoing,
        namespace: Some(namespace),
    })
}

/// Commits of T (at `tip`) that no commit of `remote_tips` holds, oldest first, with their
/// first parents; `None` when this clone lacks one of `remote_tips`.
fn outgoing_commits(
    root: &Path,
    tip: ObjectId,
    remote_tips: &[ObjectId],
) -> Result<Option<Vec<WithParent>>, PushError> {
    let mut input = format!("{tip}\n");
    for remote_tip in remote_tips {
        input.push('^');
        input.push_str(&remote_tip.to_string());
        input.push('\n');
    }
    // Revisions on standard input: any number of remote refs fits.
    let command = git(root)
        .args([
            "rev-list",
            "--reverse",
            "--topo-order",
            "--parents",
            "--stdin",
        ])
        .stdin(input);
    let out = command.output().map_err(git_error(SUPERPROJECT))?;
    if !out.status.success() {
        return Ok(None);
    }
    Ok(Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| {
                let mut ids = line
                    .split_whitespace()
                    .filter_map(|id| ObjectId::from_hex(id.as_bytes()).ok());
                Some((ids.next()?, ids.next()))
            })
            .collect(),
    ))
}

/// The repository's config (`git config --list`): keys as git prints them (section and name
/// lowercased, subsection as written).
fn config_list(dir: &Path) -> Result<HashMap<String, String>, GitError> {
    let out = git(dir).args(["config", "--list", "-z"]).run()?;
    Ok(out
        .split('\0')
        .filter_map(|entry| {
            let (key, value) = entry.split_once('\n').unwrap_or((entry, ""));
            (!key.is_empty()).then(|| (key.to_owned(), value.to_owned()))
        })
        .collect())
}

/// Every gitlink each commit changes against its first parent, by project path, in the order
/// the commits record them, each (path, pin) once.
fn outgoing_pins(
    root: &Path,
    outgoing: &[WithParent],
) -> Result<BTreeMap<String, Vec<OutgoingPin>>, PushError> {
    let mut pins: BTreeMap<String, Vec<OutgoingPin>> = BTreeMap::new();
    for &(commit, parent) in outgoing {
        let mut diff = git(root).args(["diff-tree", "-r", "-z", "--no-renames", "--no-commit-id"]);
        diff = match parent {
            Some(parent) => diff.args([parent.to_string(), commit.to_string()]),
            None => diff.args(["--root".to_owned(), commit.to_string()]),
        };
        let out = diff.run().map_err(git_error(SUPERPROJECT))?;
        let mut fields = out.split('\0');
        while let Some(meta) = fields.next() {
            let Some(meta) = meta.strip_prefix(':') else {
                continue;
            };
            let Some(path) = fields.next() else { break };
            let parts: Vec<&str> = meta.split(' ').collect();
            let [_, new_mode, _, new_id, status] = parts[..] else {
                continue;
            };
            if new_mode != "160000" || status.starts_with('D') {
                continue;
            }
            let Ok(pin) = ObjectId::from_hex(new_id.as_bytes()) else {
                continue;
            };
            let entry = pins.entry(path.to_owned()).or_default();
            if !entry.iter().any(|p| p.pin == pin) {
                entry.push(OutgoingPin { pin, commit });
            }
        }
    }
    Ok(pins)
}

/// What every project's planning shares.
struct Context<'a> {
    root: &'a Path,
    topic: &'a str,
    request: &'a PushRequest<'a>,
    /// The tips of the superproject remote's branches and tags.
    superproject_tips: &'a [ObjectId],
    superproject_tip: ObjectId,
}

/// One pin as this clone sees it.
struct LocalPin {
    pin: OutgoingPin,
    /// The clone holds the commit.
    present: bool,
    /// T holds it.
    on_topic: bool,
    /// Some `refs/remotes/origin/…` holds it (maybe stale).
    tracked: bool,
}

type Planned = (ProjectPush, Option<Namespace>, Vec<PushRefusal>);

impl Context<'_> {
    /// Plans one project: reads it, asks its remote when needed.
    fn project(&self, path: &str, pins: &[OutgoingPin]) -> Result<Planned, PushError> {
        let dir = self.root.join(path);
        let mut project = ProjectPush {
            path: path.to_owned(),
            pins: pins.to_vec(),
            tip: None,
            remote_tip: None,
            asked: false,
            reason: None,
            forced: false,
            call: None,
        };
        if std::fs::symlink_metadata(dir.join(".git")).is_err() {
            let refusals = pins
                .iter()
                .take(1)
                .map(|p| PushRefusal::NotCloned {
                    path: path.to_owned(),
                    pin: p.pin,
                })
                .collect();
            return Ok((project, None, refusals));
        }
        let topic_ref = format!("refs/heads/{}", self.topic);
        let mut local = Vec::new();
        for pin in pins {
            // One call answers: is it here, on T, on a remote-tracking ref (and T's tip).
            let out = git(&dir)
                .args([
                    "for-each-ref",
                    "--format=%(objectname) %(refname)",
                    "--contains",
                    &pin.pin.to_string(),
                    &topic_ref,
                    "refs/remotes/origin/",
                ])
                .output()
                .map_err(git_error(path))?;
            let mut seen = LocalPin {
                pin: *pin,
                present: out.status.success(),
                on_topic: false,
                tracked: false,
            };
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let Some((id, name)) = line.split_once(' ') else {
                    continue;
                };
                if name == topic_ref {
                    seen.on_topic = true;
                    project.tip = ObjectId::from_hex(id.as_bytes()).ok();
                } else if name.starts_with("refs/remotes/origin/") {
                    seen.tracked = true;
                }
            }
            local.push(seen);
        }
        if project.tip.is_none() {
            project.tip =
                meta_workflow::git::rev_parse(&dir, &topic_ref).map_err(git_error(path))?;
        }

        let all_on_topic = local.iter().all(|p| p.present && p.on_topic);
        let some_untracked = local.iter().any(|p| !p.tracked);
        let selected = self
            .request
            .only
            .is_none_or(|only| only.iter().any(|p| p == path));
        if selected && all_on_topic && some_untracked && !self.request.force_with_lease {
            // Pushing T carries every pin, and the push's answer verifies them.
            project.reason = Some(PushReason::NotPushed);
            project.call = Some(self.push_call(path, &dir, None));
            return Ok((project, None, Vec::new()));
        }

        // Ask the remote: remote-tracking refs may claim what it lost.
        let remote = Namespace(Remote::new(&dir, PROJECT_REMOTE));
        project.asked = true;
        if let Err(error) = remote.0.fetch(self.request.timeout) {
            let refusal = PushRefusal::CannotVerify {
                path: path.to_owned(),
                reason: unverifiable_reason(PROJECT_REMOTE, &error),
            };
            return Ok((project, Some(remote), vec![refusal]));
        }
        project.remote_tip = remote.0.branch(self.topic).map_err(git_error(path))?;
        let mut refusals = Vec::new();
        let mut lacking = false;
        for seen in &local {
            if remote.0.holds(seen.pin.pin).map_err(git_error(path))? {
                continue;
            }
            if seen.on_topic {
                lacking = true;
            } else if !has_commit(&dir, seen.pin.pin).map_err(git_error(path))? {
                refusals.push(PushRefusal::PinMissing {
                    path: path.to_owned(),
                    pin: seen.pin.pin,
                    commit: seen.pin.commit,
                });
            } else {
                refusals.push(PushRefusal::PinOffTopic {
                    path: path.to_owned(),
                    topic: self.topic.to_owned(),
                    pin: seen.pin.pin,
                    commit: seen.pin.commit,
                    topic_exists: project.tip.is_some(),
                });
            }
        }
        if lacking && !selected {
            refusals.extend(
                local
                    .iter()
                    .filter(|seen| seen.on_topic)
                    .take(1)
                    .map(|seen| PushRefusal::NotSelected {
                        path: path.to_owned(),
                        pin: seen.pin.pin,
                        commit: seen.pin.commit,
                    }),
            );
        }
        let Some(tip) = project.tip.filter(|_| lacking && refusals.is_empty()) else {
            return Ok((project, Some(remote), refusals));
        };
        if let Some(old) = project.remote_tip
            && !is_ancestor(&dir, old, tip).map_err(git_error(path))?
        {
            if !self.request.force_with_lease {
                refusals.push(PushRefusal::Diverged {
                    path: path.to_owned(),
                    topic: self.topic.to_owned(),
                    remote_tip: old,
                    tip,
                });
                return Ok((project, Some(remote), refusals));
            }
            refusals.extend(self.orphans(path, &dir, &remote.0, old, tip)?);
            if !refusals.is_empty() {
                return Ok((project, Some(remote), refusals));
            }
            project.forced = true;
        }
        project.reason = Some(PushReason::RemoteLacks);
        let lease_arg = self
            .request
            .force_with_lease
            .then(|| lease(self.topic, project.remote_tip));
        project.call = Some(self.push_call(path, &dir, lease_arg));
        Ok((project, Some(remote), refusals))
    }

    /// `git push` of T to the project's remote, with `lease` (a `--force-with-lease=…`
    /// argument) when given.
    fn push_call(&self, path: &str, dir: &Path, lease_arg: Option<String>) -> GitCall {
        let mut args = vec!["push".to_owned(), "--porcelain".to_owned()];
        args.extend(lease_arg);
        args.extend(push_options(self.request.push_options));
        args.extend([
            "--".to_owned(),
            PROJECT_REMOTE.to_owned(),
            refspec(self.topic),
        ]);
        GitCall::new(path, dir.to_path_buf(), args)
    }

    /// Pins some superproject commit (on its remote or outgoing) records for `path` that
    /// replacing the remote's T at `old` with `tip` would leave on no ref of the remote.
    fn orphans(
        &self,
        path: &str,
        dir: &Path,
        remote: &Remote,
        old: ObjectId,
        tip: ObjectId,
    ) -> Result<Vec<PushRefusal>, PushError> {
        let dropped = git(dir)
            .args(["rev-list", &old.to_string(), "--not", &tip.to_string()])
            .arg(format!(
                "--exclude={}/heads/{}",
                remote.namespace, self.topic
            ))
            .arg(format!("--glob={}", remote.namespace))
            .run()
            .map_err(git_error(path))?;
        let dropped: HashSet<ObjectId> = dropped
            .lines()
            .filter_map(|l| ObjectId::from_hex(l.trim().as_bytes()).ok())
            .collect();
        if dropped.is_empty() {
            return Ok(Vec::new());
        }
        let recorded = recorded_pins(
            self.root,
            self.superproject_tip,
            self.superproject_tips,
            path,
        )?;
        let mut orphaned: Vec<(ObjectId, ObjectId)> = recorded
            .into_iter()
            .filter(|(pin, _)| dropped.contains(pin))
            .collect();
        orphaned.sort();
        Ok(orphaned
            .into_iter()
            .map(|(pin, commit)| PushRefusal::WouldOrphan {
                path: path.to_owned(),
                topic: self.topic.to_owned(),
                pin,
                commit,
            })
            .collect())
    }
}

/// Every pin of `path` recorded by a superproject commit reachable from T's `tip` or from the
/// superproject remote's `remote_tips`, with the newest commit recording it.
fn recorded_pins(
    root: &Path,
    tip: ObjectId,
    remote_tips: &[ObjectId],
    path: &str,
) -> Result<HashMap<ObjectId, ObjectId>, PushError> {
    let mut input = format!("{tip}\n");
    for remote_tip in remote_tips {
        input.push_str(&remote_tip.to_string());
        input.push('\n');
    }
    let out = git(root)
        .args([
            "log",
            "--no-renames",
            "--raw",
            "--no-abbrev",
            "-m",
            "--format=%H",
            "--stdin",
            "--",
            path,
        ])
        .stdin(input)
        .run()
        .map_err(git_error(SUPERPROJECT))?;
    let mut pins = HashMap::new();
    let mut commit = None;
    for line in out.lines() {
        if let Some(meta) = line.strip_prefix(':') {
            let meta = meta.split('\t').next().unwrap_or_default();
            let parts: Vec<&str> = meta.split(' ').collect();
            let [old_mode, new_mode, old_id, new_id, _] = parts[..] else {
                continue;
            };
            let Some(commit) = commit else { continue };
            for (mode, id) in [(old_mode, old_id), (new_mode, new_id)] {
                if mode == "160000"
                    && let Ok(pin) = ObjectId::from_hex(id.as_bytes())
                {
                    pins.entry(pin).or_insert(commit);
                }
            }
        } else if let Ok(id) = ObjectId::from_hex(line.trim().as_bytes()) {
            commit = Some(id);
        }
    }
    Ok(pins)
}

impl PushPlan {
    /// Nothing to push: the superproject's remote has T as it is here.
    pub fn is_empty(&self) -> bool {
        self.superproject.is_none() && self.projects.iter().all(|p| p.call.is_none())
    }

    /// Every push, in the order it runs (project pushes run in parallel, in this order).
    pub fn calls(&self) -> impl Iterator<Item = &GitCall> {
        self.projects
            .iter()
            .filter_map(|p| p.call.as_ref())
            .chain(&self.superproject)
    }

    /// Phases 1 to 3: projects in parallel, then (all taken) the superproject.
    pub fn run(&self, progress: &dyn PushProgress) -> Result<PushOutcome, PushError> {
        let to_push: Vec<&ProjectPush> =
            self.projects.iter().filter(|p| p.call.is_some()).collect();
        progress.projects(to_push.len());
        let results = parallel(&to_push, self.jobs, |project| {
            let result = match (&project.call, project.tip) {
                (Some(call), Some(tip)) => push(call, self.timeout).map(|update| Pushed {
                    path: project.path.clone(),
                    update,
                    tip,
                }),
                _ => Err(PushFailure {
                    path: project.path.clone(),
                    reason: "no branch to push".to_owned(),
                    remote_says: Vec::new(),
                }),
            };
            progress.project_done(&project.path, result.as_ref());
            result
        });
        let mut pushed = Vec::new();
        let mut failures = Vec::new();
        for result in results {
            match result {
                Ok(done) => pushed.push(done),
                Err(failure) => failures.push(failure),
            }
        }
        if !failures.is_empty() {
            return Err(PushError::Rejected { failures, pushed });
        }
        // Phase 2: every pushed ref was taken at a tip holding its pins (the remote's own
        // answer); every other project's remote is asked again now, after phase 1.
        let others: Vec<&ProjectPush> = self.projects.iter().filter(|p| p.call.is_none()).collect();
        progress.verifying(others.len());
        let refusals: Vec<PushRefusal> = parallel(&others, self.jobs, |project| {
            verify_now(&self.root.join(&project.path), project, self.timeout)
        })
        .into_iter()
        .flatten()
        .collect();
        if !refusals.is_empty() {
            return Err(PushError::NotVerified { refusals, pushed });
        }
        let Some(call) = &self.superproject else {
            return Ok(PushOutcome {
                projects: pushed,
                superproject: None,
            });
        };
        progress.superproject();
        match push(call, self.timeout) {
            Ok(update) => Ok(PushOutcome {
                projects: pushed,
                superproject: Some(update),
            }),
            Err(failure) => Err(PushError::SuperprojectRejected { failure, pushed }),
        }
    }
}

/// Phase 2 for a project not pushed: its remote asked now (`ls-remote`, then which pins its
/// tips hold, locally; a fetch into the private namespace when a tip is new here). `None`:
/// every pin is there.
fn verify_now(dir: &Path, project: &ProjectPush, timeout: Duration) -> Option<PushRefusal> {
    let cannot = |error: &GitError| PushRefusal::CannotVerify {
        path: project.path.clone(),
        reason: unverifiable_reason(PROJECT_REMOTE, error),
    };
    let listing = match git(dir)
        .args(["ls-remote", "--heads", "--tags", "--", PROJECT_REMOTE])
        .no_prompt()
        .timeout(timeout)
        .run()
    {
        Ok(listing) => listing,
        Err(error) => return Some(cannot(&error)),
    };
    let mut input = String::new();
    for pin in &project.pins {
        input.push_str(&pin.pin.to_string());
        input.push('\n');
    }
    for line in listing.lines() {
        if let Some((id, name)) = line.split_once('\t')
            && !name.ends_with("^{}")
        {
            input.push('^');
            input.push_str(id);
            input.push('\n');
        }
    }
    // What the pins reach and no remote tip does; a pin listed is a pin the remote lacks.
    let missing: Vec<ObjectId> = match git(dir).args(["rev-list", "--stdin"]).stdin(input).output()
    {
        Ok(out) if out.status.success() => {
            let listed: HashSet<ObjectId> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| ObjectId::from_hex(l.trim().as_bytes()).ok())
                .collect();
            project
                .pins
                .iter()
                .map(|p| p.pin)
                .filter(|pin| listed.contains(pin))
                .collect()
        }
        // A tip this clone has never seen: fetch the remote's refs and ask them.
        _ => {
            let remote = Namespace(Remote::new(dir, PROJECT_REMOTE));
            if let Err(error) = remote.0.fetch(timeout) {
                return Some(cannot(&error));
            }
            project
                .pins
                .iter()
                .map(|p| p.pin)
                .filter(|pin| !remote.0.holds(*pin).unwrap_or(false))
                .collect()
        }
    };
    let pin = *project.pins.iter().find(|p| missing.contains(&p.pin))?;
    Some(PushRefusal::LostMeanwhile {
        path: project.path.clone(),
        pin: pin.pin,
        commit: pin.commit,
    })
}

/// Runs one `git push --porcelain` of one ref and reads the remote's answer for it.
fn push(call: &GitCall, timeout: Duration) -> Result<Update, PushFailure> {
    let failure = |reason: String, remote_says: Vec<String>| PushFailure {
        path: call.repo.clone(),
        reason,
        remote_says,
    };
    let out = match git(&call.dir)
        .args(&call.args)
        .no_prompt()
        .timeout(timeout)
        .output()
    {
        Ok(out) => out,
        Err(error) => return Err(failure(error.to_string(), Vec::new())),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let remote_says: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("remote:"))
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let refspec = call.args.last().cloned().unwrap_or_default();
    match porcelain_result(&String::from_utf8_lossy(&out.stdout), &refspec) {
        Some(Ok(update)) => Ok(update),
        Some(Err(summary)) => Err(failure(summary, remote_says)),
        None => {
            let reason = stderr
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
                .or_else(|| stderr.lines().map(str::trim).find(|l| !l.is_empty()))
                .map_or_else(
                    || format!("git push exited with {}", out.status),
                    str::to_owned,
                );
            Err(failure(reason, remote_says))
        }
    }
}

/// The remote's answer for `refspec` in `git push --porcelain` output: how it took the ref, or
/// git's summary of why not (`[remote rejected] (pre-receive hook declined)`); `None` when the
/// output has no line for it (git stopped before asking).
fn porcelain_result(stdout: &str, refspec: &str) -> Option<Result<Update, String>> {
    stdout.lines().find_map(|line| {
        let mut fields = line.splitn(3, '\t');
        let flag = fields.next()?;
        if fields.next()? != refspec {
            return None;
        }
        let summary = fields.next().unwrap_or("").trim().to_owned();
        Some(match flag {
            "*" => Ok(Update::New),
            " " => Ok(Update::FastForward),
            "+" => Ok(Update::Forced),
            "=" => Ok(Update::UpToDate),
            _ => Err(summary),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_lines_are_read_per_ref() {
        let refspec = "refs/heads/feat/x:refs/heads/feat/x";
        let taken = "To /r.git\n*\trefs/heads/feat/x:refs/heads/feat/x\t[new branch]\nDone\n";
        assert_eq!(porcelain_result(taken, refspec), Some(Ok(Update::New)));
        let fast = "To /r.git\n \trefs/heads/feat/x:refs/heads/feat/x\tabc..def\nDone\n";
        assert_eq!(
            porcelain_result(fast, refspec),
            Some(Ok(Update::FastForward))
        );
        let same = "=\trefs/heads/feat/x:refs/heads/feat/x\t[up to date]\n";
        assert_eq!(porcelain_result(same, refspec), Some(Ok(Update::UpToDate)));
        let forced = "+\trefs/heads/feat/x:refs/heads/feat/x\tabc...def (forced update)\n";
        assert_eq!(porcelain_result(forced, refspec), Some(Ok(Update::Forced)));
        let rejected = "To /r.git\n!\trefs/heads/feat/x:refs/heads/feat/x\t[remote rejected] (pre-receive hook declined)\nDone\n";
        assert_eq!(
            porcelain_result(rejected, refspec),
            Some(Err(
                "[remote rejected] (pre-receive hook declined)".to_owned()
            ))
        );
        // Another ref's line, or none at all, is no answer for this one.
        let other = "*\trefs/heads/feat/xy:refs/heads/feat/xy\t[new branch]\n";
        assert_eq!(porcelain_result(other, refspec), None);
        assert_eq!(porcelain_result("", refspec), None);
    }
}
