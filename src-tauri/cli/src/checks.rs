//! `verify`, `history` and `report`: the checklist from a terminal. `verify` prints each
//! item as it is decided and exits 1 if any failed (items awaiting a tick are not
//! failures); reports take their format from the file's extension.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use shipshape_core::checklist::{CheckItem, CheckStatus};
use shipshape_core::history::{RecordKind, RunOutcome};
use shipshape_core::terminal::printable;
use shipshape_core::{Console, Error};

#[derive(Args)]
pub struct VerifyArgs {
    /// The targets to verify, side by side, each over its own connection.
    #[arg(required = true)]
    names: Vec<String>,
    /// Write the report here too (.md, .html, .pdf or .json); one target only.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Sign the report with this key from the keyring (writes FILE.sig).
    #[arg(long, requires = "report")]
    sign: Option<String>,
}

#[derive(Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    action: Option<HistoryAction>,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum HistoryAction {
    /// Walk the journal's hash chain and name the first record that does not hold.
    Verify {
        #[arg(long)]
        json: bool,
        /// A report's journal head (its `journal_head`): also check that the journal
        /// still holds that entry, which entries removed from its end or a chain
        /// rebuilt would not.
        #[arg(long)]
        head: Option<String>,
    },
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    action: Option<ReportAction>,
    /// The verification's record id (`shipshape history` lists them).
    record_id: Option<String>,
    /// The file to write (.md, .html, .pdf or .json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Sign the report with this key from the keyring (writes FILE.sig).
    #[arg(long)]
    sign: Option<String>,
}

#[derive(Subcommand)]
enum ReportAction {
    /// Co-sign a report file as its reviewer (writes FILE.KEY.sig).
    Cosign {
        file: PathBuf,
        #[arg(long)]
        key: String,
    },
}

/// The report file as the operator named it, made absolute against the working directory.
/// The report's path made absolute, as the export records it.
pub(crate) fn report_path(path: &std::path::Path) -> Result<PathBuf, Error> {
    std::path::absolute(path).map_err(|e| {
        Error::BadInput(format!(
            "{}: {e}",
            shipshape_core::input::shown(&path.to_string_lossy())
        ))
    })
}

fn status_words(status: CheckStatus) -> String {
    let icon = match status {
        CheckStatus::Pass => "✔",
        CheckStatus::Fail => "✘",
        CheckStatus::Warn => "⚠",
        CheckStatus::Manual => "☐",
        CheckStatus::Waived => "⊘",
        CheckStatus::Na => "–",
        CheckStatus::Pending => "…",
    };
    format!("{icon} {:<14}", status.label())
}

/// One checked item, after `prefix` (the target's name when several run side by side).
fn print_item(prefix: &str, item: &CheckItem) {
    println!(
        "{prefix}{} {:<17} {}",
        status_words(item.status),
        item.id.as_str(),
        printable(&item.note)
    );
}

pub async fn verify(console: &Console, args: VerifyArgs) -> Result<(), Error> {
    if args.report.is_some() && args.names.len() > 1 {
        return Err(Error::BadInput(
            "--report writes one target's report: verify one target at a time to write reports."
                .into(),
        ));
    }
    // The report's destination, then every name, is checked before the first check runs.
    let report = match &args.report {
        Some(path) => {
            let path = report_path(path)?;
            console.check_report_destination(&path, args.sign.as_deref())?;
            Some(path)
        }
        None => None,
    };
    let several = args.names.len() > 1;
    // Ctrl-C ends the probes on the host and the history records the run as cancelled.
    let (cancel, watcher) = crate::cancelled_by_ctrl_c();
    let cancel = &cancel;
    let ran = crate::side_by_side(console, &args.names, |name| async move {
        eprintln!("Verifying {}…", printable(name));
        let prefix = match several {
            true => format!("{}: ", printable(name)),
            false => String::new(),
        };
        console
            .verify_until(name, |item| print_item(&prefix, item), cancel)
            .await
    })
    .await;
    watcher.abort();
    let (verified, last_error) = match ran {
        Err(stopped @ Error::Cancelled { .. }) => {
            eprintln!("shipshape: {stopped} It is recorded in the history as cancelled.");
            std::process::exit(130); // as a shell reports a command ended by Ctrl-C
        }
        ran => ran?,
    };
    let mut failed_targets = Vec::new();
    for (name, checklist) in verified {
        let counts: Vec<String> = checklist
            .summary()
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{n} {}", s.as_str()))
            .collect();
        eprintln!(
            "{}: {} (record {})",
            printable(name),
            counts.join(", "),
            checklist.id
        );
        if let Some(path) = &report {
            let export =
                shipshape_report::export(console, &checklist.id, path, args.sign.as_deref());
            match export.await {
                Ok(export) => say_written(&export),
                // A report that cannot be written or signed is said; the failed checks
                // still decide the exit code.
                Err(error) if checklist.failed() => crate::say_error(Some(name), &error),
                Err(error) => return Err(error),
            }
        }
        if checklist.failed() {
            let failed = checklist
                .items
                .iter()
                .filter(|i| i.status == CheckStatus::Fail)
                .map(|i| i.id.as_str().to_string())
                .collect();
            failed_targets.push(Error::ChecksFailed {
                target: name.clone(),
                total: checklist.items.len(),
                failed,
            });
        }
    }
    // A host that cannot be reached or trusted (exit 3) outweighs failed checks (1).
    let unreachable = last_error
        .as_ref()
        .is_some_and(|e| e.code().exit_code() == 3 || e.code().is_danger());
    if unreachable {
        return Err(last_error.expect("checked just above"));
    }
    match (failed_targets.pop(), last_error) {
        (Some(failed), _) => Err(failed),
        // A run that finished before the stop reached it stands (and was reported above).
        (None, Some(Error::Cancelled { .. })) => {
            std::process::exit(130); // as a shell reports a command ended by Ctrl-C
        }
        (None, Some(error)) => Err(error),
        (None, None) => Ok(()),
    }
}

pub async fn history(console: &Console, args: HistoryArgs) -> Result<(), Error> {
    match args.action {
        Some(HistoryAction::Verify { json, head }) => {
            // `history --json verify` as well as `history verify --json`.
            let json = json || args.json;
            let (report, reaches) = match &head {
                Some(head) => {
                    let (report, at) = console.verify_journal_reaches(head)?;
                    (report, Some(at))
                }
                None => (console.verify_journal()?, None),
            };
            if json {
                // With --head, whether the journal holds it, beside what the walk found.
                let mut said = serde_json::to_value(&report).expect("a chain report serializes");
                if let Some(at) = reaches {
                    said["head_found_at"] = serde_json::json!(at);
                }
                crate::print_json(&said);
            }
            if let Some(broken) = report.broken {
                return Err(Error::JournalBroken {
                    seq: broken.seq,
                    record: broken.record_id,
                    reason: broken.reason,
                });
            }
            if !json {
                println!(
                    "The journal holds: {} entries, chain head {}.",
                    report.entries, report.head
                );
            }
            // A head the journal lacks says more than an entry it cannot read.
            match (reaches, &head) {
                (Some(Some(seq)), Some(head)) if !json => {
                    println!("It holds the report's head {head} at entry {seq}.")
                }
                (Some(None), Some(head)) => {
                    return Err(Error::JournalMissing {
                        head: printable(head),
                    })
                }
                _ => {}
            }
            match report.unreadable {
                Some(unreadable) => Err(Error::JournalUnreadable {
                    seq: unreadable.seq,
                    record: unreadable.record_id,
                    reason: unreadable.reason,
                }),
                None => Ok(()),
            }
        }
        None => {
            let records = console.history()?;
            if args.json {
                crate::print_json(&records);
                return Ok(());
            }
            // Each report made from a verification, under its line, as the window shows.
            let exports = console.report_exports()?;
            for r in records {
                let end = match (r.kind, r.outcome, r.exit_code) {
                    (RecordKind::Event, _, _) => "recorded".into(),
                    (_, outcome, code) => ended(outcome, code),
                };
                let line = format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    r.id, r.started_at, r.target, r.operator, r.title, end, r.command
                );
                // A title or command can hold a commit message or a line break.
                println!("{}", printable(&line.replace('\n', " ")));
                for x in exports.iter().filter(|x| x.record_id == r.id) {
                    let mut said = format!(
                        "  report {}: {} ({}, by {})",
                        x.format.extension(),
                        x.path,
                        x.exported_at,
                        x.exported_by.user
                    );
                    if let Some(signature) = &x.signature {
                        said.push_str(&format!(", signed: {signature}"));
                    }
                    for c in &x.cosigners {
                        said.push_str(&format!(", co-signed by {} ({})", c.user, c.fingerprint));
                    }
                    println!("{}", printable(&said.replace('\n', " ")));
                }
            }
            Ok(())
        }
    }
}

/// How a run ended, in a word or two.
fn ended(outcome: RunOutcome, exit_code: Option<i64>) -> String {
    match (outcome, exit_code) {
        (RunOutcome::Exited, Some(code)) => format!("exit {code}"),
        (RunOutcome::Exited, None) => "exit -".into(),
        (RunOutcome::Cancelled, _) => "cancelled".into(),
        (RunOutcome::TimedOut, _) => "timed out".into(),
        (RunOutcome::Interrupted, _) => "interrupted".into(),
        (RunOutcome::NotStarted, _) => "not started".into(),
        (RunOutcome::Running, _) => "running".into(),
    }
}

pub async fn report(console: &Console, args: ReportArgs) -> Result<(), Error> {
    if let Some(ReportAction::Cosign { file, key }) = args.action {
        let signer = console.cosign_report(&file, &key).await?;
        println!(
            "Co-signed by {} with {} ({}): {}",
            signer.user, signer.key_name, signer.fingerprint, signer.signature_file
        );
        return Ok(());
    }
    let (Some(record_id), Some(out)) = (args.record_id, args.out) else {
        return Err(Error::BadInput(
            "Usage: shipshape report RECORD_ID --out FILE [--sign KEY], or shipshape report cosign FILE --key KEY.".into(),
        ));
    };
    let export = shipshape_report::export(
        console,
        &record_id,
        &report_path(&out)?,
        args.sign.as_deref(),
    )
    .await?;
    println!("Report written to {}", export.path);
    if let Some(signature) = &export.signature {
        println!("Signature written to {signature}");
    }
    for removed in &export.removed_signatures {
        println!("Removed {removed}: it signed the file this report replaced");
    }
    Ok(())
}

/// What a run's report export wrote, on standard error (standard output is the run's).
pub(crate) fn say_written(export: &shipshape_core::console::ReportExport) {
    eprintln!("Report written to {}", export.path);
    if let Some(signature) = &export.signature {
        eprintln!("Signature written to {signature}");
    }
    for removed in &export.removed_signatures {
        eprintln!("Removed {removed}: it signed the file this report replaced");
    }
}
