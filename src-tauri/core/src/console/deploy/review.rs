//! The deploy review as the operator and a reviewer see it: found out on the host by
//! read-only commands (the fetch of `git_review.rs`, compose's rendering of both
//! revisions, the engine's and the registry's image digests, the env file's keys),
//! recorded in the journal, and approved by a reviewer's signature over its digest.

use crate::checklist::Actor;
use crate::checks::redact::Redactor;
use crate::deploy::compose_diff;
use crate::deploy::review::{self, Approval, ComposeChange, DeployReview, APPROVAL_NAMESPACE};
use crate::error::{Error, Result};
use crate::history::{new_record_id, now, operator};
use crate::journal::Entry;
use crate::report::sign;
use crate::ssh::Deadline;

use super::super::Console;

impl Console {
    /// Finds out what a deploy of `target` would change and records it in the journal.
    /// Changes nothing the services run (the fetch moves only the remote-tracking branch).
    pub async fn review_deploy(&self, target: &str) -> Result<DeployReview> {
        let (review, _) = self.find_review(target).await?;
        self.journal()?
            .append(&review.id, &Entry::ReviewRecorded(Box::new(review.clone())))?;
        Ok(review)
    }

    /// The review, and the redactor of the env file's values it read (for what the
    /// deploy says of the incoming config).
    pub(super) async fn find_review(&self, target: &str) -> Result<(DeployReview, Redactor)> {
        let incoming = self.review_incoming(target).await?;
        let (target_config, policy) = self.target_and_policy(target)?;
        let dir = &target_config.project_dir;
        let connection = self.connect(target).await?;
        let deadline = Deadline::total(policy.deadlines.read_seconds);
        let before = review::compose_at_command("HEAD", dir);
        let after = review::compose_at_command(&incoming.upstream, dir);
        let env = review::env_command(&policy, dir);
        let (before, after, env) = tokio::join!(
            connection.exec(&before, deadline),
            connection.exec(&after, deadline),
            connection.exec(&env, deadline),
        );
        let (before, after, env) = (before?, after?, env?);
        let mut commands = incoming.commands.clone();
        commands.extend([&before, &after, &env].map(|o| o.command.clone()));
        // The env file's values, read to compare keys and to redact: they go no further.
        let now_section = env
            .stdout
            .split("\n== snapshot ")
            .next()
            .unwrap_or_default();
        let redactor = Redactor::from_env_file(now_section);
        let env_keys = review::env_key_changes(&env.stdout, &policy.env_file);
        drop(env);

        let compose = match (before.succeeded(), after.succeeded()) {
            (true, true) => {
                let (old, new) = (
                    redactor.redact(&before.stdout),
                    redactor.redact(&after.stdout),
                );
                let rows = compose_diff::side_by_side(&old, &new);
                let changed = rows
                    .iter()
                    .filter(|r| {
                        r.kind != compose_diff::DiffKind::Same
                            && r.kind != compose_diff::DiffKind::Folded
                    })
                    .count();
                ComposeChange {
                    file: review::compose_file(&after.stderr),
                    note: match changed {
                        0 => format!(
                            "The {} profile's config is the same at {} and {}.",
                            crate::policy::PROFILE,
                            incoming.head,
                            incoming.upstream
                        ),
                        n => format!("{n} line(s) of the rendered config change."),
                    },
                    rows,
                }
            }
            _ => {
                let failed = if before.succeeded() { &after } else { &before };
                ComposeChange {
                    file: review::compose_file(&failed.stderr),
                    rows: Vec::new(),
                    note: format!(
                        "Compose could not render the config: {}",
                        redactor
                            .redact(failed.stderr.trim())
                            .lines()
                            .last()
                            .unwrap_or("no message")
                    ),
                }
            }
        };
        let mut references = review::service_images(&after.stdout);
        references
            .retain(|service, _| policy.services.contains(service) || policy.services.is_empty());
        let refs: Vec<String> = references.values().cloned().collect();
        let images = connection
            .exec(&review::images_command(dir, &refs), deadline)
            .await?;
        commands.push(images.command.clone());
        let images = review::image_changes(&redactor.redact(&images.stdout), &references);
        let mut found = DeployReview {
            id: new_record_id("review"),
            target: target.to_string(),
            made_at: now(),
            made_by: Actor {
                user: operator(),
                key_fingerprint: Some(connection.client_key().to_string()),
            },
            head: incoming.head,
            upstream: incoming.upstream,
            commits: incoming.commits,
            files: incoming.files,
            compose,
            env_keys,
            images,
            commands,
            digest: String::new(),
        };
        found.digest = found.content_digest();
        Ok((found, redactor))
    }

    /// Holds the commit a deploy is about to pull to the Never Do rules its compose config
    /// can break (a reload, a service outside the `aws` profile), as compose will run it:
    /// the preflight read only the config the host runs now, so without this a commit
    /// adding `--reload` went through `up` and was caught only by the verification
    /// after. A commit that breaks a rule fails the step with nothing changed; one whose
    /// config does not render here (it names a file only the commit adds: compose reads
    /// it from the checkout) goes on, said, to the verification after the pull. Gives
    /// the command it ran and what to add to the step's note.
    pub(super) async fn check_incoming_config(
        &self,
        connection: &crate::ssh::Connection,
        review: &DeployReview,
        redactor: &Redactor,
        project_dir: &str,
        policy: &crate::policy::Policy,
    ) -> Result<(Vec<String>, Option<String>)> {
        if review.is_up_to_date() {
            return Ok((Vec::new(), None)); // the preflight read this very config
        }
        let command = review::compose_json_at_command(review.tip(), project_dir);
        let deadline = Deadline::total(policy.deadlines.read_seconds);
        let rendered = connection.exec(&command, deadline).await?;
        let commit = crate::checks::evaluate::short(review.tip());
        let services = match rendered.succeeded() {
            true => crate::checks::host_state::config_services(&rendered.stdout),
            false => None,
        };
        let commands = vec![rendered.command.clone()];
        let Some((_, services)) = services else {
            let said = redactor.redact(rendered.stderr.trim());
            let said = said.lines().last().unwrap_or("no message");
            let note = format!(
                "Commit {commit}'s config could not be rendered before the pull to hold it to the Never Do rules (compose: {}); the verification after the pull checks them.",
                crate::checks::evaluate::clip(said, 200)
            );
            return Ok((commands, Some(note)));
        };
        let broken = crate::checks::evaluate::config_breaks(&services, policy);
        if !broken.is_empty() {
            return Err(Error::StepFailed {
                step: super::titles::REVIEW.into(),
                detail: redactor.redact(&format!(
                    "Commit {commit} would break the Never Do rules: {}. Nothing was changed: fix it on origin, then deploy.",
                    broken.join("; ")
                )),
            });
        }
        Ok((commands, None))
    }

    /// A reviewer approves review `id` with their key from the keyring, and the
    /// migrations a deploy under it runs: a signature over its digest and them, recorded
    /// with their name, account, key and the time.
    pub async fn approve_review(
        &self,
        id: &str,
        key_name: &str,
        reviewer: &str,
        migrations: &[String],
    ) -> Result<Approval> {
        crate::keys::validate_name(key_name)?;
        let reviewer = reviewer.trim();
        if reviewer.is_empty()
            || reviewer.chars().count() > 100
            || reviewer.chars().any(char::is_control)
        {
            return Err(Error::BadInput(
                "Give the reviewer's name (--as), up to 100 characters on one line: the report shows it.".into(),
            ));
        }
        let journal = self.journal()?;
        let (review, approval) = journal.review(id)?;
        let (_, policy) = self.target_and_policy(&review.target)?;
        super::check_migrations(&policy, migrations)?;
        if let Some(approval) = approval {
            return Err(Error::BadInput(format!(
                "Review {id} was already approved by {} at {}.",
                approval.reviewer, approval.approved_at
            )));
        }
        let loader = self.key_loader.clone();
        let name = key_name.to_string();
        let key = super::super::blocking(move || loader(&name)).await?;
        let approval = Approval {
            review: id.to_string(),
            digest: review.digest.clone(),
            reviewer: reviewer.to_string(),
            user: operator(),
            key_name: key_name.to_string(),
            key_fingerprint: key
                .public_key()
                .fingerprint(russh::keys::HashAlg::Sha256)
                .to_string(),
            approved_at: now(),
            migrations: migrations.to_vec(),
            signature: sign::sign_in(
                &key,
                APPROVAL_NAMESPACE,
                Approval::signed_text(&review.digest, migrations).as_bytes(),
            )?,
        };
        journal.append(id, &Entry::ReviewApproved(approval.clone()))?;
        Ok(approval)
    }

    /// The approved review a deploy was asked to run under, checked against what the
    /// deploy's own review found now and the migrations it was asked to run.
    pub(super) fn approval_for(
        &self,
        id: &str,
        found: &DeployReview,
        migrations: &[String],
    ) -> Result<Approval> {
        let (approved, approval) = self.journal()?.review(id)?;
        let approval = approval.ok_or_else(|| {
            Error::BadInput(format!(
                "Review {id} has not been approved: a reviewer approves it first (`shipshape approve {id} --key KEYNAME --as NAME`)."
            ))
        })?;
        if approved.target != found.target {
            return Err(Error::BadInput(format!(
                "Review {id} is of {}, not {}.",
                approved.target, found.target
            )));
        }
        // The journal's chain has no key, and a signature carries its own: the approval
        // holds if it signs the review recorded and its key is one of this console's
        // (approvals are made here, with a key in the keyring), so an entry written by
        // someone with a key of their own making does not pass.
        let known = self
            .keys()?
            .iter()
            .any(|k| k.fingerprint == approval.key_fingerprint);
        let holds = match (approval.digest == approved.digest, known) {
            (false, _) => Err("it is of another digest than the review recorded".into()),
            (true, false) => Err(format!(
                "its key {} is not one of this console's keys",
                approval.key_fingerprint
            )),
            (true, true) => sign::check_in(
                &approval.signature,
                APPROVAL_NAMESPACE,
                Approval::signed_text(&approval.digest, &approval.migrations).as_bytes(),
                &approval.key_fingerprint,
            ),
        };
        if let Err(why) = holds {
            return Err(Error::BadInput(format!(
                "Review {id}'s approval does not hold ({why}): the deploy does not go ahead under it. Have the review approved again."
            )));
        }
        unapproved_migrations(id, &approval, migrations)?;
        if approval.digest != found.digest {
            let what = found.differences(&approved);
            return Err(Error::BadInput(format!(
                "What the deploy would change is no longer what review {id} approved ({} changed since). Review it again and have it approved.",
                if what.is_empty() { "something".to_string() } else { what.join(", ") }
            )));
        }
        Ok(approval)
    }
}

/// Refuses a deploy under approval `id` that would run other migrations than the
/// reviewer approved: what runs on the database is part of what they signed.
pub(super) fn unapproved_migrations(
    id: &str,
    approval: &Approval,
    migrations: &[String],
) -> Result<()> {
    if approval.migrations == migrations {
        return Ok(());
    }
    let list = |m: &[String]| match m.is_empty() {
        true => "none".to_string(),
        false => m.join(", "),
    };
    Err(Error::BadInput(format!(
        "Review {id} was approved to run {} as migrations, and this deploy asks for {}: have it approved with the migrations it runs (`shipshape approve {id} --migrate SCRIPT`), or ask for those.",
        list(&approval.migrations),
        list(migrations)
    )))
}
