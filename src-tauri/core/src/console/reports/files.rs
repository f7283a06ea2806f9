//! The files around a report. A report is written over whatever its path held, so a
//! path in Shipshape's own data directory could replace the settings, the journal or the
//! facts cache with a report: such a path is refused. And signatures are files beside
//! the report, named after it: a report written again (unsigned, or signed by someone
//! else) would leave the old `FILE.sig` and reviewers' `FILE.KEYNAME.sig` beside bytes
//! they never signed, and an auditor would read "incorrect signature" as tampering. So
//! those are removed when the report is written, and the export says which.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Refuses `path` if it is in one of `own_dirs` (links followed on both sides).
pub fn refuse_own_dir(path: &Path, own_dirs: &[PathBuf]) -> Result<()> {
    let Some(folder) = path.parent().and_then(|p| p.canonicalize().ok()) else {
        return Ok(());
    };
    for dir in own_dirs {
        let Ok(dir) = dir.canonicalize() else {
            continue;
        };
        if folder.starts_with(&dir) {
            return Err(Error::BadInput(format!(
                "{} is in Shipshape's own data folder {}, where a report could replace its settings or its journal: choose another folder.",
                crate::input::shown(&path.to_string_lossy()),
                crate::input::shown(&dir.to_string_lossy())
            )));
        }
    }
    Ok(())
}

/// Removes the signatures of an earlier file at `report`: `FILE.sig`, and `FILE.KEY.sig`
/// where `KEY` is a key name a reviewer could have co-signed with and `FILE.KEY` is not
/// itself a file (whose own signature that would be). Returns the paths removed.
pub fn remove_stale_signatures(report: &Path) -> Result<Vec<String>> {
    let (Some(folder), Some(name)) = (report.parent(), report.file_name()) else {
        return Ok(Vec::new());
    };
    let Some(name) = name.to_str() else {
        return Ok(Vec::new());
    };
    let entries = std::fs::read_dir(folder).map_err(|e| Error::storage(folder, e))?;
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::storage(folder, e))?;
        let file_name = entry.file_name();
        let Some(candidate) = file_name.to_str() else {
            continue;
        };
        let Some(middle) = candidate
            .strip_prefix(name)
            .and_then(|rest| rest.strip_suffix(".sig"))
        else {
            continue;
        };
        let stale = match middle.strip_prefix('.') {
            None => middle.is_empty(),
            Some(key) => {
                crate::keys::validate_name(key).is_ok()
                    && !folder.join(format!("{name}.{key}")).exists()
            }
        };
        let path = entry.path();
        let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        if !stale || is_dir {
            continue;
        }
        std::fs::remove_file(&path).map_err(|e| Error::Storage {
            path: path.display().to_string(),
            cause: format!(
                "the report was written, but this signature of its earlier version could not be removed ({e}); remove it by hand"
            ),
        })?;
        removed.push(path.display().to_string());
    }
    removed.sort();
    Ok(removed)
}

/// `dir/stem.extension`, or `dir/stem-2.extension` and on if that file exists: a
/// suggested name never writes over an earlier export, which would take its reviewers'
/// co-signatures with it.
pub(super) fn unused_path(dir: &Path, stem: &str, extension: &str) -> PathBuf {
    (1..)
        .map(|n| match n {
            1 => dir.join(format!("{stem}.{extension}")),
            n => dir.join(format!("{stem}-{n}.{extension}")),
        })
        .find(|path| !path.exists())
        .expect("some name is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_reports_own_signatures_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let touch = |name: &str| std::fs::write(dir.path().join(name), "x").unwrap();
        for name in [
            "r.md",
            "r.md.sig",
            "r.md.reviewer.sig",
            "r.md.lab-key_2.sig",
            // Not r.md's: another report and its signature, look-alikes, other files.
            "r.md.x.md",
            "r.md.x.md.sig",
            "r.md.bad key.sig",
            "r.md.-dash.sig",
            "r.mdsig",
            "r.md.sig.bak",
            "xr.md.sig",
            "r.pdf.sig",
        ] {
            touch(name);
        }
        std::fs::create_dir(dir.path().join("r.md.folder.sig")).unwrap();
        let removed = remove_stale_signatures(&dir.path().join("r.md")).unwrap();
        let names: Vec<String> = removed
            .iter()
            .map(|p| p.rsplit('/').next().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            ["r.md.lab-key_2.sig", "r.md.reviewer.sig", "r.md.sig"]
        );
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "r.md",
                "r.md.-dash.sig",
                "r.md.bad key.sig",
                "r.md.folder.sig",
                "r.md.sig.bak",
                "r.md.x.md",
                "r.md.x.md.sig",
                "r.mdsig",
                "r.pdf.sig",
                "xr.md.sig"
            ]
        );
        // A first export: nothing beside it, nothing to say.
        assert!(remove_stale_signatures(&dir.path().join("new.md"))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_path_in_the_data_folder_is_refused_even_through_a_link() {
        let data = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::create_dir(data.path().join("logs")).unwrap();
        let own = [data.path().to_path_buf()];
        for path in [
            data.path().join("settings.json"),
            data.path().join("report.md"),
            data.path().join("logs/report.md"),
        ] {
            let error = refuse_own_dir(&path, &own).unwrap_err();
            assert_eq!(error.code(), crate::error::ErrorCode::BadInput);
            assert!(error.to_string().contains("own data folder"), "{error}");
        }
        #[cfg(unix)]
        {
            let link = elsewhere.path().join("link");
            std::os::unix::fs::symlink(data.path(), &link).unwrap();
            assert!(refuse_own_dir(&link.join("journal.sqlite3"), &own).is_err());
        }
        assert!(refuse_own_dir(&elsewhere.path().join("report.md"), &own).is_ok());
    }

    #[test]
    fn a_suggested_name_never_names_an_earlier_export() {
        let dir = tempfile::tempdir().unwrap();
        let first = unused_path(dir.path(), "shipshape-prod-verify-1", "md");
        assert!(first.ends_with("shipshape-prod-verify-1.md"));
        std::fs::write(&first, "report").unwrap();
        let second = unused_path(dir.path(), "shipshape-prod-verify-1", "md");
        assert!(second.ends_with("shipshape-prod-verify-1-2.md"));
    }
}
