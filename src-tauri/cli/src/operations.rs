//! The policy's operations on a target. Each prints the exact command it ran (on stderr),
//! then the host's output; a command that fails on the host exits 1.

use clap::Subcommand;
use shipshape_core::console::{IncomingReview, Source};
use shipshape_core::history::RunOutcome;
use shipshape_core::operations::{Operation, DEFAULT_LOG_LINES};
use shipshape_core::ssh::CancellationToken;
use shipshape_core::terminal::printable;
use shipshape_core::{Console, Error};

#[derive(Subcommand)]
pub enum OperationCommand {
    /// `docker compose --profile aws ps` on targets (side by side, each over its own
    /// connection): one line per service.
    Ps {
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// `docker compose --profile aws logs -n N SERVICE`.
    Logs {
        name: String,
        service: String,
        #[arg(short = 'n', long = "lines", default_value_t = DEFAULT_LOG_LINES)]
        lines: u32,
        /// Only lines since a time: `10m`, `2h`, or an RFC 3339 timestamp (not with
        /// --follow, which starts from the last --lines lines).
        #[arg(long, conflicts_with = "follow")]
        since: Option<String>,
        #[arg(short = 't', long)]
        timestamps: bool,
        /// Keep following new lines until interrupted (Ctrl-C).
        #[arg(short = 'f', long)]
        follow: bool,
    },
    /// `docker compose --profile aws restart SERVICE`.
    Restart { name: String, service: String },
    /// `docker compose --profile aws stop [SERVICE]` (every service without one).
    Stop {
        name: String,
        service: Option<String>,
    },
    /// `docker compose --profile aws pull`.
    Pull { name: String },
    /// `docker compose --profile aws up -d --remove-orphans`.
    Up { name: String },
    /// `docker compose --profile aws down` (needs --yes).
    Down {
        name: String,
        #[arg(long)]
        yes: bool,
    },
    /// `git pull origin main` in the project directory.
    GitPull { name: String },
    /// What `git pull origin main` would bring: fetches, then lists the incoming commits
    /// and the files they change. Changes nothing the services run.
    GitReview {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// The policy's health probe, `curl http://localhost:8002/api/health`, on the host.
    Health { name: String },
    /// `docker compose --profile aws exec backend-aws python scripts/SCRIPT`.
    Migrate { name: String, script: String },
}

pub async fn run(console: &Console, command: OperationCommand) -> Result<(), Error> {
    use OperationCommand as C;
    let (name, operation) = match command {
        C::Ps { names, json } => return ps(console, &names, json).await,
        C::GitReview { name, json } => return git_review(console, &name, json).await,
        C::Logs {
            name,
            service,
            lines,
            timestamps,
            follow: true,
            ..
        } => return follow_logs(console, &name, &service, lines, timestamps).await,
        C::Logs {
            name,
            service,
            lines,
            since,
            timestamps,
            follow: false,
        } => (
            name,
            Operation::Logs {
                service,
                lines,
                follow: false,
                since,
                timestamps,
            },
        ),
        C::Restart { name, service } => (
            name,
            Operation::Restart {
                service: Some(service),
            },
        ),
        C::Stop { name, service } => (name, Operation::Stop { service }),
        C::Pull { name } => (name, Operation::Pull),
        C::Up { name } => (name, Operation::Up),
        C::Down { name, yes } => {
            if !yes {
                return Err(Error::BadInput(format!(
                    "`down` stops and removes every service of {name}. Run it again with --yes to confirm."
                )));
            }
            (name, Operation::Down)
        }
        C::GitPull { name } => (name, Operation::GitPull),
        C::Health { name } => (name, Operation::Health),
        C::Migrate { name, script } => (name, Operation::Migrate { script }),
    };
    if operation.changes_host() {
        crate::announce_change(console, &name)?;
    }
    // Ctrl-C stops the command on the host (and a migration in its container too), and
    // the history records it as cancelled.
    let (cancel, watcher) = crate::cancelled_by_ctrl_c();
    // The exact command first, then its lines as they come (pull's progress, a
    // migration's output), each on the stream the host wrote it to. Planning reads the
    // host (its services, its Compose), which can wait on a slow one: Ctrl-C ends that
    // wait too, before anything has run or been recorded.
    let plan = tokio::select! {
        plan = console.plan_operation(&name, &operation) => plan.inspect_err(|_| watcher.abort())?,
        () = cancel.cancelled() => {
            eprintln!("shipshape: stopped while reading the host, before anything was sent to it; nothing is recorded in the history.");
            std::process::exit(130); // as a shell reports a command ended by Ctrl-C
        }
    };
    eprintln!("$ {}", plan.command);
    let outcome = console
        .run_operation_streaming(
            &name,
            &operation,
            |source, text| match source {
                Source::Stdout => print!("{}", printable(text)),
                Source::Stderr => eprint!("{}", printable(text)),
            },
            &cancel,
        )
        .await;
    watcher.abort();
    let outcome = match outcome {
        // Stopped before its command was sent: nothing ran on the host.
        Err(stopped @ Error::Cancelled { .. }) => {
            eprintln!("shipshape: {stopped} Nothing was sent to the host; it is recorded in the history as cancelled.");
            std::process::exit(130); // as a shell reports a command ended by Ctrl-C
        }
        outcome => outcome?,
    };
    // Stopped by Ctrl-C, as the history says: one that ended by itself as Ctrl-C came
    // keeps its own result.
    if outcome.outcome == RunOutcome::Cancelled {
        eprintln!("{}: recorded in the history.", printable(&outcome.title));
        std::process::exit(130); // as a shell reports a command ended by Ctrl-C
    }
    if outcome.succeeded() {
        Ok(())
    } else {
        Err(Error::RemoteFailed {
            what: outcome.title,
            exit_code: outcome.output.exit_code.unwrap_or(-1),
            detail: String::new(),
        })
    }
}

/// Prints the service's lines as they come until Ctrl-C (which ends the command on the
/// host too) or the follow ends by itself.
async fn follow_logs(
    console: &Console,
    name: &str,
    service: &str,
    lines: u32,
    timestamps: bool,
) -> Result<(), Error> {
    let follow = console.start_logs(name, service, lines, timestamps).await?;
    eprintln!("$ {}", follow.command());
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.cancel();
        }
    });
    let end = follow
        .run(
            |batch| {
                for line in batch {
                    println!("{}", printable(&line));
                }
            },
            &cancel,
        )
        .await?;
    match end.exit_code {
        Some(code) if code != 0 && !end.cancelled => Err(Error::RemoteFailed {
            what: format!("Following the logs of {service}"),
            exit_code: code,
            detail: end.stderr_tail,
        }),
        _ => Ok(()),
    }
}

/// Each target's services, in the order named; several are asked side by side (JSON: an
/// array of their reports). A target that fails is said and the others still shown.
async fn ps(console: &Console, names: &[String], json: bool) -> Result<(), Error> {
    // The table needs only `ps` (one compose process on the host); JSON adds restart
    // counts and image IDs.
    let (answers, last_error) = crate::side_by_side(console, names, |name| async move {
        match json {
            true => console.service_status(name).await,
            false => console.service_states(name).await,
        }
    })
    .await?;
    let several = names.len() > 1;
    let mut reports = Vec::new();
    for (name, report) in answers {
        if !json {
            if several {
                println!("{}", printable(name));
            }
            eprintln!("$ {}", report.command);
            for s in &report.services {
                let state = serde_json::to_value(s.state).expect("states serialize");
                println!(
                    "{:<20} {:<10} {}",
                    printable(&s.service),
                    state.as_str().unwrap_or("?"),
                    printable(&s.status)
                );
            }
        }
        reports.push(report);
    }
    match (json, several) {
        (true, true) => crate::print_json(&reports),
        (true, false) => reports.iter().for_each(crate::print_json),
        _ => {}
    }
    last_error.map_or(Ok(()), Err)
}

/// Prints the review: the commands that ran (stderr, like every operation), then the
/// incoming commits and the files they change.
async fn git_review(console: &Console, name: &str, json: bool) -> Result<(), Error> {
    let review = console.review_incoming(name).await?;
    if json {
        crate::print_json(&review);
        return Ok(());
    }
    for command in &review.commands {
        eprintln!("$ {command}");
    }
    print!("{}", printable(&review_text(&review)));
    Ok(())
}

/// How many hex digits of a commit hash the review shows, as `git log --oneline` does.
const SHORT_HASH: usize = 7;

fn review_text(review: &IncomingReview) -> String {
    if review.is_up_to_date() {
        return format!(
            "Already up to date: HEAD {} has everything on {}.\n",
            review.head, review.upstream
        );
    }
    let mut text = format!(
        "HEAD {} → {}: {}\n",
        review.head,
        review.upstream,
        counted(review.commits.len(), "incoming commit")
    );
    for commit in &review.commits {
        let hash = commit.hash.get(..SHORT_HASH).unwrap_or(&commit.hash);
        text.push_str(&format!(
            "  {hash}  {}  {}  {}\n",
            commit.author, commit.date, commit.subject
        ));
    }
    text.push_str(&format!(
        "{}:\n",
        counted(review.files.len(), "changed file")
    ));
    for file in &review.files {
        match &file.from {
            Some(from) => text.push_str(&format!("  {}  {from} → {}\n", file.status, file.path)),
            None => text.push_str(&format!("  {}  {}\n", file.status, file.path)),
        }
    }
    text
}

/// `1 changed file`, `2 changed files`.
fn counted(count: usize, noun: &str) -> String {
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}
