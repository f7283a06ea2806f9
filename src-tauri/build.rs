fn main() {
    // Declaring the app's commands makes Tauri generate a permission for each, so the
    // capability file can grant the window exactly these and nothing else.
    let manifest = tauri_build::AppManifest::new().commands(&[
        "list_targets",
        "startup_problems",
        "service_status",
        "disconnect",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri build step failed");
}
