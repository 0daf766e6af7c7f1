//! docs/commands.md is generated from the command specs; this test fails when it is stale.
//! Regenerate with `UPDATE_DOCS=1 cargo test -p mystocks-commands --test docs`.

use std::path::PathBuf;

#[test]
fn command_reference_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/commands.md");
    let generated = mystocks_commands::reference::markdown();
    if std::env::var("UPDATE_DOCS").is_ok() {
        std::fs::write(&path, &generated).expect("write docs/commands.md");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "docs/commands.md is stale: run `UPDATE_DOCS=1 cargo test -p mystocks-commands --test docs` and commit it"
    );
}
