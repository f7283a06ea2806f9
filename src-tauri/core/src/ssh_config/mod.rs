//! Operators already describe their hosts in `~/.ssh/config`; importing from it is only
//! trustworthy if Shipshape reaches the same host, user, port and keys that `ssh` would.
//! So this resolves a host the way OpenSSH's own `ssh -G` does (first value wins, `Host`
//! and `Match` blocks switch on and off in file order, `Include` is read where it stands),
//! and an integration test compares the two on a corpus of configs.
//!
//! Known differences from OpenSSH, all on purpose:
//! - `Match exec`, `canonical`, `final` (and newer criteria such as `tagged`) are never
//!   evaluated; a block that uses them is treated as not matching. `CanonicalizeHostname`
//!   is ignored, so nothing here touches DNS or runs commands.
//! - `Port` must be numeric; ssh would also look up service names such as `ssh`.
//! - Include file permissions are not checked. Unknown keywords and bad algorithm lists
//!   are refused as ssh refuses them (`keywords.rs`), but other values of options
//!   Shipshape does not use are not checked.
//! - Tokens that depend on the machine or the connection (`%C`, `%L`, `%l`, `%i`, `%k`,
//!   `%j`) are refused in `IdentityFile`, as is `~otheruser/`.

mod address;
mod evaluate;
mod expand;
mod include;
pub(crate) mod jump;
mod keywords;
pub(crate) mod pattern;
mod syntax;
#[cfg(test)]
mod tests;

use std::path::Path;

use crate::error::Result;

/// What ssh would use to reach one host of the config.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct ResolvedHost {
    /// The name that was asked for.
    pub alias: String,
    /// `HostName` with `%h` expanded, or the alias; lowercased (numeric addresses put in
    /// canonical form) as ssh does.
    pub hostname: String,
    /// `None` if the config sets no `User`; the caller picks the default.
    pub user: Option<String>,
    /// `None` if the config sets no `Port`; the caller picks the default.
    pub port: Option<u16>,
    /// Every `IdentityFile` that applied, in order and without repeats, with `~`,
    /// `%`-tokens and `${VARIABLE}`s expanded. Empty if none applied (ssh would then try
    /// its default key files).
    pub identity_files: Vec<String>,
    /// The jump hosts, `[user@]host[:port]` as `ssh -G` writes them; `None` if unset or
    /// `none`. Each hop is itself a Host of the config ([`jump::hops`]).
    pub proxy_jump: Option<String>,
    /// Shown to the operator only, never run: the `ProxyCommand` as written (tokens not
    /// expanded); `None` if unset or `none`.
    pub proxy_command: Option<String>,
    /// `Match` lines this host's settings may depend on that were not evaluated (`exec`
    /// and the like), each with its file and line: what ssh does for this host may
    /// differ.
    pub unevaluated: Vec<String>,
}

impl ResolvedHost {
    /// Why Shipshape cannot reach this host as ssh would, if it cannot: it never runs a
    /// proxy command, and offering to trust whatever answers at `hostname` instead of
    /// the host behind the proxy would be wrong. (Jump hosts it follows itself.)
    pub fn unsupported(&self) -> Option<String> {
        let command = self.proxy_command.as_ref()?;
        Some(format!(
            "Host {} is reached through ProxyCommand {command} in the SSH config. Shipshape never runs a proxy command, so it does not import this host: what answers at {} directly may not be the host ssh reaches. Write the way there as ProxyJump instead, if it is a jump host.",
            self.alias, self.hostname
        ))
    }
}

/// Host aliases written literally in `Host` lines (no wildcards/negations), in file order
/// incl. Included files, deduplicated — for an import picker. Relative `Include`s are
/// read from `$HOME/.ssh`, as ssh reads them.
pub fn list_aliases(config: &Path) -> Result<Vec<String>> {
    let home = std::env::home_dir().unwrap_or_default();
    list_aliases_with_home(config, &home)
}

/// [`list_aliases`] with relative `Include`s read from `home/.ssh`.
pub fn list_aliases_with_home(config: &Path, home: &Path) -> Result<Vec<String>> {
    evaluate::collect_aliases(config, home)
}

/// Resolve `alias` as `ssh -G -F config alias` would. `home` is the user's home dir (for
/// ~ and relative Include), `local_user` the local login name (default user for %r/%u).
pub fn resolve(config: &Path, alias: &str, home: &Path, local_user: &str) -> Result<ResolvedHost> {
    resolve_with_system(config, None, alias, home, local_user)
}

/// The system's config, which ssh reads after the user's when no `-F` is given.
pub const SYSTEM_CONFIG: &str = "/etc/ssh/ssh_config";

/// Resolve `alias` as `ssh -G alias` would with `config` as the user's file and `system`
/// (its relative `Include`s in its own directory) read after it: a jump host or a
/// `ProxyCommand` set system-wide applies too, and the first value still wins.
pub fn resolve_with_system(
    config: &Path,
    system: Option<&Path>,
    alias: &str,
    home: &Path,
    local_user: &str,
) -> Result<ResolvedHost> {
    let request = evaluate::Request {
        alias,
        home,
        local_user,
    };
    let mut files = vec![evaluate::TopFile {
        path: config.to_path_buf(),
        include_dir: home.join(".ssh"),
    }];
    if let Some(system) = system {
        files.push(evaluate::TopFile {
            path: system.to_path_buf(),
            include_dir: system.parent().unwrap_or(Path::new("/")).to_path_buf(),
        });
    }
    let settings = evaluate::collect_settings(&files, &request)?;
    let hostname = match &settings.hostname {
        Some(written) => expand::expand_host_name(&written.value, alias, &written.origin)?,
        None => alias.to_string(),
    };
    let hostname = address::canonical_host_name(&hostname);
    let tokens = expand::IdentityTokens {
        home,
        local_user,
        hostname: &hostname,
        remote_user: settings.user.as_deref().unwrap_or(local_user),
        port: settings.port.unwrap_or(22),
        alias,
    };
    let identity_files = settings
        .identity_files
        .iter()
        .map(|file| expand::expand_identity_file(&file.value, &tokens, &file.origin))
        .collect::<Result<Vec<_>>>()?;
    Ok(ResolvedHost {
        alias: alias.to_string(),
        hostname,
        user: settings.user,
        port: settings.port,
        identity_files,
        proxy_jump: settings.proxy_jump.flatten(),
        proxy_command: settings
            .proxy_command
            .filter(|command| !command.eq_ignore_ascii_case("none")),
        unevaluated: settings.unevaluated,
    })
}

/// Whether `system` (a config read after the user's, its relative `Include`s in its own
/// directory) or a file it includes sets `ProxyJump` or `ProxyCommand` on any line, applied
/// or not (comments aside): for a config Shipshape cannot evaluate, whether it might
/// route a host. A file that cannot be read or split into lines might.
pub fn routes_hosts(system: &Path, home: &Path) -> bool {
    fn walk(path: &Path, include_dir: &Path, home: &Path, depth: usize) -> bool {
        let Ok(file) = syntax::read_config_file(path, path.display().to_string()) else {
            return true;
        };
        file.lines.iter().any(|line| match line.keyword.as_str() {
            "proxyjump" | "proxycommand" => true,
            "include" if depth < evaluate::MAX_INCLUDE_DEPTH => {
                line.args.iter().any(
                    |arg| match include::included_files(arg, home, include_dir) {
                        Ok(files) => files.iter().any(|f| walk(f, include_dir, home, depth + 1)),
                        Err(_) => true,
                    },
                )
            }
            "include" => true,
            _ => false,
        })
    }
    let include_dir = system.parent().unwrap_or(Path::new("/"));
    walk(system, include_dir, home, 0)
}

/// How messages name a file: `~/.ssh/config` rather than the full path when it is under
/// the home directory.
fn shown_path(path: &Path, home: &Path) -> String {
    match path.strip_prefix(home) {
        Ok(inside) if !home.as_os_str().is_empty() => format!("~/{}", inside.display()),
        _ => path.display().to_string(),
    }
}
