//! Projects that follow their cookiecutter template over time (DESIGN.md section 12), as a
//! library with no terminal I/O: reading the `.cruft.json` cruft and `meta new` write
//! ([`CruftFile`]), fetching each template once per run into a private bare repository
//! ([`TemplateRepos`]), telling where each project stands ([`check`]), and bringing projects
//! to a new template commit with git's three-way merge ([`update`]).

mod check;
mod cruft_file;
mod error;
mod fetch;
mod link;
mod update;

pub use check::{CheckRequest, ProjectCheck, Standing, check};
pub use cruft_file::{CRUFT_FILE, CruftFile};
pub use error::TemplateUpdateError;
pub use fetch::{FetchedTemplate, TemplateRepos};
pub use link::{link, python_absolute, template_url};
pub use update::{TemplateDiff, UpdateRequest, Updated, diff, update};
