//! Rebuilds `meta` when the embedded meta-repo template changes (`include_dir!` alone does not
//! tell cargo which files it read).

fn main() {
    println!("cargo:rerun-if-changed=../../templates/metarepo");
}
