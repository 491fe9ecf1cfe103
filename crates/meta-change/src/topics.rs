//! `meta branches`: every topic as the repositories hold it. A topic is a local branch of the
//! superproject (less the branch its remote's HEAD names: that is the base, not a topic); its
//! projects are those with a local branch of the same name, other than projects whose tracked
//! branch it is. Everything comes from refs: "pushed" is read from remote-tracking refs
//! (`refs/remotes/origin/NAME`), as fresh as the last fetch.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use meta_repo::{ObjectId, Project};
use meta_workflow::TrackedBranches;
use meta_workflow::git::{count, git, symbolic_ref};

use crate::SUPERPROJECT;
use crate::error::{ChangeError, git_error};

/// One repository's branch of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoTopic {
    pub tip: ObjectId,
    /// HEAD is on it.
    pub checked_out: bool,
    /// The tracked branch compared with (`None`: unknown).
    pub tracked: Option<String>,
    /// Commits on the topic that `origin/<tracked>` lacks, and the reverse (`None` without
    /// that remote-tracking ref).
    pub ahead: Option<usize>,
    pub behind: Option<usize>,
    /// `origin/NAME` holds every commit of the topic.
    pub pushed: bool,
    /// Commits `origin/NAME` lacks (`None`: there is no `origin/NAME`).
    pub unpushed: Option<usize>,
}

/// A project's part in a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectTopic {
    pub path: String,
    pub branch: RepoTopic,
    /// The pin the superproject's topic branch records for the project.
    pub pinned: Option<ObjectId>,
    /// That pin is the project's topic tip.
    pub pin_matches: bool,
}

/// One topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub name: String,
    /// The superproject is on it: the current topic.
    pub current: bool,
    pub superproject: RepoTopic,
    pub projects: Vec<ProjectTopic>,
}

/// The refs of one repository a listing needs.
struct Refs {
    /// `refs/heads/…` and `refs/remotes/origin/…`, full names.
    by_name: HashMap<String, ObjectId>,
    head_branch: Option<String>,
    tracked: Option<String>,
}

impl Refs {
    fn read(dir: &Path, path: &str, tracked: Option<String>) -> Result<Self, ChangeError> {
        let listing = git(dir)
            .args([
                "for-each-ref",
                "--format=%(refname)%00%(objectname)",
                "refs/heads/",
                "refs/remotes/origin/",
            ])
            .run()
            .map_err(git_error(path))?;
        let by_name = listing
            .lines()
            .filter_map(|line| {
                let (name, id) = line.split_once('\0')?;
                Some((name.to_owned(), ObjectId::from_hex(id.as_bytes()).ok()?))
            })
            .collect();
        let head_branch = symbolic_ref(dir, "HEAD", "refs/heads/").map_err(git_error(path))?;
        Ok(Self {
            by_name,
            head_branch,
            tracked,
        })
    }

    fn branch(&self, name: &str) -> Option<ObjectId> {
        self.by_name.get(&format!("refs/heads/{name}")).copied()
    }

    fn topic(&self, dir: &Path, path: &str, name: &str) -> Result<Option<RepoTopic>, ChangeError> {
        let Some(tip) = self.branch(name) else {
            return Ok(None);
        };
        let tip_hex = tip.to_string();
        let (mut ahead, mut behind) = (None, None);
        if let Some(tracked) = &self.tracked
            && let Some(base) = self.by_name.get(&format!("refs/remotes/origin/{tracked}"))
        {
            let out = git(dir)
                .args(["rev-list", "--left-right", "--count"])
                .arg(format!("{tip_hex}...{base}"))
                .run()
                .map_err(git_error(path))?;
            let mut numbers = out.split_whitespace().map(|n| n.parse::<usize>().ok());
            ahead = numbers.next().flatten();
            behind = numbers.next().flatten();
        }
        let unpushed = match self.by_name.get(&format!("refs/remotes/origin/{name}")) {
            Some(remote) => Some(
                count(dir, &[&tip_hex, "--not", &remote.to_string()]).map_err(git_error(path))?,
            ),
            None => None,
        };
        Ok(Some(RepoTopic {
            tip,
            checked_out: self.head_branch.as_deref() == Some(name),
            tracked: self.tracked.clone(),
            ahead,
            behind,
            pushed: unpushed == Some(0),
            unpushed,
        }))
    }
}

/// The topics of the meta-repo at `root` over `projects` (only `name`'s when given), sorted
/// by name. A project not checked out has no branches to show.
pub fn topics(
    root: &Path,
    projects: &[Project],
    name: Option<&str>,
) -> Result<Vec<Topic>, ChangeError> {
    let base = symbolic_ref(root, "refs/remotes/origin/HEAD", "refs/remotes/origin/")
        .map_err(git_error(SUPERPROJECT))?;
    let top = Refs::read(root, SUPERPROJECT, base.clone())?;
    let names: Vec<String> = if let Some(name) = name {
        top.branch(name)
            .map(|_| vec![name.to_owned()])
            .unwrap_or_default()
    } else {
        let mut names: Vec<String> = top
            .by_name
            .keys()
            .filter_map(|r| r.strip_prefix("refs/heads/"))
            .filter(|n| Some(*n) != base.as_deref())
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    };
    if names.is_empty() {
        return Ok(Vec::new());
    }

    let tracked = TrackedBranches::read(root);
    let mut project_refs = Vec::new();
    for project in projects {
        let dir = root.join(&project.path);
        if !project.active || std::fs::symlink_metadata(dir.join(".git")).is_err() {
            continue;
        }
        let branch = match &project.submodule_name {
            Some(submodule) => tracked
                .of(&dir, submodule)
                .map_err(git_error(&project.path))?,
            None => None,
        };
        let refs = Refs::read(&dir, &project.path, branch)?;
        project_refs.push((project, dir, refs));
    }

    let mut topics = Vec::new();
    for name in names {
        let Some(superproject) = top.topic(root, SUPERPROJECT, &name)? else {
            continue;
        };
        let pins = recorded_pins(root, &name, projects)?;
        let mut members = Vec::new();
        for (project, dir, refs) in &project_refs {
            if refs.tracked.as_deref() == Some(name.as_str()) {
                continue;
            }
            let Some(branch) = refs.topic(dir, &project.path, &name)? else {
                continue;
            };
            let pinned = pins.get(project.path.as_str()).copied();
            members.push(ProjectTopic {
                path: project.path.clone(),
                pin_matches: pinned == Some(branch.tip),
                pinned,
                branch,
            });
        }
        topics.push(Topic {
            current: superproject.checked_out,
            name,
            superproject,
            projects: members,
        });
    }
    Ok(topics)
}

/// The gitlinks the superproject's branch `name` records, by path.
pub(crate) fn recorded_pins<'a>(
    root: &Path,
    name: &str,
    projects: &'a [Project],
) -> Result<BTreeMap<&'a str, ObjectId>, ChangeError> {
    let mut pins = BTreeMap::new();
    if projects.is_empty() {
        return Ok(pins);
    }
    let listing = git(root)
        .args(["ls-tree", "-z", "--full-tree"])
        .arg(format!("refs/heads/{name}"))
        .arg("--")
        .args(projects.iter().map(|p| p.path.as_str()))
        .run()
        .map_err(git_error(SUPERPROJECT))?;
    for entry in listing.split('\0') {
        let Some((meta, path)) = entry.split_once('\t') else {
            continue;
        };
        let mut fields = meta.split(' ');
        if fields.next() != Some("160000") {
            continue;
        }
        let Some(id) = fields
            .nth(1)
            .and_then(|id| ObjectId::from_hex(id.as_bytes()).ok())
        else {
            continue;
        };
        if let Some(project) = projects.iter().find(|p| p.path == path) {
            pins.insert(project.path.as_str(), id);
        }
    }
    Ok(pins)
}
