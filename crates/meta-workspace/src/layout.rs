//! Where a meta-repo's runtime files live outside the tree.

use std::path::{Path, PathBuf};

use crate::env;

/// The private runtime folder for the meta-repo at `root`:
/// `$XDG_RUNTIME_DIR/meta/<hash>/`, or `/tmp/meta-<uid>/<hash>/` without it.
///
/// ipc socket paths must stay under 107 bytes, so the folder is named by a short hash of the
/// root rather than the root itself; the hash is stable across runs and processes.
pub fn runtime_dir_for(root: &Path) -> PathBuf {
    let hash = format!("{:016x}", fnv1a64(root.as_os_str().as_encoded_bytes()));
    let base = match std::env::var_os(env::XDG_RUNTIME_DIR) {
        Some(dir) if !dir.is_empty() && Path::new(&dir).is_absolute() => {
            PathBuf::from(dir).join("meta")
        }
        _ => PathBuf::from(format!("/tmp/meta-{}", rustix::process::getuid().as_raw())),
    };
    base.join(hash)
}

/// FNV-1a: tiny, stable across Rust versions (unlike `DefaultHasher`), good enough to name a folder.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_dir_is_stable_short_and_distinct() {
        let a = runtime_dir_for(Path::new("/home/u/acme"));
        assert_eq!(a, runtime_dir_for(Path::new("/home/u/acme")));
        assert_ne!(a, runtime_dir_for(Path::new("/home/u/acme2")));
        // Leaves room for socket names within the 107-byte ipc limit.
        assert!(a.as_os_str().len() < 80, "{}", a.display());
    }
}
