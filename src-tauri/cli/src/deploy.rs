//! `deploy`, `rollback` and `lock`: the guided deploy from a terminal. Each step prints
//! as it starts and ends, with its exact commands; a deploy refused because another
//! operator holds the host's lock exits 4 and names them.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use shipshape_core::console::{DeployEvent, DeployRequest, DeployRun, RunPlan};
use shipshape_core::deploy::{DeployOutcome, LockStatus, StepStatus};
use shipshape_core::history::{LastRun, RunOutcome};
use shipshape_core::terminal::printable;
use shipshape_core::{Console, Error};

#[derive(Args)]
pub struct DeployArgs {
    name: String,
    /// Deploy without asking (a script, or after reading the review).
    #[arg(long)]
    yes: bool,
    /// What this deploy is for: the lock and the host's audit log show it.
    #[arg(long, default_value = "Deploy the latest origin/main")]
    message: String,
    /// A migration script to run once the services are updated (repeat for several; none by default).
    #[arg(long = "migrate", value_name = "SCRIPT")]
    migrations: Vec<String>,
    /// A review a reviewer approved (`shipshape review`, `shipshape approve`): the deploy
    /// goes ahead only if it finds exactly what was approved, and the report shows it.
    #[arg(long, value_name = "REVIEW_ID")]
    review: Option<String>,
    /// Go on from a deploy that was cut short or stopped: its snapshot stays the one a
    /// rollback returns to.
    #[arg(long, value_name = "DEPLOY_ID")]
    resume: Option<String>,
    /// Write the deploy's verification report here (.md, .html, .pdf or .json).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Sign the report with this key from the keyring (writes FILE.sig).
    #[arg(long, requires = "report")]
    sign: Option<String>,
    /// Print the deploy's steps and the exact commands of those that change the host,
    /// and change nothing.
    #[arg(long, conflicts_with_all = ["yes", "report"])]
    dry_run: bool,
}

#[derive(Args)]
pub struct RollbackArgs {
    name: String,
    /// The deploy whose snapshot to return to (default: the newest).
    #[arg(long)]
    to: Option<String>,
    /// Why: a rollback is recorded as an emergency change.
    #[arg(long, required_unless_present = "dry_run")]
    reason: Option<String>,
    /// Roll back without asking.
    #[arg(long)]
    yes: bool,
    /// Print the rollback's steps and the exact commands of its restore, and change
    /// nothing.
    #[arg(long, conflicts_with = "yes")]
    dry_run: bool,
}

#[derive(Subcommand)]
pub enum LockCommand {
    /// Whether the host's deploy lock is held, and by whom.
    Status {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Break the lock deliberately (its holder is unreachable), with a recorded reason.
    Release {
        name: String,
        #[arg(long)]
        reason: String,
    },
}

fn print_event(event: DeployEvent) {
    match event {
        DeployEvent::StepStarted { title, .. } => eprintln!("→ {}", printable(&title)),
        DeployEvent::Output { .. } => {}
        DeployEvent::StepEnded { step } => {
            let mark = match step.status {
                StepStatus::Done => "✔",
                StepStatus::Failed => "✘",
                StepStatus::Skipped => "–",
            };
            for command in &step.commands {
                let first = command.lines().next().unwrap_or_default();
                eprintln!("    $ {}", printable(first));
            }
            eprintln!(
                "  {mark} {} ({} ms): {}",
                printable(&step.title),
                step.duration_ms,
                printable(&step.note)
            );
        }
    }
}

/// A run's steps before it runs: each changing command whole, as it will be sent.
fn print_plan(plan: &RunPlan, out: &mut dyn std::io::Write) {
    let mut say = |line: String| {
        let _ = writeln!(out, "{}", printable(&line));
    };
    say(format!("On {}:", plan.address));
    for (i, step) in plan.steps.iter().enumerate() {
        say(format!("  {}. {}", i + 1, step.title));
        if let Some(note) = &step.note {
            say(format!("     {note}"));
        }
        for command in &step.commands {
            for (j, line) in command.lines().enumerate() {
                say(format!("     {} {line}", if j == 0 { "$" } else { " " }));
            }
        }
    }
}

/// Says so when the target's newest deploy that got as far as its snapshot (or was cut
/// off) never ended, or stopped or failed after it, with what can be done about it
/// (unless this deploy resumes it).
fn warn_if_unfinished(console: &Console, name: &str, resuming: Option<&str>) -> Result<(), Error> {
    let Some(LastRun {
        record: last,
        resumable,
        last_attempt,
    }) = console.last_run(name)?
    else {
        return Ok(());
    };
    let id = last.deploy_to_resume();
    // This deploy resumes it (by the id of the deploy, or of a resume of it).
    if resuming.is_some_and(|r| r == id || r == last.id) {
        return Ok(());
    }
    if !last.ended_short() {
        return Ok(());
    }
    let (interrupted, can_resume) = (last.outcome == RunOutcome::Interrupted, resumable.is_some());
    let resume = format!(
        "resume it (shipshape deploy \"{name}\" --resume {id}, with --migrate for each of its migrations still to run: a resume runs only those given)"
    );
    if interrupted {
        let resume = match can_resume {
            true => format!(", or {resume}"),
            false => String::new(),
        };
        // A rollback cut off is said too (it is never resumed).
        eprintln!(
            "A run of {name} ({}) was interrupted: {}.\n\
             Verify it (shipshape verify \"{name}\") or roll it back (shipshape rollback \"{name}\" --reason TEXT){resume}; \
             the host's lock was freed when its connection closed (shipshape lock status \"{name}\").",
            last.id, last.title
        );
    } else if can_resume {
        eprintln!(
            "A deploy of {name} ({}) did not finish: {}.\n\
             It took its snapshot: {resume}, or roll it back (shipshape rollback \"{name}\" --reason TEXT). \
             A new deploy would snapshot the host as it was left.",
            last.id, last.title
        );
    }
    if let Some(attempt) = last_attempt {
        eprintln!(
            "Its last resume ({}, {}) was refused at \"{}\": {}",
            attempt.id, attempt.started_at, attempt.step, attempt.note
        );
    }
    Ok(())
}

fn say_how_it_ended(console: &Console, run: &DeployRun) {
    let record = &run.record;
    let (target, id) = (&record.target, &record.id);
    // Offered only where it can go on: a deploy that took its snapshot.
    let resume = match console.can_resume(target, id).unwrap_or(false) {
        true => format!("; resume it with `shipshape deploy \"{target}\" --resume {id}`, with --migrate for each of its migrations still to run (a resume runs only those given)"),
        false => String::new(),
    };
    match record.outcome {
        DeployOutcome::Succeeded => eprintln!("{target}: done (record {id})."),
        DeployOutcome::Failed => eprintln!("{target}: failed (record {id})."),
        DeployOutcome::Stopped => eprintln!("{target}: stopped as asked (record {id}){resume}."),
        DeployOutcome::Interrupted => eprintln!(
            "{target}: interrupted, its connection lost (record {id}); what the host is in now is not known: verify it (shipshape verify \"{target}\"){resume}, or roll it back."
        ),
    }
}

pub async fn deploy(console: &Console, args: DeployArgs) -> Result<(), Error> {
    let mut request = DeployRequest {
        message: args.message,
        migrations: args.migrations,
        review: args.review,
        resume: args.resume,
        seen: None,
        plan: None,
    };
    // A typo in any argument is refused before the review is fetched and recorded.
    console.check_deploy(&args.name, &request)?;
    let resuming = request.resume.is_some();
    if args.dry_run {
        // A word of advice: a journal that cannot be read does not stop the plan.
        let _ = warn_if_unfinished(console, &args.name, request.resume.as_deref());
        let plan = console.plan_deploy(&args.name, &request.migrations, resuming)?;
        print_plan(&plan, &mut std::io::stdout());
        return Ok(());
    }
    let report = match &args.report {
        Some(path) => {
            let path = crate::checks::report_path(path)?;
            console.check_report_destination(&path, args.sign.as_deref())?;
            Some(path)
        }
        None => None,
    };
    if !args.yes {
        // Asked before the review is fetched and recorded, not after.
        crate::can_ask(&format!("Deploying {} asks for a confirmation.", args.name))?;
    }
    warn_if_unfinished(console, &args.name, request.resume.as_deref())?;
    let target = crate::announce_change(console, &args.name)?;
    if !args.yes {
        let review = console.review_deploy(&args.name).await?;
        crate::review::print_review(&review);
        let plan = console.plan_deploy(&args.name, &request.migrations, resuming)?;
        print_plan(&plan, &mut std::io::stderr());
        let question = format!(
            "Deploy {} commit(s) from {} to {}?",
            review.commits.len(),
            review.upstream,
            args.name
        );
        if !crate::confirm(&target, &question)? {
            return Err(Error::BadInput("Nothing was deployed.".into()));
        }
        // Held to what was shown: if origin moves, or the target or its policy is
        // redefined meanwhile, nothing is deployed.
        request.seen = Some(review.tip().to_string());
        request.plan = Some(plan.digest);
    }
    let deploy = console.deploy(&args.name, &request, print_event);
    let run = stoppable(console, &args.name, deploy).await?;
    say_how_it_ended(console, &run);
    match (&report, &run.record.checklist) {
        (Some(path), Some(checklist)) => {
            match shipshape_report::export(console, checklist, path, args.sign.as_deref()).await {
                Ok(export) => crate::checks::say_written(&export),
                // Said; the deploy's own failure (its verification's) decides the exit code.
                Err(error) if run.error.is_some() => crate::say_error(None, &error),
                Err(error) => return Err(error),
            }
        }
        (Some(path), None) => eprintln!(
            "No report was written to {}: the deploy ended before its verification.",
            path.display()
        ),
        (None, _) => {}
    }
    match run.error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

pub async fn rollback(console: &Console, args: RollbackArgs) -> Result<(), Error> {
    if args.dry_run {
        let plan = console.plan_rollback(&args.name, args.to.as_deref())?;
        print_plan(&plan, &mut std::io::stdout());
        return Ok(());
    }
    let reason = args.reason.unwrap_or_default(); // clap requires it without --dry-run
    let snapshot = console.check_rollback(&args.name, args.to.as_deref(), &reason)?;
    // Held to the snapshot checked: one taken meanwhile must not become "the newest".
    let to = Some(snapshot.deploy.as_str());
    let target = crate::announce_change(console, &args.name)?;
    // The digest of the plan confirmed: a target or policy redefined meanwhile runs nothing.
    let mut shown = None;
    if !args.yes {
        // What it puts back, before it is asked for.
        eprintln!(
            "The snapshot {} took at {}: commit {}, {} image(s) ({}){}.",
            snapshot.deploy,
            snapshot.taken_at,
            snapshot.short_commit(),
            snapshot.images.len(),
            snapshot
                .images
                .iter()
                .map(|i| format!("{} {}", printable(&i.service), printable(&i.tag)))
                .collect::<Vec<_>>()
                .join(", "),
            match snapshot.env_backup {
                Some(_) => ", and its copy of the env file (the current one is kept in ~/.shipshape/env-backups/)",
                None => "",
            }
        );
        let plan = console.plan_rollback(&args.name, to)?;
        print_plan(&plan, &mut std::io::stderr());
        shown = Some(plan.digest);
        let question = format!(
            "Roll {} back to the snapshot of {}?",
            args.name,
            args.to.as_deref().unwrap_or("its newest deploy")
        );
        if !crate::confirm(&target, &question)? {
            return Err(Error::BadInput("Nothing was rolled back.".into()));
        }
    }
    // The snapshot shown and confirmed, by its deploy: a deploy that ended meanwhile (from
    // the window, or another CLI) must not make another one "the newest".
    let rollback = console.rollback(&args.name, to, &reason, shown.as_deref(), print_event);
    let run = stoppable(console, &args.name, rollback).await?;
    say_how_it_ended(console, &run);
    match run.error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// A deploy or rollback under way: Ctrl-C stops it once its current step ends (a
/// rollback's restore goes on to its `up`); a second one ends Shipshape at once (the
/// host's lock is freed either way, with the connection).
async fn stoppable(
    console: &Console,
    name: &str,
    run: impl std::future::Future<Output = Result<DeployRun, Error>>,
) -> Result<DeployRun, Error> {
    tokio::pin!(run);
    let mut asked = false;
    loop {
        tokio::select! {
            run = &mut run => return run,
            _ = tokio::signal::ctrl_c() => {
                if asked {
                    eprintln!("Ended at once: the host is as far as it got; `shipshape history` shows the last step.");
                    std::process::exit(130);
                }
                asked = true;
                let _ = console.stop_deploy(name);
                eprintln!("Stopping once this step ends (Ctrl-C again ends Shipshape now).");
            }
        }
    }
}

/// The holder comes from a file on the host: printed as text, never as escapes.
fn print_status(name: &str, status: &LockStatus) {
    let name = printable(name);
    let holder = status.holder.as_ref().map(|h| printable(&h.describe()));
    match (status.held, holder) {
        (true, Some(holder)) => println!("{name}: locked by {holder}"),
        (true, None) => println!("{name}: locked (its holder file cannot be read)"),
        (false, Some(holder)) => println!("{name}: free (last held by {holder})"),
        (false, None) => println!("{name}: free"),
    }
}

pub async fn lock(console: &Console, command: LockCommand) -> Result<(), Error> {
    match command {
        LockCommand::Status { name, json } => {
            let status = console.lock_status(&name).await?;
            if json {
                crate::print_json(&status);
            } else {
                print_status(&name, &status);
            }
        }
        LockCommand::Release { name, reason } => {
            // It changes the host (another run may then deploy beside the holder's).
            crate::announce_change(console, &name)?;
            let status = console.break_lock(&name, &reason).await?;
            print_status(&name, &status);
        }
    }
    Ok(())
}
