//! `review` and `approve`: what a deploy would change, printed for a reviewer in a
//! terminal and recorded; and a reviewer's signed approval of it, which `deploy
//! --review ID` then holds the deploy to.

use clap::Args;
use shipshape_core::deploy::compose_diff::unified;
use shipshape_core::deploy::DeployReview;
use shipshape_core::terminal::printable;
use shipshape_core::{Console, Error};

#[derive(Args)]
pub struct ReviewArgs {
    name: String,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ApproveArgs {
    /// The review's id, as `shipshape review` printed it.
    review: String,
    /// The reviewer's key in the keyring: the approval is signed with it.
    #[arg(long)]
    key: String,
    /// The reviewer's name, as the report should show it.
    #[arg(long = "as", value_name = "NAME")]
    reviewer: String,
    /// A migration script the deploy runs (repeat, in order): `deploy --review` then
    /// runs exactly these.
    #[arg(long = "migrate", value_name = "SCRIPT")]
    migrations: Vec<String>,
}

/// The review for a person: what comes, what changes, what moves.
pub fn print_review(review: &DeployReview) {
    let out = |line: String| eprintln!("{}", printable(&line));
    out(format!(
        "Review {} of {} ({} → {})",
        review.id, review.target, review.head, review.upstream
    ));
    out(format!("Commits ({}):", review.commits.len()));
    for c in &review.commits {
        out(format!(
            "  {} {} ({}, {})",
            c.hash, c.subject, c.author, c.date
        ));
    }
    out(format!("Files ({}):", review.files.len()));
    for f in &review.files {
        out(format!("  {} {}", f.status, f.path));
    }
    out(format!("Compose config: {}", review.compose.note));
    for line in unified(&review.compose.rows).lines() {
        out(format!("  {line}"));
    }
    let keys = &review.env_keys;
    out(format!("Env file: {}", keys.note));
    for (what, names) in [
        ("added", &keys.added),
        ("removed", &keys.removed),
        ("changed", &keys.changed),
    ] {
        if !names.is_empty() {
            out(format!("  {what}: {}", names.join(", ")));
        }
    }
    out("Images:".to_string());
    for i in &review.images {
        let mark = if i.changes { "moves" } else { "stays" };
        out(format!(
            "  {} {mark}: {} → {} ({})",
            i.service,
            i.running.as_deref().unwrap_or("none"),
            i.registry.as_deref().unwrap_or("unknown"),
            i.reference
        ));
    }
    out(format!("Digest {}", review.digest));
}

pub async fn review(console: &Console, args: ReviewArgs) -> Result<(), Error> {
    let review = console.review_deploy(&args.name).await?;
    if args.json {
        crate::print_json(&review);
    } else {
        print_review(&review);
        println!("{}", review.id);
        eprintln!(
            "A reviewer approves it with: shipshape approve {} --key KEYNAME --as NAME",
            review.id
        );
    }
    Ok(())
}

pub async fn approve(console: &Console, args: ApproveArgs) -> Result<(), Error> {
    let approval = console
        .approve_review(&args.review, &args.key, &args.reviewer, &args.migrations)
        .await?;
    let migrations = match approval.migrations.is_empty() {
        true => "no migration".to_string(),
        false => format!("the migrations {}", approval.migrations.join(", ")),
    };
    eprintln!(
        "Review {} approved by {} with key {} at {}, to run {migrations}.",
        approval.review, approval.reviewer, approval.key_fingerprint, approval.approved_at
    );
    Ok(())
}
