//! The "Never Do" rules: no `--reload`, no systemd beside compose, no profile but
//! `aws`, no production port served outside compose.

use super::{clip, fail, pass, verdict, Outputs, Verdict};
use crate::checklist::CheckStatus;
use crate::checks::host_state::{self, covers, ConfigService};
use crate::checks::probe::Probe;
use crate::policy::{Policy, PROFILE};

/// The first of the policy's forbidden patterns (`--reload`) that `text` holds.
fn forbidden<'p>(policy: &'p Policy, text: &str) -> Option<&'p str> {
    policy
        .forbidden_patterns
        .iter()
        .map(String::as_str)
        .find(|p| text.contains(p))
}

/// A server setting that turns reloading on: `UVICORN_RELOAD=true`, or a forbidden
/// pattern in its value (`GUNICORN_CMD_ARGS=--reload`).
fn reloads(policy: &Policy, setting: &str) -> bool {
    let (key, value) = setting.split_once('=').unwrap_or((setting, ""));
    match key {
        "UVICORN_RELOAD" => matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        ),
        _ => forbidden(policy, value).is_some(),
    }
}

/// What a rendered compose config itself breaks: a service started with a forbidden
/// pattern or told to reload by its environment, and a service without the `aws`
/// profile. Read from the host's config by the checks, and from the incoming commit's
/// by a deploy before it pulls that commit.
pub fn config_breaks(services: &[ConfigService], policy: &Policy) -> Vec<String> {
    let mut found = config_reloads(services, policy);
    found.extend(config_without_profile(services));
    found
}

fn config_reloads(services: &[ConfigService], policy: &Policy) -> Vec<String> {
    let mut found = Vec::new();
    for service in services {
        if let Some(pattern) = forbidden(policy, &service.command) {
            found.push(format!(
                "the compose config gives {} \"{pattern}\": \"{}\"",
                service.name,
                clip(&service.command, 120)
            ));
        }
        // Gunicorn and Uvicorn also take their options from the environment.
        for setting in service
            .server_settings
            .iter()
            .filter(|s| reloads(policy, s))
        {
            found.push(format!(
                "the compose config sets {} {}",
                service.name,
                clip(setting, 120)
            ));
        }
    }
    found
}

fn config_without_profile(services: &[ConfigService]) -> Vec<String> {
    services
        .iter()
        .filter(|s| !s.profiles.iter().any(|p| p == PROFILE))
        .map(|s| {
            format!(
                "service {} has no {PROFILE} profile, so it runs under any profile",
                s.name
            )
        })
        .collect()
}

pub fn no_reload(out: &Outputs, policy: &Policy) -> Verdict {
    let (_, services) = match out.read_config() {
        Ok(found) => found,
        Err(failed) => return failed,
    };
    let containers = match out.listed_containers() {
        Ok(found) => found,
        Err(failed) => return failed,
    };
    let mut found = config_reloads(services, policy);
    for c in containers.iter().filter(|c| c.state == "running") {
        if let Some(pattern) = forbidden(policy, &c.process) {
            found.push(format!(
                "container {} runs \"{pattern}\": \"{}\"",
                c.name,
                clip(&c.process, 120)
            ));
        }
        // Its environment as it runs: the image's `ENV` too, which the config never shows.
        for setting in c.server_settings.iter().filter(|s| reloads(policy, s)) {
            let said = format!(
                "the compose config sets {} {}",
                c.service,
                clip(setting, 120)
            );
            if !found.contains(&said) {
                found.push(format!("container {} has {}", c.name, clip(setting, 120)));
            }
        }
    }
    let processes = out.get(Probe::Processes);
    let sections = host_state::sections(&processes.stdout);
    // Without its sections the probe saw nothing: "0 processes" would be a pass unearned.
    if !processes.ok() || !sections.contains_key("processes") {
        return fail(format!(
            "The containers' processes could not be listed ({}).",
            processes.problem()
        ));
    }
    // pid → the container it runs in.
    let owners: std::collections::BTreeMap<&str, &str> = sections
        .get("cgroups")
        .into_iter()
        .flatten()
        .filter_map(|line| line.split_once(' '))
        .collect();
    let mut counted = 0;
    let backend = &policy.migration_service;
    // A main process that is a script (`start.sh`) may exec Gunicorn or start it.
    let mut gunicorn_in_backend = false;
    for line in sections.get("processes").into_iter().flatten() {
        let Some((pid, args)) = line.trim().split_once(char::is_whitespace) else {
            continue;
        };
        let Some(owner) = owners
            .get(pid)
            .and_then(|id| containers.iter().find(|c| c.id == *id))
        else {
            continue;
        };
        counted += 1;
        gunicorn_in_backend |= &owner.service == backend && args.contains("gunicorn");
        if let Some(pattern) = forbidden(policy, args) {
            found.push(format!(
                "process {pid} in {} runs \"{pattern}\": \"{}\"",
                owner.name,
                clip(args.trim(), 120)
            ));
        }
    }
    if !found.is_empty() {
        return fail(format!("{}.", found.join("; ")));
    }
    // Containers run, yet none of their processes was seen (`/proc` mounted with
    // `hidepid`, say): a `--reload` a script started is not ruled out by seeing nothing.
    // Not a rule broken either (a deploy's preflight stops only on those): a person looks.
    let running = containers
        .iter()
        .filter(|c| c.state == "running" && !c.one_off)
        .count();
    if running > 0 && counted == 0 {
        return verdict(
            CheckStatus::Warn,
            format!(
                "None of the processes of the {running} running container(s) could be read on the host (is /proc mounted with hidepid for this login?), so a reload started inside one cannot be ruled out: look at them on the host."
            ),
        );
    }
    let running_backend = containers
        .iter()
        .find(|c| &c.service == backend && c.state == "running" && !c.one_off);
    match running_backend {
        // Nothing breaks the rule while nothing runs (a deploy may be what starts it):
        // a person looks, and the services' own item fails.
        None => verdict(
            CheckStatus::Warn,
            format!("{backend} is not running, so what serves it cannot be checked: start it, then verify again."),
        ),
        Some(c) if !c.process.contains("gunicorn") && !gunicorn_in_backend => fail(format!(
            "{backend} does not run under Gunicorn: its main process is \"{}\".",
            clip(&c.process, 120)
        )),
        Some(_) => pass(format!(
            "No {} in the compose config, the containers' commands or their {counted} processes; {backend} runs under Gunicorn.",
            policy.forbidden_patterns.join(" or ")
        )),
    }
}

pub fn no_systemd_mix(out: &Outputs, policy: &Policy) -> Verdict {
    let probe = out.get(Probe::Systemd);
    if !probe.ok() {
        return fail(format!(
            "systemd's units could not be listed ({}).",
            probe.problem()
        ));
    }
    let sections = host_state::sections(&probe.stdout);
    let running = sections.contains_key("systemd running");
    let lines = |section: &str| -> std::collections::BTreeSet<&str> {
        sections
            .get(section)
            .into_iter()
            .flatten()
            .map(|l| l.as_str())
            .filter(|l| !l.is_empty())
            .collect()
    };
    let units = lines("unit files");
    if !units.is_empty() {
        return fail(format!(
            "systemd has unit file(s) for the project's services: {}. A service is run by compose or by systemd, never both.",
            units.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let named_after_a_service = |unit: &&str| {
        policy.services.iter().any(|service| {
            let bare = service.strip_suffix("-aws").unwrap_or(service);
            *unit == format!("{service}.service") || *unit == format!("{bare}.service")
        })
    };
    let rogue: Vec<&str> = lines("running units")
        .into_iter()
        .filter(named_after_a_service)
        .collect();
    if !rogue.is_empty() {
        return fail(format!(
            "systemd runs unit(s) named after the project's services: {}. A service is run by compose or by systemd, never both.",
            rogue.join(", ")
        ));
    }
    match running {
        true => pass("systemd runs on this host, and none of its units names a compose service or the project directory."),
        false => pass("This host does not run systemd, and no unit file names a compose service or the project directory."),
    }
}

pub fn aws_profile_only(out: &Outputs) -> Verdict {
    let (project, services) = match out.read_config() {
        Ok(found) => found,
        Err(failed) => return failed,
    };
    let containers = match out.listed_containers() {
        Ok(found) => found,
        Err(failed) => return failed,
    };
    let mut found = config_without_profile(services);
    for c in containers {
        if !project.is_empty() && c.project != *project {
            found.push(format!(
                "container {} belongs to another compose project ({}) in the same directory",
                c.name, c.project
            ));
        } else if c.one_off && c.state == "running" {
            found.push(format!(
                "container {} is a one-off run of {}",
                c.name, c.service
            ));
        } else if !services.iter().any(|s| s.name == c.service) {
            found.push(format!(
                "container {} ({}, {}) is not a service of the {PROFILE} profile",
                c.name, c.service, c.state
            ));
        }
    }
    if !found.is_empty() {
        return fail(format!("{}.", found.join("; ")));
    }
    pass(format!(
        "All {} container(s) of the project belong to services of the {PROFILE} profile.",
        containers.len()
    ))
}

pub fn compose_only(out: &Outputs, policy: &Policy, project_dir: &str) -> Verdict {
    let (listeners, publishers) = (out.get(Probe::Listeners), out.get(Probe::Publishers));
    for probe in [&listeners, &publishers] {
        if !probe.ok() {
            return fail(format!(
                "The ports could not be checked ({}).",
                probe.problem()
            ));
        }
    }
    let aws_services: Vec<&str> = match &out.config {
        Some((_, services)) => services.iter().map(|s| s.name.as_str()).collect(),
        None => policy.services.iter().map(String::as_str).collect(),
    };
    let listening = host_state::listeners(&listeners.stdout);
    let published = host_state::publishers(&publishers.stdout);
    let (mut found, mut served) = (Vec::new(), Vec::new());
    for &port in &policy.production_ports {
        let on_port: Vec<_> = published.iter().filter(|p| p.port == port).collect();
        for p in &on_port {
            if p.working_dir != project_dir || !aws_services.contains(&p.service.as_str()) {
                found.push(format!("port {port} is published by container {}, which is not an {PROFILE} service of the project", p.name));
            }
        }
        for l in listening.iter().filter(|l| l.port == port) {
            if !on_port.iter().any(|p| covers(&p.host_ip, &l.address)) {
                found.push(format!(
                    "port {port} is served on {}:{port} by something outside Docker Compose",
                    l.address
                ));
            }
        }
        if let Some(p) = on_port.first() {
            served.push(format!("{port} by {}", p.service));
        }
    }
    if !found.is_empty() {
        return fail(format!("{}.", found.join("; ")));
    }
    let ports: Vec<String> = policy.production_ports.iter().map(u16::to_string).collect();
    pass(format!(
        "The production ports ({}) are served only by compose containers of the {PROFILE} profile ({}).",
        ports.join(", "),
        if served.is_empty() { "none is served now".to_string() } else { served.join(", ") }
    ))
}
