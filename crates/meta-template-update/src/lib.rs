//! Projects that follow their cookiecutter template over time (DESIGN.md section 12), as a
//! library with no terminal I/O: reading the `.cruft.json` cruft and `meta new` write
//! ([`CruftFile`]), fetching each template once per run into a private bare repository
//! ([`TemplateRepos`]), and telling where each project stands ([`check`]).

mod check;
mod cruft_file;
mod error;
mod fetch;

pub use check::{CheckRequest, ProjectCheck, Standing, check};
pub use cruft_file::{CRUFT_FILE, CruftFile};
pub use error::TemplateUpdateError;
pub use fetch::{FetchedTemplate, TemplateRepos};
