//! What the fuzz targets share.

/// libfuzzer-sys aborts on every panic, even one the code under test catches. `meta` catches
/// toml_edit's own panics on malformed text (`meta_workspace::toml_text::guarded`; toml_edit
/// 0.23.10 panics "all items have spans" on `=={` newline `.`): let those unwind to that
/// `catch_unwind`, and abort on every other panic as before.
pub fn let_caught_toml_edit_panics_unwind() {
    let aborting = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info
            .location()
            .is_some_and(|at| at.file().contains("/toml_edit-"))
        {
            return;
        }
        aborting(info);
    }));
}
