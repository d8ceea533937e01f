//! Embeds `roles/` in the binary, so that one file is all an operator needs on the controller
//! (`--roles-dir` still overrides roles from a directory).

use std::fmt::Write as _;
use std::path::PathBuf;

#[path = "src/input/walk.rs"]
mod walk;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut code = String::new();
    for (dir, name) in [("roles", "ROLES"), ("templates", "SHARED_TEMPLATES")] {
        let base = root.join(dir);
        // A directory is scanned as a whole: any file added, changed or removed rebuilds.
        println!("cargo:rerun-if-changed={}", base.display());
        // Editors' swap and backup files (hidden) are not part of a role; a directory that
        // cannot be read embeds nothing, and the role then fails its own checks.
        let files: Vec<PathBuf> = walk::files_below(&base, &|_| false)
            .files
            .into_iter()
            .filter(|path| path.is_file())
            .collect();
        writeln!(
            code,
            "/// Every file under `{dir}/`: its path relative to it, and its bytes."
        )
        .unwrap();
        writeln!(code, "pub static {name}: &[(&str, &[u8])] = &[").unwrap();
        for file in files {
            let relative = file.strip_prefix(&base).expect("below base");
            writeln!(
                code,
                "    ({:?}, include_bytes!({:?})),",
                relative.to_string_lossy(),
                file.display().to_string()
            )
            .unwrap();
        }
        writeln!(code, "];").unwrap();
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("embedded.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
