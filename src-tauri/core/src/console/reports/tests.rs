//! Exports against a journal on disk: what an auditor could be shown from a journal
//! edited behind Shipshape's back, and what an export leaves beside its file.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::checklist::{CheckId, CheckItem, CheckStatus, Checklist, ReportTarget};
use crate::error::ErrorCode;
use crate::settings::JsonFileSettings;

fn console(home: &Path) -> Console {
    let settings = JsonFileSettings::open(home.join("settings.json")).unwrap();
    Console::in_dir(Arc::new(settings), home)
}

/// A verification whose health check failed, recorded as `verify-1`.
fn record_failed_verification(console: &Console) {
    let checklist = Checklist {
        id: "verify-1".into(),
        target: ReportTarget {
            name: "prod".into(),
            host: "10.0.0.1".into(),
            port: 22,
            user: "ubuntu".into(),
            project_dir: "/srv/app".into(),
            host_key: "SHA256:host".into(),
        },
        operator: Actor {
            user: "ops".into(),
            key_fingerprint: Some("SHA256:operator".into()),
        },
        started_at: "2026-11-26T05:00:00.000Z".into(),
        finished_at: "2026-11-26T05:00:01.000Z".into(),
        git_commit: None,
        images: vec![],
        policy: None,
        items: vec![CheckItem::new(
            CheckId::Health,
            CheckStatus::Fail,
            "502 from the backend.".into(),
            vec![],
        )],
    };
    let journal = console.journal().unwrap();
    journal
        .append("verify-1", &Entry::VerificationEnded(checklist))
        .unwrap();
}

async fn export(console: &Console, report: &Report, path: &Path) -> Result<ReportExport> {
    let bytes = report.to_json().into_bytes();
    console
        .save_report(report, ReportFormat::Json, path, &bytes, None)
        .await
}

#[tokio::test]
async fn no_report_is_made_saved_or_cosigned_from_a_journal_edited_behind_its_back() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let console = console(home.path());
    record_failed_verification(&console);
    let honest = console.report("verify-1").unwrap();
    assert_eq!(honest.verdict, crate::report::Verdict::Failed);
    let exported = out.path().join("r.json");
    export(&console, &honest, &exported).await.unwrap();

    // The failure turned into a pass in the stored row, as anyone with the file can.
    let db = rusqlite::Connection::open(home.path().join("journal.sqlite3")).unwrap();
    let changed = db
        .execute(
            "UPDATE entries SET body = replace(body, '\"fail\"', '\"pass\"') WHERE kind = 'verification_ended'",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    assert_eq!(
        console
            .journal()
            .unwrap()
            .checklist("verify-1")
            .unwrap()
            .items[0]
            .status,
        CheckStatus::Pass,
        "the edit reads back: a report made now would say Passed"
    );
    assert!(console.verify_journal().unwrap().broken.is_some());

    let refused = |result: Result<()>, what: &str| {
        let error = result.expect_err(what);
        assert_eq!(error.code(), ErrorCode::JournalBroken, "{what}: {error}");
        assert_eq!(error.code().exit_code(), 1, "{what}");
        assert!(error.to_string().contains("verify-1"), "{what}: {error}");
    };
    refused(console.report("verify-1").map(drop), "report");
    let again = out.path().join("again.json");
    refused(
        export(&console, &honest, &again).await.map(drop),
        "save_report",
    );
    assert!(!again.exists(), "nothing written");
    refused(
        console.cosign_report(&exported, "reviewer").await.map(drop),
        "cosign",
    );
    assert!(!out.path().join("r.json.reviewer.sig").exists());
}

#[tokio::test]
async fn an_unsigned_export_credits_no_key() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let console = console(home.path());
    record_failed_verification(&console);
    let report = console.report("verify-1").unwrap();
    assert_eq!(report.operator_key.as_deref(), Some("SHA256:operator"));
    let export = export(&console, &report, &out.path().join("r.json"))
        .await
        .unwrap();
    // Neither the verification's key nor any other signed this file.
    assert_eq!(export.signature, None);
    assert_eq!(export.exported_by.key_fingerprint, None);
    let recorded = console.report_exports().unwrap();
    assert_eq!(recorded[0].exported_by.key_fingerprint, None);
}

#[tokio::test]
async fn an_export_again_clears_the_old_files_signatures_and_says_so() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let console = console(home.path());
    record_failed_verification(&console);
    let report = console.report("verify-1").unwrap();
    let path = out.path().join("r.json");
    let first = export(&console, &report, &path).await.unwrap();
    assert!(first.removed_signatures.is_empty());

    // Signatures of the file as it was, by the operator and a reviewer.
    for name in ["r.json.sig", "r.json.reviewer.sig"] {
        std::fs::write(out.path().join(name), "old").unwrap();
    }
    std::fs::write(out.path().join("other.json.sig"), "keep").unwrap();
    let second = export(&console, &report, &path).await.unwrap();
    let removed: Vec<&str> = second
        .removed_signatures
        .iter()
        .map(|p| p.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(removed, ["r.json.reviewer.sig", "r.json.sig"]);
    assert!(!out.path().join("r.json.sig").exists());
    assert!(!out.path().join("r.json.reviewer.sig").exists());
    assert!(out.path().join("other.json.sig").exists());
    let recorded = console.report_exports().unwrap();
    assert_eq!(recorded[1].removed_signatures, second.removed_signatures);
}

#[tokio::test]
async fn a_report_is_not_written_over_shipshapes_own_files() {
    let home = tempfile::tempdir().unwrap();
    let console = console(home.path());
    record_failed_verification(&console);
    let report = console.report("verify-1").unwrap();
    let settings = std::fs::read(home.path().join("settings.json")).ok();
    for name in ["settings.json", "facts.json", "report.json"] {
        let error = export(&console, &report, &home.path().join(name))
            .await
            .expect_err(name);
        assert_eq!(error.code(), ErrorCode::BadInput, "{name}: {error}");
        assert!(error.to_string().contains("own data folder"), "{error}");
    }
    assert_eq!(
        std::fs::read(home.path().join("settings.json")).ok(),
        settings
    );
    assert!(console
        .journal()
        .unwrap()
        .verify()
        .unwrap()
        .broken
        .is_none());
}

#[tokio::test]
async fn an_export_whose_key_cannot_sign_leaves_the_earlier_signed_report_as_it_was() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let key =
        russh::keys::PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519).unwrap();
    let public = key.public_key();
    let listed = crate::keys::KeyInfo {
        name: "ops".into(),
        algorithm: public.algorithm().to_string(),
        fingerprint: public.fingerprint(russh::keys::HashAlg::Sha256).to_string(),
        comment: String::new(),
        created_at: "2026-12-05T00:00:00Z".into(),
        public_key: public.to_openssh().unwrap(),
    };
    let settings = JsonFileSettings::open(home.path().join("settings.json")).unwrap();
    crate::settings::Settings::set(&settings, "keys", serde_json::to_value([listed]).unwrap())
        .unwrap();
    let settings = Arc::new(settings);
    let signing = Console::in_dir(settings.clone(), home.path())
        .with_key_loader(Arc::new(move |_| Ok(key.clone())));
    record_failed_verification(&signing);
    let report = signing.report("verify-1").unwrap();
    let path = out.path().join("r.json");
    let first = report.to_json().into_bytes();
    signing
        .save_report(&report, ReportFormat::Json, &path, &first, Some("ops"))
        .await
        .unwrap();
    let signature = std::fs::read(out.path().join("r.json.sig")).unwrap();

    // The keyring says no this time (locked, the prompt declined).
    let refused = Console::in_dir(settings, home.path()).with_key_loader(Arc::new(|_| {
        Err(Error::KeyringUnavailable {
            cause: "the prompt was dismissed".into(),
        })
    }));
    let error = refused
        .save_report(
            &report,
            ReportFormat::Json,
            &path,
            b"{\"other\":1}",
            Some("ops"),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::KeyringUnavailable, "{error}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        first,
        "the report is as it was"
    );
    assert_eq!(
        std::fs::read(out.path().join("r.json.sig")).unwrap(),
        signature
    );
}

#[tokio::test]
async fn a_file_cosigned_twice_by_one_key_lists_that_cosigner_once() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let console = console(home.path());
    record_failed_verification(&console);
    let report = console.report("verify-1").unwrap();
    let exported = export(&console, &report, &out.path().join("r.json"))
        .await
        .unwrap();
    let signer = |signed_at: &str| crate::report::Signer {
        user: "rita".into(),
        key_name: "reviewer".into(),
        fingerprint: "SHA256:reviewer".into(),
        signed_at: signed_at.into(),
        signature_file: format!("{}.reviewer.sig", exported.path),
    };
    // Co-signed again (unsure the first worked): the file holds the second signature.
    let journal = console.journal().unwrap();
    for at in ["2026-12-06T10:00:00Z", "2026-12-06T10:01:00Z"] {
        let cosigned = Entry::ReportCosigned {
            sha256: exported.sha256.clone(),
            signer: signer(at),
        };
        journal.append("verify-1", &cosigned).unwrap();
    }
    let recorded = console.report_exports().unwrap();
    assert_eq!(recorded[0].cosigners, [signer("2026-12-06T10:01:00Z")]);
}
