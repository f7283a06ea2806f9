//! What the host says about itself: which Compose it has, the services its project
//! defines, the migration scripts present. Operations are checked against these, but
//! asking costs: every `docker compose` process is ~0.2 s of the production host's CPU.
//! So the facts come in one round trip with one compose process, only for operations
//! that need them, and are reused while the compose file is unchanged: across console
//! sessions and CLI runs too, through a small cache file proved current by a checksum
//! of the compose file (a round trip that starts no compose process).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Console;
use crate::error::{Error, Result};
use crate::operations::{parse_migration_list, parse_service_list, Compose, HostFacts, Operation};
use crate::policy::{Policy, PROFILE};
use crate::shell::RemoteCommand;
use crate::ssh::Connection;
use crate::target::Target;

/// Prints the compose file's checksum and the migration directory's listing; cheap.
/// `$1` is the profile, `$2` the migration directory, both passed as quoted words.
const STAMP_SCRIPT: &str = r#"printf '== stamp\n'; cat -- docker-compose.yml docker-compose.yaml compose.yml compose.yaml 2>/dev/null | cksum
printf '== migrations\n'; ls -1A -- "$2" 2>/dev/null; :"#;

/// The stamp, then the services of the profile from whichever Compose the host has
/// (v2's plugin first; v1's `docker-compose` only where v2 is missing).
const FACTS_SCRIPT: &str = r#"if out=$(docker compose --profile "$1" config --services 2>&1); then printf '== compose v2\n%s\n' "$out"
elif ! docker compose version >/dev/null 2>&1 && out=$(docker-compose --profile "$1" config --services 2>&1); then printf '== compose v1\n%s\n' "$out"
else printf '== compose failed\n%s\n' "$out"; fi"#;

fn script(text: String, target: &Target, policy: &Policy) -> RemoteCommand {
    RemoteCommand::new("sh")
        .args([
            "-c",
            &text,
            "shipshape-facts",
            PROFILE,
            policy.migration_dir(),
        ])
        .in_dir(&target.project_dir)
}

/// Splits `== name` sections of a script's output.
fn sections(stdout: &str) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in stdout.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            found.extend(current.take());
            current = Some((name.to_string(), String::new()));
        } else if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    found.extend(current);
    found
}

/// Reads the facts script's output.
fn parse_facts(stdout: &str, policy: &Policy) -> Result<(String, HostFacts)> {
    let parts = sections(stdout);
    let stamp = parts.get("stamp").map(|s| s.trim().to_string());
    let migrations = parse_migration_list(parts.get("migrations").map_or("", |s| s), policy);
    let (compose, services) = if let Some(text) = parts.get("compose v2") {
        (Compose::V2, text)
    } else if let Some(text) = parts.get("compose v1") {
        (Compose::V1, text)
    } else {
        return Err(Error::RemoteFailed {
            what: "Reading the project's services (docker compose config --services)".into(),
            exit_code: 1,
            detail: parts
                .get("compose failed")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|| "the host printed no answer".into()),
        });
    };
    let stamp = stamp.ok_or_else(|| Error::Protocol("the facts script printed no stamp".into()))?;
    Ok((
        stamp,
        HostFacts {
            compose,
            services: parse_service_list(services),
            migrations,
        },
    ))
}

/// The cache file: per target, the facts and the stamp they were learned under.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct FactsCache {
    #[serde(default)]
    targets: BTreeMap<String, CachedFacts>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CachedFacts {
    /// The host (fingerprint) and project the facts are about.
    host_key: String,
    project_dir: String,
    stamp: String,
    facts: HostFacts,
}

impl FactsCache {
    fn load(path: &Path) -> FactsCache {
        // Only a cache: anything unreadable is simply learned again.
        std::fs::read_to_string(path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }
}

impl Console {
    /// Which Compose `target` answers to: what it said last, else v2 (the policy's).
    /// Costs no round trip.
    pub(super) fn compose_for(&self, target: &Target) -> Compose {
        let remembered = self
            .existing_session(&target.name)
            .and_then(|session| *session.compose.lock().unwrap());
        remembered
            .or_else(|| {
                FactsCache::load(&self.facts_cache_path)
                    .targets
                    .get(&target.name)
                    .filter(|c| c.project_dir == target.project_dir)
                    .map(|c| c.facts.compose)
            })
            .unwrap_or_default()
    }

    /// Remembers which Compose `target` answered to, so the next command needs no look
    /// at the cache file.
    pub(super) fn remember_compose(&self, target: &Target, compose: Compose) {
        *self.session(&target.name).compose.lock().unwrap() = Some(compose);
    }

    /// The host's facts on `target`'s connection ([`Console::facts_for`]); a dropped
    /// connection is reopened once (a read).
    pub(super) async fn host_facts(&self, target: &Target, policy: &Policy) -> Result<HostFacts> {
        self.read_with_retry(&target.name, |connection| async move {
            self.facts_for(target, &connection, policy).await
        })
        .await
    }

    /// The host's facts: from this connection's memory, else from the cache if the
    /// compose file is unchanged, else asked for (one round trip, one compose process).
    pub(super) async fn facts_for(
        &self,
        target: &Target,
        connection: &Connection,
        policy: &Policy,
    ) -> Result<HostFacts> {
        // The session remembers its own connection's facts, not another's.
        let session = self.session(&target.name);
        let remembered = session.holds(connection);
        if let Some(facts) = session.facts.lock().unwrap().clone().filter(|_| remembered) {
            return Ok(facts);
        }
        let cached = FactsCache::load(&self.facts_cache_path)
            .targets
            .get(&target.name)
            .filter(|c| c.host_key == connection.host_key() && c.project_dir == target.project_dir)
            .cloned();
        let Some(cached) = cached else {
            return self
                .learn_facts_kept(target, connection, policy, remembered)
                .await;
        };
        let deadline = Operation::ComposeServices.deadline(policy);
        let output = connection
            .exec(&script(STAMP_SCRIPT.into(), target, policy), deadline)
            .await?;
        let parts = sections(&output.stdout);
        if parts.get("stamp").map(|s| s.trim()) != Some(cached.stamp.as_str()) {
            return self
                .learn_facts_kept(target, connection, policy, remembered)
                .await;
        }
        tracing::debug!(target = %target.name, "facts reused: compose file unchanged");
        let facts = HostFacts {
            migrations: parse_migration_list(parts.get("migrations").map_or("", |s| s), policy),
            ..cached.facts
        };
        if remembered {
            self.keep_facts(target, &facts);
        }
        Ok(facts)
    }

    /// Asks the host for its facts, whatever the cache holds (it may be what was wrong),
    /// and keeps them on the session and in the cache.
    pub(super) async fn relearn_facts(
        &self,
        target: &Target,
        connection: &Connection,
        policy: &Policy,
    ) -> Result<HostFacts> {
        let facts = self.learn_facts(target, connection, policy).await?;
        self.keep_facts(target, &facts);
        Ok(facts)
    }

    /// Facts learned from the host; kept on the session only if `remembered` (it holds
    /// `connection`), in the cache file (by host key and project) either way.
    async fn learn_facts_kept(
        &self,
        target: &Target,
        connection: &Connection,
        policy: &Policy,
        remembered: bool,
    ) -> Result<HostFacts> {
        let facts = self.learn_facts(target, connection, policy).await?;
        if remembered {
            self.keep_facts(target, &facts);
        }
        Ok(facts)
    }

    fn keep_facts(&self, target: &Target, facts: &HostFacts) {
        *self.session(&target.name).facts.lock().unwrap() = Some(facts.clone());
        self.remember_compose(target, facts.compose);
    }

    async fn learn_facts(
        &self,
        target: &Target,
        connection: &Connection,
        policy: &Policy,
    ) -> Result<HostFacts> {
        let text = format!("{STAMP_SCRIPT}\n{FACTS_SCRIPT}");
        let output = connection
            .exec(
                &script(text, target, policy),
                Operation::ComposeServices.deadline(policy),
            )
            .await?;
        let (stamp, facts) = parse_facts(&output.stdout, policy)?;
        tracing::debug!(target = %target.name, compose = ?facts.compose, "facts learned");
        let path = &self.facts_cache_path;
        let _lock = crate::settings::FileLock::take(path)?;
        let mut cache = FactsCache::load(path);
        cache.targets.insert(
            target.name.clone(),
            CachedFacts {
                host_key: connection.host_key().to_string(),
                project_dir: target.project_dir.clone(),
                stamp,
                facts: facts.clone(),
            },
        );
        let text = serde_json::to_string_pretty(&cache).expect("the cache serializes");
        crate::settings::write_atomically(path, text.as_bytes())?;
        Ok(facts)
    }

    /// Forgets `target`'s facts on this connection: a change may have altered them (the
    /// cache is proved current by its stamp before any reuse).
    pub(super) fn forget_facts(&self, target: &str) {
        self.session(target).forget_facts();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_come_from_one_scripted_answer() {
        let policy = Policy::builtin();
        let out = "== stamp\n123 456\n== migrations\napply_migration_001.py\nREADME\n\
                   == compose v2\nbackend-aws\ndb\n";
        let (stamp, facts) = parse_facts(out, &policy).unwrap();
        assert_eq!(stamp, "123 456");
        assert_eq!(facts.compose, Compose::V2);
        assert_eq!(facts.services, ["backend-aws", "db"]);
        assert_eq!(facts.migrations, ["scripts/apply_migration_001.py"]);
        let v1 = "== stamp\n1 2\n== migrations\n== compose v1\ndb\n";
        assert_eq!(parse_facts(v1, &policy).unwrap().1.compose, Compose::V1);
        let failed = "== stamp\n1 2\n== migrations\n== compose failed\nno such file\n";
        let error = parse_facts(failed, &policy).unwrap_err();
        assert_eq!(error.detail().as_deref(), Some("no such file"));
    }

    #[test]
    fn the_scripts_take_their_values_as_quoted_words() {
        let target = Target::new("t", "h", None);
        let command = script(STAMP_SCRIPT.into(), &target, &Policy::builtin()).render();
        assert!(command.starts_with("cd /home/ubuntu/automated-trading-platform && sh -c '"));
        assert!(
            command.ends_with("' shipshape-facts aws scripts"),
            "{command}"
        );
    }
}
