//! The shape each policy field must have. Every rule answers with the reason in plain
//! words so a policy file's author, reading one sentence, knows what to change; the
//! caller adds where (file, line, field).

use super::PROFILE;
use crate::input::shown;

/// Why a value is refused: one lower-case clause, ending with a full stop.
pub(crate) type Reason = String;

pub(crate) fn profile(value: &str) -> Result<(), Reason> {
    if value == PROFILE {
        Ok(())
    } else {
        Err(format!(
            "the profile can only be \"{PROFILE}\" (DEPLOYMENT_POLICY: never use profiles other than aws)."
        ))
    }
}

/// A compose service name: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub(crate) fn is_service_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && name.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

pub(crate) fn service_name(name: &str) -> Result<(), Reason> {
    if is_service_name(name) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a compose service name (a letter or digit, then letters, digits, _ . -).",
            shown(name)
        ))
    }
}

pub(crate) fn services(names: &[String]) -> Result<(), Reason> {
    if names.is_empty() {
        return Err("the policy needs at least one service.".into());
    }
    match duplicate(names) {
        Some(name) => Err(format!("the service {name} is listed twice.")),
        None => Ok(()),
    }
}

pub(crate) fn project_dir(dir: &str) -> Result<(), Reason> {
    if !dir.starts_with('/') {
        return Err(format!(
            "{} is not an absolute path (it must start with /).",
            shown(dir)
        ));
    }
    if dir.chars().any(char::is_control) || dir.split('/').any(|part| part == "..") {
        return Err(format!(
            "{} must be a plain absolute path, without control characters or .. parts.",
            shown(dir)
        ));
    }
    Ok(())
}

/// A remote or branch name as git accepts it, restricted to what needs no explanation:
/// letters, digits, `. _ / -`, never an option, never `..`.
pub(crate) fn git_name(name: &str) -> Result<(), Reason> {
    let plain = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("/.")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c));
    if plain {
        Ok(())
    } else {
        Err(format!(
            "{} is not a plain git name (letters, digits, . _ / -; not starting with - and without ..).",
            shown(name)
        ))
    }
}

/// An `http(s)` URL on the host itself: the policy probes health from inside the host.
pub(crate) fn health_url(url: &str) -> Result<(), Reason> {
    let refuse = || {
        Err(format!(
            "{} is not an http(s) URL to localhost or 127.0.0.1 (for example http://localhost:8002/api/health).",
            shown(url)
        ))
    };
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return refuse();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.chars().all(|c| c.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n))
    });
    let path_ok = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._~/?&=%+:,@".contains(c));
    if matches!(host, "localhost" | "127.0.0.1") && port_ok && path_ok {
        Ok(())
    } else {
        refuse()
    }
}

/// A file inside the project directory: relative, plain characters, never leaving it.
fn relative_path(path: &str, extra: &str) -> bool {
    !path.is_empty()
        && !path.starts_with(['-', '/'])
        && !path.ends_with('/')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c) || extra.contains(c))
}

pub(crate) fn env_file(path: &str) -> Result<(), Reason> {
    if relative_path(path, "") {
        Ok(())
    } else {
        Err(format!(
            "{} must be a file path relative to the project directory (letters, digits, . _ / -, no ..).",
            shown(path)
        ))
    }
}

/// `DIR/PREFIX*SUFFIX`: one `*`, in the file name only, so the scripts it names are the
/// files of one directory and the pattern is matched in Rust, never by a shell.
pub(crate) fn migration_glob(glob: &str) -> Result<(), Reason> {
    let file_name = glob.rsplit('/').next().unwrap_or(glob);
    if relative_path(glob, "*") && glob.matches('*').count() == 1 && file_name.contains('*') {
        Ok(())
    } else {
        Err(format!(
            "{} must be a relative path with exactly one * in the file name, like scripts/apply_migration_*.py.",
            shown(glob)
        ))
    }
}

pub(crate) fn port(value: i64) -> Result<u16, Reason> {
    match u16::try_from(value) {
        Ok(port) if port >= 1 => Ok(port),
        _ => Err(format!("{value} is not a port number (1 to 65535).")),
    }
}

pub(crate) fn ports(ports: &[u16]) -> Result<(), Reason> {
    // With none, "only compose serves the production ports" would pass with nothing
    // checked: a Never Do rule turned off by a policy file.
    if ports.is_empty() {
        return Err("the policy needs at least one production port.".into());
    }
    if let Some(zero) = ports.iter().find(|p| **p == 0) {
        return Err(format!("{zero} is not a port number (1 to 65535)."));
    }
    match duplicate(ports) {
        Some(port) => Err(format!("the port {port} is listed twice.")),
        None => Ok(()),
    }
}

pub(crate) fn forbidden_pattern(pattern: &str) -> Result<(), Reason> {
    if pattern.trim().is_empty() || pattern.len() > 200 || pattern.chars().any(char::is_control) {
        Err(format!(
            "{} must be a non-empty pattern of at most 200 characters on one line.",
            shown(pattern)
        ))
    } else {
        Ok(())
    }
}

/// The "Never Do" list cannot be relaxed: a policy file may add patterns, not drop this.
pub(crate) const ALWAYS_FORBIDDEN: &str = "--reload";

pub(crate) fn forbidden_patterns(patterns: &[String]) -> Result<(), Reason> {
    if patterns.iter().any(|p| p == ALWAYS_FORBIDDEN) {
        Ok(())
    } else {
        Err(format!(
            "the list must keep \"{ALWAYS_FORBIDDEN}\" (DEPLOYMENT_POLICY: never use uvicorn --reload in production)."
        ))
    }
}

/// The service migrations run in must be one of the policy's services.
pub(crate) fn migration_service_listed(service: &str, services: &[String]) -> Result<(), Reason> {
    if services.iter().any(|s| s == service) {
        Ok(())
    } else {
        Err(format!(
            "the migration service {service} must be one of the services ({}).",
            services.join(", ")
        ))
    }
}

/// The services whose logs are read: at least one, each one of the policy's services.
pub(crate) fn logged_services(logged: &[String], services: &[String]) -> Result<(), Reason> {
    if logged.is_empty() {
        return Err(format!(
            "name at least one of the services ({}) whose logs the checklist reads, in logged_services (by default backend-aws and frontend-aws, those listed).",
            services.join(", ")
        ));
    }
    if let Some(name) = duplicate(logged) {
        return Err(format!("the service {name} is listed twice."));
    }
    match logged.iter().find(|l| !services.contains(l)) {
        Some(name) => Err(format!(
            "the logged service {name} must be one of the services ({}): name the services whose logs the checklist reads in logged_services.",
            services.join(", ")
        )),
        None => Ok(()),
    }
}

fn duplicate<T: PartialEq>(items: &[T]) -> Option<&T> {
    items
        .iter()
        .enumerate()
        .find(|(i, item)| items[..*i].contains(item))
        .map(|(_, item)| item)
}
