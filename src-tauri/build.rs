fn main() {
    // Declaring the app's commands makes Tauri generate a permission for each, so the
    // capability file can grant the window exactly these and nothing else.
    let manifest = tauri_build::AppManifest::new().commands(&[
        "list_targets",
        "startup_problems",
        "save_target",
        "remove_target",
        "ssh_config_hosts",
        "import_ssh_config_host",
        "probe_host_key",
        "trust_host",
        "trust_from_known_hosts",
        "list_keys",
        "key_files",
        "import_key",
        "generate_key",
        "remove_key",
        "service_status",
        "disconnect",
        "plan_operation",
        "run_operation",
        "list_migrations",
        "history",
        "watch_status",
        "stop_watch",
        "cancel_operation",
        "follow_logs",
        "stop_logs",
        "save_log",
        "review_incoming",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri build step failed");
}
