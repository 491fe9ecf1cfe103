//! The warm status: every project's `meta status --json` record, kept current from the
//! watcher's changes, recomputing only the projects a change touched, and the `core:repo:*`
//! events that say how records changed.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use meta_events::Event;
use meta_events::core;
use meta_repo::{Project, ProjectStatus, RepoHead, StatusRecord};
use meta_watch::FileEvent;

/// Every project's record, in `meta status` order, and what is known to be stale.
pub struct WarmStatus {
    root: PathBuf,
    projects: Vec<Project>,
    records: Vec<StatusRecord>,
    by_path: HashMap<String, usize>,
    /// Projects (by path) a change touched since the last refresh.
    dirty: BTreeSet<String>,
    /// The superproject's `.gitmodules`, index or config may have changed: list again.
    relist: bool,
    superproject: RepoHead,
    superproject_dirty: bool,
    /// Changes were lost (the watcher overflowed): why, until the resync is done.
    lost: Option<String>,
    /// Why the projects cannot be listed right now (a broken `.gitmodules`…): questions are
    /// refused, so `meta status` reads cold and reports the error itself.
    unlisted: Option<String>,
}

impl WarmStatus {
    /// Reads every project's status (in parallel), as a cold `meta status` does. Projects
    /// that cannot be listed leave it empty and refusing questions until they can.
    pub fn new(root: &Path) -> Self {
        let (projects, unlisted) = match meta_repo::list_projects(root) {
            Ok(listed) => (listed.projects, None),
            Err(error) => (Vec::new(), Some(meta_repo::describe_chain(&error))),
        };
        let statuses = meta_repo::status_all(root, &projects, None);
        let records = projects
            .iter()
            .zip(&statuses)
            .map(|(p, s)| StatusRecord::new(p, s))
            .collect();
        let mut warm = Self {
            root: root.to_path_buf(),
            by_path: HashMap::new(),
            projects,
            records,
            dirty: BTreeSet::new(),
            relist: false,
            superproject: meta_repo::repo_head(root).unwrap_or_default(),
            superproject_dirty: false,
            lost: None,
            unlisted,
        };
        warm.index();
        warm
    }

    fn index(&mut self) {
        self.by_path = self
            .projects
            .iter()
            .enumerate()
            .map(|(i, p)| (p.path.clone(), i))
            .collect();
    }

    /// The records, in project order; or why they cannot be trusted now.
    pub fn records(&self) -> Result<&[StatusRecord], &str> {
        match &self.unlisted {
            Some(why) => Err(why),
            None => Ok(&self.records),
        }
    }

    /// How many projects are followed.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Takes in one batch of the watcher's changes: marks what is stale. Returns the cookies
    /// the batch holds (every change before them is now marked).
    pub fn apply(&mut self, batch: &[FileEvent]) -> Vec<String> {
        let mut cookies = Vec::new();
        for event in batch {
            match event {
                FileEvent::Created(change)
                | FileEvent::Modified(change)
                | FileEvent::Deleted(change) => {
                    if change.path == ".gitmodules" {
                        self.relist = true;
                    } else if let Some(project) = self.project_of(&change.path) {
                        self.dirty.insert(project);
                    }
                }
                FileEvent::GitState { repo } if repo.is_empty() => {
                    self.relist = true;
                    self.superproject_dirty = true;
                }
                FileEvent::GitState { repo } => {
                    if let Some(project) = self.project_of(repo) {
                        self.dirty.insert(project);
                    }
                }
                FileEvent::Overflow { reason } => {
                    self.lost = Some(reason.clone());
                }
                FileEvent::Cookie { name } => cookies.push(name.clone()),
            }
        }
        cookies
    }

    /// The project holding the root-relative `path` (the longest project path it is in).
    fn project_of(&self, path: &str) -> Option<String> {
        let mut prefix = path;
        loop {
            if self.by_path.contains_key(prefix) {
                return Some(prefix.to_owned());
            }
            prefix = &prefix[..prefix.rfind('/')?];
        }
    }

    /// Brings every stale record up to date and returns the `core:repo:*` events for what
    /// changed: pins first, then each project's head, branch and record, then the
    /// superproject's head and branch.
    pub fn refresh(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        let mut old_records: HashMap<String, StatusRecord> = HashMap::new();
        if let Some(reason) = self.lost.take() {
            self.relist = true;
            self.superproject_dirty = true;
            self.dirty
                .extend(self.projects.iter().map(|p| p.path.clone()));
            events.push(core::repo_resynced(&reason, self.projects.len()));
        }
        if std::mem::take(&mut self.relist) {
            self.relist_projects(&mut events, &mut old_records);
        }
        if !self.dirty.is_empty() {
            let paths = std::mem::take(&mut self.dirty);
            let chosen: Vec<usize> = paths
                .iter()
                .filter_map(|path| self.by_path.get(path).copied())
                .collect();
            let projects: Vec<Project> = chosen.iter().map(|&i| self.projects[i].clone()).collect();
            let statuses = meta_repo::status_all(&self.root, &projects, None);
            for ((i, project), status) in chosen.into_iter().zip(&projects).zip(&statuses) {
                let record = StatusRecord::new(project, status);
                let old = std::mem::replace(&mut self.records[i], record);
                old_records.entry(old.path.clone()).or_insert(old);
            }
        }
        // One event set per project whose record differs from before this refresh.
        for record in &self.records {
            let Some(old) = old_records.get(&record.path) else {
                continue;
            };
            let changed = old.changed_fields(record);
            if changed.is_empty() {
                continue;
            }
            let project = Some(record.path.as_str());
            // A project new to the list gets its record; its head did not move.
            let is_new = old.path.is_empty();
            if !is_new && old.head != record.head {
                events.push(core::repo_head_moved(
                    project,
                    old.head.as_deref(),
                    record.head.as_deref(),
                    record.branch.as_deref(),
                ));
            }
            if !is_new && old.branch != record.branch {
                events.push(core::repo_branch_switched(
                    project,
                    old.branch.as_deref(),
                    record.branch.as_deref(),
                ));
            }
            events.push(status_changed(record, &changed));
        }
        if std::mem::take(&mut self.superproject_dirty) {
            // Unreadable for a moment (git writing it): the next change reads it again.
            if let Ok(now) = meta_repo::repo_head(&self.root) {
                let old = std::mem::replace(&mut self.superproject, now);
                let hex = |head: &RepoHead| head.head.map(|id| id.to_string());
                if old.head != self.superproject.head {
                    events.push(core::repo_head_moved(
                        None,
                        hex(&old).as_deref(),
                        hex(&self.superproject).as_deref(),
                        self.superproject.branch.as_deref(),
                    ));
                }
                if old.branch != self.superproject.branch {
                    events.push(core::repo_branch_switched(
                        None,
                        old.branch.as_deref(),
                        self.superproject.branch.as_deref(),
                    ));
                }
            }
        }
        events
    }

    /// Lists the projects again: new ones get a record (and a `status-changed` naming every
    /// field), removed ones lose theirs, and any whose description changed (pin, URL,
    /// activation) is recomputed; a new pin is a `pin-changed`.
    fn relist_projects(
        &mut self,
        events: &mut Vec<Event>,
        old_records: &mut HashMap<String, StatusRecord>,
    ) {
        // Unreadable (a `.gitmodules` being edited by hand…): questions are refused until the
        // change that fixes it comes.
        let listed = match meta_repo::list_projects(&self.root) {
            Ok(listed) => listed.projects,
            Err(error) => {
                self.unlisted = Some(meta_repo::describe_chain(&error));
                return;
            }
        };
        self.unlisted = None;
        if listed == self.projects {
            return;
        }
        let mut records = Vec::with_capacity(listed.len());
        let mut added = Vec::new();
        for project in &listed {
            if let Some(&i) = self.by_path.get(&project.path) {
                let old = &self.projects[i];
                if old != project {
                    if old.pinned != project.pinned {
                        events.push(core::repo_pin_changed(
                            &project.path,
                            old.pinned.map(|id| id.to_string()).as_deref(),
                            project.pinned.map(|id| id.to_string()).as_deref(),
                        ));
                    }
                    self.dirty.insert(project.path.clone());
                }
                records.push(self.records[i].clone());
            } else {
                added.push(project.path.clone());
                self.dirty.insert(project.path.clone());
                // Compared with an empty record, every field counts as changed.
                records.push(StatusRecord::new(project, &Ok(ProjectStatus::default())));
            }
        }
        self.projects = listed;
        self.records = records;
        self.index();
        for path in added {
            if let Some(&i) = self.by_path.get(&path) {
                let mut blank = self.records[i].clone();
                blank.path = String::new();
                old_records.insert(path, blank);
            }
        }
    }
}

/// `core:repo:status-changed` with the whole record.
fn status_changed(record: &StatusRecord, changed: &[&str]) -> Event {
    let status = serde_json::to_value(record).unwrap_or(serde_json::Value::Null);
    core::repo_status_changed(&record.path, changed, status)
}
