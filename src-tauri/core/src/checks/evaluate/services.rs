//! The verification list's service items: images, updates, running state, environment.

use std::collections::BTreeSet;

use super::{clip, fail, pass, short, verdict, Outputs, Verdict};
use crate::checklist::CheckStatus;
use crate::checks::host_state;
use crate::checks::probe::{says_no_env_file, Probe};
use crate::policy::Policy;

pub fn images_pulled(out: &Outputs) -> Verdict {
    let images_probe = out.get(Probe::Images);
    if let Err(failed) = out.listed_containers() {
        return failed;
    }
    let running: Vec<_> = out
        .service_containers()
        .into_iter()
        .filter(|c| c.state == "running")
        .collect();
    if running.is_empty() {
        return fail("No container of the project is running, so no image is in use.");
    }
    if !images_probe.ok() {
        return fail(format!(
            "The images could not be inspected ({}).",
            images_probe.problem()
        ));
    }
    let now = host_state::images(&images_probe.stdout);
    let mut stale = Vec::new();
    let mut shown = Vec::new();
    for container in &running {
        match host_state::image_named(&now, &container.image_tag) {
            Some(image) if image.id == container.image_id => {
                // The registry digest (`repo@sha256:...`), shortened; all of it is in the
                // evidence and the report's images.
                let digest = image
                    .digests
                    .first()
                    .and_then(|d| d.split_once('@'))
                    .map(|(_, d)| d);
                let shown_as = match digest {
                    Some(digest) => format!("{}…", super::prefix(digest, 19)),
                    None => format!("{} (no registry digest)", short(&image.id)),
                };
                shown.push(format!("{} {shown_as}", container.service))
            }
            Some(image) => stale.push(format!(
                "{} runs {} but {} now names {}",
                container.service,
                short(&container.image_id),
                container.image_tag,
                short(&image.id)
            )),
            None => stale.push(format!(
                "{} runs {}, a tag the engine no longer has",
                container.service, container.image_tag
            )),
        }
    }
    if !stale.is_empty() {
        return fail(format!(
            "{}: the pulled images are not in use (run up -d).",
            stale.join("; ")
        ));
    }
    pass(format!(
        "{} running service(s) use the images their tags name: {}.",
        running.len(),
        shown.join(", ")
    ))
}

pub fn services_updated(out: &Outputs) -> Verdict {
    let probe = out.get(Probe::ComposeDryRun);
    if !probe.ok() {
        return fail(format!(
            "compose could not plan an update ({}).",
            probe.problem()
        ));
    }
    let text = format!("{}\n{}", probe.stdout, probe.stderr);
    let mut pending = Vec::new();
    let mut up_to_date = 0;
    // Compose waits for the dependencies a `depends_on` condition names on every `up`,
    // changed or not: `Waiting`, then `Healthy` (or `Exited` for one that must complete).
    let mut waited_for: BTreeSet<String> = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim().trim_start_matches("DRY-RUN MODE -").trim();
        let Some(rest) = line.strip_prefix("Container ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (Some(name), Some(action)) = (words.next(), words.next()) else {
            continue;
        };
        match action {
            "Running" => up_to_date += 1,
            "Waiting" => {
                waited_for.insert(name.to_string());
            }
            "Healthy" | "Exited" if waited_for.contains(name) => {}
            _ => pending.push(format!(
                "{name} {}",
                words.fold(action.to_string(), |a, w| a + " " + w)
            )),
        }
    }
    if !pending.is_empty() {
        return fail(format!(
            "up -d --remove-orphans would still change {} container(s): {}.",
            pending.len(),
            clip(&pending.join("; "), 300)
        ));
    }
    if up_to_date == 0 {
        return fail(
            "compose reports no container of the aws profile: the services were never started.",
        );
    }
    pass(format!(
        "All {up_to_date} container(s) match the current compose config; up -d would change nothing."
    ))
}

/// Every service must run, but one outside the policy's list (a job of the aws profile)
/// may have ended well: the policy's own services are long-running, so one of them that
/// exited, however cleanly, was stopped.
pub fn services_running(out: &Outputs, policy: &Policy) -> Verdict {
    let (_, services) = match out.read_config() {
        Ok(found) => found,
        Err(failed) => return failed,
    };
    if let Err(failed) = out.listed_containers() {
        return failed;
    }
    let containers = out.service_containers();
    let (mut failures, mut warnings, mut healthy, mut one_shots) = (vec![], vec![], vec![], vec![]);
    for service in services {
        let mine: Vec<_> = containers
            .iter()
            .filter(|c| c.service == service.name)
            .collect();
        if mine.is_empty() {
            failures.push(format!("{} has no container", service.name));
        }
        for c in mine {
            match (c.state.as_str(), c.health.as_str()) {
                ("running", "healthy") => healthy.push(service.name.clone()),
                ("running", "unhealthy") => {
                    failures.push(format!("{} is running but unhealthy", service.name))
                }
                ("running", "starting") => {
                    warnings.push(format!("{} is still starting", service.name))
                }
                ("running", _) => {}
                ("exited", _)
                    if c.exit_code == 0
                        && matches!(c.restart_policy.as_str(), "" | "no")
                        && !policy.services.contains(&service.name) =>
                {
                    one_shots.push(service.name.clone())
                }
                (state, _) => failures.push(format!(
                    "{} is {state} (exit code {})",
                    service.name, c.exit_code
                )),
            }
        }
    }
    if !failures.is_empty() {
        return fail(format!("{}.", failures.join("; ")));
    }
    let mut note = format!(
        "All {} service(s) of the aws profile are running",
        services.len() - one_shots.len()
    );
    if !healthy.is_empty() {
        note += &format!("; healthy: {}", healthy.join(", "));
    }
    if !one_shots.is_empty() {
        note += &format!(
            "; one-shot services that ended well: {}",
            one_shots.join(", ")
        );
    }
    if !warnings.is_empty() {
        return verdict(
            CheckStatus::Warn,
            format!("{note}; but {}.", warnings.join("; ")),
        );
    }
    pass(note + ".")
}

pub fn env_configured(out: &Outputs, policy: &Policy) -> Verdict {
    let file = &policy.env_file;
    let stat = out.get(Probe::EnvStat);
    if says_no_env_file(stat.exit_code, &stat.stdout) {
        return fail(format!(
            "{file} is missing: create it from {file}.example on the host."
        ));
    }
    if !stat.ok() {
        return fail(format!(
            "{file} could not be looked at ({}).",
            stat.problem()
        ));
    }
    let fields: Vec<&str> = stat.stdout.split_whitespace().collect();
    let mode = fields.first().and_then(|m| u32::from_str_radix(m, 8).ok());
    let owner = fields.get(1).copied().unwrap_or("?");
    let Some(mode) = mode else {
        return fail(format!(
            "stat printed something unexpected for {file}: {}",
            clip(stat.stdout.trim(), 80)
        ));
    };
    if mode & 0o077 != 0 {
        return fail(format!(
            "{file} is readable by others than its owner (mode {mode:o}, owner {owner}): make it 600."
        ));
    }
    let read = out.get(Probe::EnvRead);
    if !read.ok() {
        return fail(format!("{file} could not be read ({}).", read.problem()));
    }
    let parsed = crate::dotenv::parse(&read.stdout);
    // A line that may be a value pasted on a line of its own: named by its line only.
    let pasted: Vec<String> = parsed
        .iter()
        .filter(|a| a.may_be_a_value())
        .map(|a| (a.lines.start + 1).to_string())
        .collect();
    if !pasted.is_empty() {
        return fail(format!(
            "{file} has {} line(s) that are not KEY=value (line {}), perhaps a value pasted on a line of its own: fix them on the host (their text is not shown here).",
            pasted.len(),
            pasted.join(", ")
        ));
    }
    let assigned: Vec<(String, String)> = parsed.into_iter().map(|a| (a.key, a.value)).collect();
    let keys: BTreeSet<&str> = assigned.iter().map(|(k, _)| k.as_str()).collect();
    let empty: Vec<&str> = assigned
        .iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(k, _)| k.as_str())
        .collect();
    let template = out.get(Probe::EnvTemplate);
    // The example file's bare names are names, whatever they look like (it holds no
    // values); a line that is no key at all (a heading) names none.
    let required: Vec<String> = match template.ok() {
        true => crate::dotenv::parse(&template.stdout)
            .into_iter()
            .filter_map(|a| match a.may_be_a_value() {
                true => crate::env_file::validate_key(&a.written)
                    .is_ok()
                    .then_some(a.written),
                false => Some(a.key),
            })
            .collect(),
        false => Vec::new(),
    };
    let missing: Vec<&str> = required
        .iter()
        .map(String::as_str)
        .filter(|k| !keys.contains(k))
        .collect();
    if !missing.is_empty() {
        return fail(format!(
            "{file} lacks {} key(s) that {file}.example names: {}.",
            missing.len(),
            missing.join(", ")
        ));
    }
    let empty_required: Vec<&str> = empty
        .iter()
        .copied()
        .filter(|k| required.iter().any(|r| r == k))
        .collect();
    if !empty_required.is_empty() {
        return fail(format!(
            "{file} sets these keys to nothing: {}.",
            empty_required.join(", ")
        ));
    }
    let (_, services) = match out.read_config() {
        Ok(found) => found,
        Err(failed) => return failed,
    };
    let unused: Vec<String> = services
        .iter()
        .filter(|s| keys.iter().any(|k| !s.env_keys.iter().any(|e| e == k)))
        .map(|s| s.name.clone())
        .collect();
    if !unused.is_empty() || keys.is_empty() {
        return fail(format!(
            "{file} does not reach every service: {} lack its keys (is env_file: {file} set for them?).",
            if keys.is_empty() { "it defines no key, so all".to_string() } else { unused.join(", ") }
        ));
    }
    let template_note = match required.is_empty() {
        true => format!("there is no {file}.example to check the keys against"),
        false => format!("all {} keys {file}.example names are set", required.len()),
    };
    pass(format!(
        "{file} is mode {mode:o}, owned by {owner}; its {} keys reach all {} services; {template_note}.",
        keys.len(),
        services.len()
    ))
}
