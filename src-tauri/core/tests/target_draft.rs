//! A new target's draft, as the window's form starts it: the project directory a policy
//! file names (as `target add` without `--dir` takes it), and a file that does not read
//! refused at once, with its line and field.

mod host;

use host::FakeHost;

#[tokio::test]
async fn a_new_targets_draft_takes_its_policy_files_directory() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = host::console::console(dir.path(), &[], &host, None);
    let builtin = console.target_draft(None).unwrap();
    assert_eq!(builtin.project_dir, shipshape_core::policy::PROJECT_DIR);
    let empty = console.target_draft(Some("  ")).unwrap_err().to_string();
    assert!(empty.contains("path is empty"), "{empty}");

    let team = dir.path().join("team.toml");
    std::fs::write(&team, "project_dir = \"/srv/team\"\n").unwrap();
    let path = team.to_str().unwrap();
    let draft = console.target_draft(Some(path)).unwrap();
    assert_eq!(draft.project_dir, "/srv/team");
    assert_eq!(draft.policy_file.as_deref(), Some(path));

    std::fs::write(&team, "\nproject_dir = \"srv\"\n").unwrap();
    let refused = console.target_draft(Some(path)).unwrap_err().to_string();
    assert!(refused.contains("line 2, field `project_dir`"), "{refused}");
}
