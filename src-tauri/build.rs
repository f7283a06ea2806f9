// The commands are read from their `#[tauri::command]` functions (see command_list.rs), so
// registering one takes no list to keep in step by hand.
#[allow(dead_code)] // the build reads names only; the command_list test reads the rest
#[path = "command_list.rs"]
mod command_list;

use std::path::{Path, PathBuf};

fn main() {
    let commands_dir = Path::new("src/commands");
    println!("cargo:rerun-if-changed=src/commands");
    println!("cargo:rerun-if-changed=command_list.rs");
    let commands = command_list::scan(commands_dir).unwrap_or_else(|e| panic!("{e}"));

    // The handler list main.rs includes: `commands::<module>::<name>` for each.
    let paths: Vec<String> = commands
        .iter()
        .map(|c| format!("    commands::{}::{},\n", c.module, c.name))
        .collect();
    let handlers = format!("tauri::generate_handler![\n{}]\n", paths.concat());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out_dir.join("handlers.rs"), handlers).expect("writing handlers.rs");

    // Declaring the commands makes Tauri generate a permission for each, so the
    // capability file can grant the window exactly these and nothing else.
    // tauri-build takes `'static` names; leaking them costs nothing in a build script.
    let names: Vec<&'static str> = commands.into_iter().map(|c| &*c.name.leak()).collect();
    let manifest = tauri_build::AppManifest::new().commands(names.leak());
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri build step failed");
}
