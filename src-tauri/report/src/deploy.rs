//! The deploy a verification ended, in the words every rendering shares: who changed
//! what under whose approval (the change record an auditor asks for), the review that
//! was approved (commits, files, images, the env file's key names, the compose config
//! before → after), and each step as it ended, with the commands it sent and when it
//! began. Renderers only lay these parts out.

use shipshape_core::deploy::compose_diff::unified;
use shipshape_core::deploy::{DeployKind, DeployOutcome, DeployRecord, StepStatus};
use shipshape_core::report::Report;

pub struct Table {
    pub title: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

pub struct DeployPart {
    pub heading: String,
    pub fields: Vec<(&'static str, String)>,
    pub tables: Vec<Table>,
    /// The rendered compose config's change as a unified diff, with its title.
    pub diff: Option<(String, String)>,
}

pub fn part(report: &Report) -> Option<DeployPart> {
    let deploy = report.deploy.as_ref()?;
    let mut fields = vec![
        ("Deploy record", deploy.id.clone()),
        (
            "Kind",
            match deploy.kind {
                DeployKind::Deploy => "Standard deployment".to_string(),
                DeployKind::Rollback => format!(
                    "Emergency change: rollback to the snapshot of {}",
                    deploy
                        .rolled_back_to
                        .as_deref()
                        .unwrap_or("an earlier deploy")
                ),
            },
        ),
        (
            match deploy.kind {
                DeployKind::Deploy => "Purpose",
                DeployKind::Rollback => "Reason",
            },
            deploy.message.clone(),
        ),
        ("Operator", deploy.operator.to_string()),
        ("Started", deploy.started_at.clone()),
        ("Finished", deploy.finished_at.clone()),
        (
            "Outcome",
            match (deploy.outcome, deploy.failed_step()) {
                (DeployOutcome::Succeeded, _) => "Succeeded".to_string(),
                (DeployOutcome::Failed, Some(step)) => format!("Failed at: {}", step.title),
                (DeployOutcome::Failed, None) => "Failed".to_string(),
                (DeployOutcome::Stopped, _) => format!(
                    "Stopped by the operator after: {}",
                    deploy
                        .last_step_before_unlock()
                        .map_or("its start", |s| s.title.as_str())
                ),
                (DeployOutcome::Interrupted, step) => format!(
                    "Interrupted (the connection was lost) at: {}; what that step did on the host is not known",
                    step.map_or("its start", |s| s.title.as_str())
                ),
            },
        ),
        ("Reviewer approval", approval(deploy)),
    ];
    if let Some(resumed) = &deploy.resumes {
        fields.push((
            "Resumes",
            format!("{resumed}, cut short or stopped; its snapshot is kept"),
        ));
    }
    let mut tables = Vec::new();
    let mut diff = None;
    if let Some(review) = &deploy.review {
        fields.push((
            "Review",
            format!(
                "{} at {}, digest {}",
                review.made_by, review.made_at, review.digest
            ),
        ));
        fields.push((
            "Code",
            format!(
                "{} → {} ({} commit(s))",
                review.head,
                review.upstream,
                review.commits.len()
            ),
        ));
        fields.push(("Compose config", review.compose.note.clone()));
        let keys = &review.env_keys;
        let mut env = keys.note.clone();
        for (what, names) in [
            ("Added", &keys.added),
            ("Removed", &keys.removed),
            ("Changed", &keys.changed),
        ] {
            if !names.is_empty() {
                env.push_str(&format!(" {what}: {}.", names.join(", ")));
            }
        }
        fields.push(("Env file keys", env));
        tables.push(Table {
            title: "Incoming commits",
            columns: vec!["Commit", "Author", "Date", "Subject"],
            rows: review
                .commits
                .iter()
                .map(|c| {
                    vec![
                        c.hash.clone(),
                        c.author.clone(),
                        c.date.clone(),
                        c.subject.clone(),
                    ]
                })
                .collect(),
        });
        tables.push(Table {
            title: "Changed files",
            columns: vec!["Change", "Path"],
            rows: review
                .files
                .iter()
                .map(|f| {
                    let path = match &f.from {
                        Some(from) => format!("{from} → {}", f.path),
                        None => f.path.clone(),
                    };
                    vec![f.status.clone(), path]
                })
                .collect(),
        });
        tables.push(Table {
            title: "Images the pull moves",
            columns: vec!["Service", "Reference", "Running", "Registry now", "Moves"],
            rows: review
                .images
                .iter()
                .map(|i| {
                    let digest = |d: &Option<String>| d.clone().unwrap_or_else(|| "unknown".into());
                    vec![
                        i.service.clone(),
                        i.reference.clone(),
                        digest(&i.running),
                        digest(&i.registry),
                        if i.changes { "yes".into() } else { "no".into() },
                    ]
                })
                .collect(),
        });
        if !review.compose.rows.is_empty() {
            diff = Some((
                format!(
                    "Rendered compose config ({} profile, not interpolated): {} → {}",
                    shipshape_core::policy::PROFILE,
                    review.head,
                    review.upstream
                ),
                unified(&review.compose.rows),
            ));
        }
    }
    tables.push(Table {
        title: "Steps",
        columns: vec!["Step", "Status", "Took", "What happened"],
        rows: deploy
            .steps
            .iter()
            .map(|s| {
                vec![
                    s.title.clone(),
                    match s.status {
                        StepStatus::Done => "done",
                        StepStatus::Failed => "failed",
                        StepStatus::Skipped => "skipped",
                    }
                    .to_string(),
                    format!("{:.1} s", s.duration_ms as f64 / 1000.0),
                    s.note.clone(),
                ]
            })
            .collect(),
    });
    // Exactly the text each step sent to the host, when it began: what an auditor of the
    // change checks it against.
    tables.push(Table {
        title: "Commands sent",
        columns: vec!["Step", "Step began", "Command"],
        rows: deploy
            .steps
            .iter()
            .flat_map(|s| {
                s.commands
                    .iter()
                    .map(|c| vec![s.title.clone(), s.started_at.clone(), c.clone()])
            })
            .collect(),
    });
    tables.retain(|t| !t.rows.is_empty());
    Some(DeployPart {
        heading: match deploy.kind {
            DeployKind::Deploy => "Deploy".to_string(),
            DeployKind::Rollback => "Rollback".to_string(),
        },
        fields,
        tables,
        diff,
    })
}

fn approval(deploy: &DeployRecord) -> String {
    match &deploy.approval {
        Some(a) => format!(
            "Approved by {} (account {}, key {} \"{}\") at {}, to run {}; SSHSIG over review digest {}{}",
            a.reviewer,
            a.user,
            a.key_fingerprint,
            a.key_name,
            a.approved_at,
            match a.migrations.is_empty() {
                true => "no migration".to_string(),
                false => format!("the migrations {}", a.migrations.join(", ")),
            },
            a.digest,
            match a.migrations.is_empty() {
                true => "",
                false => " and those migrations",
            }
        ),
        None => "None: no reviewer approved this deploy's review".to_string(),
    }
}
