//! Link settings of the bot's binaries that shrink what an idle bot keeps resident.
//!
//! - Packed relative relocations (DT_RELR, `-z pack-relative-relocs`). A position-independent Rust binary carries
//!   one 24-byte relocation entry for every pointer in its read-only data (vtables, string slices in statics); the
//!   dynamic loader reads all of them at start-up, so the whole table — megabytes — stays resident for nothing.
//!   Packed, the table is a few percent of that. Needs GNU ld ≥ 2.38 or lld to link and glibc ≥ 2.36 to run
//!   (Debian 12 and the distroless cc-debian12 runtime image have both).
//! - The start-up functions linked next to each other (`--symbol-ordering-file=startup-order.txt`, written by
//!   `scripts/startup-order`). The kernel maps code 64 KiB at a time around each page a process touches, so the
//!   few thousand functions that run from start-up to idle, scattered over 28 MB of code, keep 12 MB of it
//!   resident; gathered at the front they keep about 4. Only with lld, the linker rustc uses by default on
//!   x86_64-unknown-linux-gnu; names the file lists that a build does not have (another profile, changed code)
//!   are skipped without a word.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || env != "gnu" {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");

    let order = Path::new(env!("CARGO_MANIFEST_DIR")).join("startup-order.txt");
    println!("cargo:rerun-if-changed={}", order.display());
    let target = std::env::var("TARGET").unwrap_or_default();
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    // lld is rustc's default linker for this target only; a build that picks its own linker keeps the default order.
    let default_linker = ![
        "linker-features",
        "link-self-contained",
        "fuse-ld",
        "linker=",
    ]
    .iter()
    .any(|f| flags.contains(f));
    if target == "x86_64-unknown-linux-gnu" && default_linker && order.is_file() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}
