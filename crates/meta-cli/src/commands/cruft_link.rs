//! Where a template came from, as `cruft create` records it in `.cruft.json` (DESIGN.md
//! section 12): a git URL and its cloned commit, or a clean folder in a git work tree (the
//! work tree's top, the folder inside it, and HEAD). Anything else is not a commit, and the
//! project is not linked.

use std::path::Path;

use meta_template::CruftLink;
use meta_workflow::git::git;

/// The link for a template cloned from `url` into `clone`.
pub fn from_clone(url: &str, clone: &Path, checkout: Option<&str>) -> Result<CruftLink, String> {
    let commit = head(clone)?;
    Ok(CruftLink {
        template: meta_template_update::template_url(url),
        commit,
        checkout: checkout.map(str::to_owned),
        directory: None,
    })
}

/// The link for the template folder `dir` (as the user named it), when it is clean and inside
/// a git work tree.
pub fn from_folder(dir: &Path) -> Result<CruftLink, String> {
    let canonical = dir
        .canonicalize()
        .map_err(|e| format!("cannot resolve the template folder: {e}"))?;
    // The work tree's top, found as git finds it (the nearest `.git`, a folder or a file),
    // without starting git: most template folders are not in one, and `meta new` is fast.
    let top = canonical
        .ancestors()
        .find(|folder| folder.join(".git").exists())
        .ok_or_else(|| "the template folder is not in a git repository".to_owned())?
        .to_path_buf();
    let inside = canonical
        .strip_prefix(&top)
        .map_err(|_| "the template folder is outside its git work tree".to_owned())?;
    // One git call: HEAD (`# branch.oid`) and whether the folder has changes.
    let status = git(&top)
        .args([
            "status",
            "--porcelain=v2",
            "--branch",
            "--untracked-files=all",
            "--",
        ])
        .arg(if inside.as_os_str().is_empty() {
            Path::new(".")
        } else {
            inside
        })
        .run()
        .map_err(|_| "the template folder is not in a git repository".to_owned())?;
    let mut head = None;
    for line in status.lines() {
        match line.strip_prefix("# branch.oid ") {
            Some(oid) if oid != "(initial)" => head = Some(oid.to_owned()),
            None if !line.starts_with('#') => {
                return Err(
                    "the template folder has uncommitted changes, so no commit holds what was rendered"
                        .to_owned(),
                );
            }
            _ => {}
        }
    }
    let commit = head.ok_or_else(|| "the template's repository has no commit".to_owned())?;
    let directory =
        (!inside.as_os_str().is_empty()).then(|| inside.to_string_lossy().replace('\\', "/"));
    let template = if directory.is_none() {
        // cruft keeps the path as given, made absolute (`Path(arg).absolute()`).
        meta_template_update::python_absolute(dir)
    } else {
        top.display().to_string()
    };
    Ok(CruftLink {
        template,
        commit,
        checkout: None,
        directory,
    })
}

fn head(dir: &Path) -> Result<String, String> {
    git(dir)
        .args(["rev-parse", "HEAD"])
        .run()
        .map(|out| out.trim().to_owned())
        .map_err(|_| "the template's repository has no commit".to_owned())
}
