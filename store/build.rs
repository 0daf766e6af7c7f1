//! Rebuilds the crate when a migration file is added or changed: `sqlx::migrate!` embeds the folders at compile
//! time, and cargo would otherwise only notice files that already existed.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
