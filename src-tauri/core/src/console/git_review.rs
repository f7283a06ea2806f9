//! Reviewers want to see what the policy's `git pull origin main` will bring before it
//! runs. The review only fetches (which moves the remote-tracking branch, never the
//! checked-out code the services run from) and reads; each step goes through
//! `run_operation_on` so the history shows the review as it shows every other command.

use serde::Serialize;
use ts_rs::TS;

use super::Console;
use crate::error::{Error, Result};
use crate::operations::{
    parse_changed_files, parse_incoming_commits, parse_short_hash, ChangedFile, IncomingCommit,
    Operation,
};
use crate::ssh::CancellationToken;

/// What `git pull` would bring to a target's project, with the commands that found out.
#[derive(Debug, Clone, Serialize, TS)]
pub struct IncomingReview {
    pub target: String,
    /// The short hash of the commit the project is on.
    pub head: String,
    /// The branch a pull merges, e.g. `origin/main`.
    pub upstream: String,
    /// Newest first.
    pub commits: Vec<IncomingCommit>,
    pub files: Vec<ChangedFile>,
    /// Exactly the text sent to the host for each step, in the order they ran.
    pub commands: Vec<String>,
}

impl IncomingReview {
    pub fn is_up_to_date(&self) -> bool {
        self.commits.is_empty()
    }
}

impl Console {
    /// Fetches the policy's branch on `target` and reports the commits and files between
    /// the project's HEAD and it. Changes nothing the services run.
    pub async fn review_incoming(&self, target: &str) -> Result<IncomingReview> {
        let (_, policy) = self.target_and_policy(target)?;
        let mut commands = Vec::new();
        self.review_step(target, &Operation::GitFetch, &mut commands)
            .await
            .map_err(|error| match error {
                Error::RemoteFailed {
                    exit_code, detail, ..
                } => Error::RemoteFailed {
                    what: format!(
                        "Fetching {} {} to review what a pull would bring",
                        policy.remote, policy.branch
                    ),
                    exit_code,
                    detail,
                },
                other => other,
            })?;
        let head_output = self
            .review_step(target, &Operation::GitHead, &mut commands)
            .await?;
        let head = parse_short_hash(&head_output).ok_or_else(|| Error::RemoteFailed {
            what: Operation::GitHead.title(),
            exit_code: 0,
            detail: format!("expected a commit hash, got: {}", head_output.trim()),
        })?;
        let commits = self
            .review_step(target, &Operation::GitIncoming, &mut commands)
            .await?;
        let files = self
            .review_step(target, &Operation::GitIncomingFiles, &mut commands)
            .await?;
        Ok(IncomingReview {
            target: target.to_string(),
            head,
            upstream: format!("{}/{}", policy.remote, policy.branch),
            commits: parse_incoming_commits(&commits),
            files: parse_changed_files(&files),
            commands,
        })
    }

    /// Runs one read-only step of the review and returns its standard output; a step
    /// that fails on the host ends the review, since what follows would mislead.
    async fn review_step(
        &self,
        target: &str,
        operation: &Operation,
        commands: &mut Vec<String>,
    ) -> Result<String> {
        let ran = self
            .run_operation_on(
                target,
                operation,
                None,
                |_, _| {},
                &CancellationToken::new(),
            )
            .await?;
        let outcome = ran.shown;
        commands.push(outcome.output.command.clone());
        if outcome.succeeded() {
            // Parsed for hashes: what the host said, not what a person is shown.
            Ok(ran.said.stdout)
        } else {
            Err(Error::RemoteFailed {
                what: outcome.title,
                exit_code: outcome.output.exit_code.unwrap_or(-1),
                detail: outcome.output.stderr.trim().to_string(),
            })
        }
    }
}
