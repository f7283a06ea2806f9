//! ssh reads the config top to bottom once, switching blocks on and off as `Host` and
//! `Match` lines come, and keeps the first value it meets for each keyword. The order of
//! files (and so which value wins) depends on `Include`s being read where they stand, so
//! this walks the files the same way rather than building a tree first.

use std::path::{Path, PathBuf};

use super::pattern::{hostname_matches_list, pattern_list_match, wildcard_match, ListMatch};
use super::syntax::{read_config_file, ConfigFile, ConfigLine};
use super::{include, jump, keywords, shown_path};
use crate::error::{Error, Result};

/// OpenSSH refuses to nest `Include`s deeper than this (READCONF_MAX_DEPTH).
pub(super) const MAX_INCLUDE_DEPTH: usize = 16;

/// Who is asking about which host.
pub(super) struct Request<'a> {
    pub alias: &'a str,
    pub home: &'a Path,
    pub local_user: &'a str,
}

/// A value and the "file line N" it came from, for errors found when it is expanded.
#[derive(Debug, Clone)]
pub(super) struct Sourced {
    pub value: String,
    pub origin: String,
}

/// The raw values that applied to the host, first one wins (IdentityFile accumulates).
#[derive(Debug, Default)]
pub(super) struct Settings {
    pub hostname: Option<Sourced>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<Sourced>,
    /// `Some(None)` once `ProxyJump none` applied: later ProxyJump lines are then ignored.
    pub proxy_jump: Option<Option<String>>,
    /// The first ProxyCommand that applied (its words as written; `none` too): it makes
    /// ssh ignore ProxyJump.
    pub proxy_command: Option<String>,
    /// `Match` lines whose criteria Shipshape does not evaluate (`exec`, `tagged`, ...)
    /// on blocks that would otherwise apply: the host's settings may depend on them.
    pub unevaluated: Vec<String>,
    /// `IgnoreUnknown`'s pattern list, once one applied: unknown keywords it names pass.
    pub ignore_unknown: Option<String>,
}

/// A config file read at the top, and where its relative `Include`s live.
pub(super) struct TopFile {
    pub path: PathBuf,
    pub include_dir: PathBuf,
}

/// The settings `files` give the host, read in turn as ssh reads the user's config and
/// then the system's: the first value still wins.
pub(super) fn collect_settings(files: &[TopFile], request: &Request) -> Result<Settings> {
    let mut walk = Walk {
        request,
        settings: Settings::default(),
        include_dir: PathBuf::new(),
        final_pass: false,
        wants_final_pass: false,
    };
    walk.read_all(files)?;
    // As ssh: a `Match final` seen reads the whole config once more, with the host now
    // its HostName, `final` and `canonical` matching, and the first value still winning.
    if walk.wants_final_pass {
        walk.final_pass = true;
        walk.settings.unevaluated.clear();
        walk.read_all(files)?;
    }
    Ok(walk.settings)
}

/// The `Match` criteria ssh also reads written `criterion=value`.
const TAKES_EQUALS: [&str; 9] = [
    "host",
    "originalhost",
    "user",
    "localuser",
    "localnetwork",
    "version",
    "tagged",
    "command",
    "exec",
];

struct Walk<'a> {
    request: &'a Request<'a>,
    settings: Settings,
    /// Where the file being read (and those it includes) has its relative `Include`s.
    include_dir: PathBuf,
    /// The second reading ssh does when a `Match final` asks for it.
    final_pass: bool,
    wants_final_pass: bool,
}

impl Walk<'_> {
    fn read_all(&mut self, files: &[TopFile]) -> Result<()> {
        for file in files {
            self.include_dir = file.include_dir.clone();
            let mut active = true;
            self.read(&file.path, 0, &mut active, false)?;
        }
        Ok(())
    }

    /// Reads one file. `active` is shared with the including file, as in ssh; with
    /// `never_match` (an Include inside a block that did not apply) nothing in the file
    /// applies, but it is still checked for errors.
    fn read(
        &mut self,
        path: &Path,
        depth: usize,
        active: &mut bool,
        never_match: bool,
    ) -> Result<()> {
        let file = read_config_file(path, shown_path(path, self.request.home))?;
        for line in &file.lines {
            let origin = file.locate(line);
            match line.keyword.as_str() {
                "host" => *active = !never_match && self.host_line_applies(line, &origin)?,
                "match" => *active = self.match_line_applies(line, &origin)? && !never_match,
                "include" => self.include(&file, line, depth, active, never_match)?,
                "hostname" => {
                    let value = single_argument(line, &origin)?;
                    if *active && self.settings.hostname.is_none() {
                        self.settings.hostname = Some(Sourced { value, origin });
                    }
                }
                "user" => {
                    let value = single_argument(line, &origin)?;
                    if *active && self.settings.user.is_none() {
                        self.settings.user = Some(value);
                    }
                }
                "port" => {
                    let value = single_argument(line, &origin)?;
                    let port = parse_port(&value).ok_or_else(|| {
                        Error::BadInput(format!(
                            "{origin}: Port must be a number between 1 and 65535, or a service /etc/services names."
                        ))
                    })?;
                    if *active && self.settings.port.is_none() {
                        self.settings.port = Some(port);
                    }
                }
                "identityfile" => {
                    let value = single_argument(line, &origin)?;
                    let files = &mut self.settings.identity_files;
                    if *active && !files.iter().any(|known| known.value == value) {
                        files.push(Sourced { value, origin });
                    }
                }
                "proxyjump" => {
                    let value = line.args.first().cloned().unwrap_or_default();
                    let parsed = jump::parse_jump_list(&value).map_err(|()| {
                        Error::BadInput(format!(
                            "{origin}: ProxyJump {value} is not a list of [user@]host[:port]."
                        ))
                    })?;
                    let settings = &mut self.settings;
                    if *active && settings.proxy_jump.is_none() && settings.proxy_command.is_none()
                    {
                        settings.proxy_jump = Some(parsed);
                    }
                }
                // As ssh: a ProxyJump to a host rules out a later ProxyCommand, and
                // `ProxyJump none` does not.
                "proxycommand"
                    if *active
                        && !matches!(self.settings.proxy_jump, Some(Some(_)))
                        && self.settings.proxy_command.is_none() =>
                {
                    self.settings.proxy_command = Some(line.args.join(" "));
                }
                "ignoreunknown" => {
                    if *active && self.settings.ignore_unknown.is_none() {
                        self.settings.ignore_unknown = line.args.first().cloned();
                    }
                }
                _ => keywords::check(line, &origin, self.settings.ignore_unknown.as_deref())?,
            }
        }
        Ok(())
    }

    fn include(
        &mut self,
        file: &ConfigFile,
        line: &ConfigLine,
        depth: usize,
        active: &mut bool,
        never_match: bool,
    ) -> Result<()> {
        let outer_active = *active;
        for argument in &line.args {
            let files = include::included_files(argument, self.request.home, &self.include_dir)
                .map_err(|problem| refused_include(file, line, problem))?;
            for included in files {
                if depth + 1 > MAX_INCLUDE_DEPTH {
                    return Err(too_deep(file, line));
                }
                self.read(&included, depth + 1, active, never_match || !outer_active)?;
                // A Host or Match inside the included file ends where that file ends.
                *active = outer_active;
            }
        }
        Ok(())
    }

    /// A `Host` line applies if some pattern matches the name as given (case-sensitively;
    /// in the final pass, the HostName found by the first) and no `!pattern` does.
    fn host_line_applies(&self, line: &ConfigLine, origin: &str) -> Result<bool> {
        let host = match self.final_pass {
            true => self.current_host_name()?,
            false => self.request.alias.to_string(),
        };
        let mut applies = false;
        for pattern in &line.args {
            if pattern.is_empty() {
                return Err(Error::BadInput(format!(
                    "{origin}: Host has an empty pattern."
                )));
            }
            match pattern.strip_prefix('!') {
                Some(negated) if wildcard_match(&host, negated) => return Ok(false),
                Some(_) => {}
                None => applies |= wildcard_match(&host, pattern),
            }
        }
        Ok(applies)
    }

    /// Evaluates `Match` criteria against what is known so far: `host` sees the HostName
    /// already set (with `%h` expanded), `user` the User already set or the local user.
    /// `final` and `canonical` hold in the final pass only (a `final` asks for that pass).
    /// Criteria that need a command or the network (`exec`, `localnetwork`, ...) are not
    /// evaluated: their block is treated as not matching, and the host is noted as
    /// depending on it.
    fn match_line_applies(&mut self, line: &ConfigLine, origin: &str) -> Result<bool> {
        let bad_input = |problem: String| Error::BadInput(format!("{origin}: {problem}"));
        if line.args.is_empty() {
            return Err(bad_input("Match needs at least one criterion.".into()));
        }
        let mut applies = true;
        let mut unsupported: Vec<String> = Vec::new();
        let mut criteria_seen = 0;
        let mut args = line.args.iter().peekable();
        while let Some(word) = args.next() {
            let (negated, written) = match word.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, word.as_str()),
            };
            // `host=web` is `host web`, for the criteria ssh reads so.
            let (criterion, inline) = match written.split_once('=') {
                Some((name, value))
                    if TAKES_EQUALS.contains(&name.to_ascii_lowercase().as_str()) =>
                {
                    (name.to_ascii_lowercase(), Some(value))
                }
                _ => (written.to_ascii_lowercase(), None),
            };
            if criterion == "all" {
                if criteria_seen > 1 || args.peek().is_some() {
                    return Err(bad_input(format!(
                        "Match {word} cannot be combined with other criteria."
                    )));
                }
                applies &= !negated;
                break;
            }
            criteria_seen += 1;
            if criterion == "canonical" || criterion == "final" {
                // `!final` asks for the second reading too, as ssh before 10.1 (Debian
                // 12's 9.2, which the corpus is checked against) does.
                if criterion == "final" {
                    self.wants_final_pass = true;
                }
                applies &= self.final_pass != negated;
                continue;
            }
            // `tagged` and `command` may be matched against nothing (`tagged=`), as ssh
            // reads them.
            let may_be_empty = criterion == "tagged" || criterion == "command";
            let argument = match inline.or_else(|| args.next().map(String::as_str)) {
                Some(argument) if !argument.is_empty() || may_be_empty => argument,
                _ => return Err(bad_input(format!("Match {word} needs a value."))),
            };
            let holds = match criterion.as_str() {
                "host" => hostname_matches_list(&self.current_host_name()?, argument),
                "originalhost" => hostname_matches_list(self.request.alias, argument),
                "user" => {
                    let user = self
                        .settings
                        .user
                        .as_deref()
                        .unwrap_or(self.request.local_user);
                    pattern_list_match(user, argument, false) == ListMatch::Positive
                }
                "localuser" => {
                    pattern_list_match(self.request.local_user, argument, false)
                        == ListMatch::Positive
                }
                "exec" | "tagged" | "localnetwork" | "sessiontype" | "command" | "version" => {
                    let not = if negated { "!" } else { "" };
                    unsupported.push(format!("Match {not}{criterion} {argument}"));
                    continue;
                }
                _ => {
                    return Err(bad_input(format!(
                        "Match does not know the criterion {word}."
                    )))
                }
            };
            applies &= holds != negated;
        }
        if applies && !unsupported.is_empty() {
            self.settings.unevaluated.push(format!(
                "{origin}: {} was not evaluated (Shipshape runs no command and asks no network to read a config), so that block was not applied",
                unsupported.join(", ")
            ));
        }
        Ok(applies && unsupported.is_empty())
    }

    fn current_host_name(&self) -> Result<String> {
        match &self.settings.hostname {
            Some(hostname) => super::expand::expand_host_name(
                &hostname.value,
                self.request.alias,
                &hostname.origin,
            ),
            None => Ok(self.request.alias.to_string()),
        }
    }
}

fn refused_include(file: &ConfigFile, line: &ConfigLine, problem: String) -> Error {
    Error::BadInput(format!("{}: {problem}.", file.locate(line)))
}

fn too_deep(file: &ConfigFile, line: &ConfigLine) -> Error {
    Error::BadInput(format!(
        "{}: Include nests more than {MAX_INCLUDE_DEPTH} files deep; does a file include itself?",
        file.locate(line)
    ))
}

/// Aliases a config names literally, for the import picker; see [`super::list_aliases`].
pub(super) fn collect_aliases(config: &Path, home: &Path) -> Result<Vec<String>> {
    let mut aliases = Vec::new();
    collect_aliases_from(config, home, 0, &mut aliases)?;
    Ok(aliases)
}

fn collect_aliases_from(
    path: &Path,
    home: &Path,
    depth: usize,
    aliases: &mut Vec<String>,
) -> Result<()> {
    let file = read_config_file(path, shown_path(path, home))?;
    for line in &file.lines {
        match line.keyword.as_str() {
            "host" => {
                let literal = line
                    .args
                    .iter()
                    .filter(|a| !a.is_empty() && !a.starts_with('!') && !a.contains(['*', '?']));
                for alias in literal {
                    if !aliases.contains(alias) {
                        aliases.push(alias.clone());
                    }
                }
            }
            "include" => {
                for argument in &line.args {
                    let files = include::included_files(argument, home, &home.join(".ssh"))
                        .map_err(|problem| refused_include(&file, line, problem))?;
                    for included in files {
                        if depth + 1 > MAX_INCLUDE_DEPTH {
                            return Err(too_deep(&file, line));
                        }
                        collect_aliases_from(&included, home, depth + 1, aliases)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn single_argument(line: &ConfigLine, origin: &str) -> Result<String> {
    let keyword = match line.keyword.as_str() {
        "hostname" => "HostName",
        "user" => "User",
        "port" => "Port",
        "identityfile" => "IdentityFile",
        other => other,
    };
    match line.args.as_slice() {
        [value] => Ok(value.clone()),
        [] => Err(Error::BadInput(format!(
            "{origin}: {keyword} needs a value."
        ))),
        _ => Err(Error::BadInput(format!(
            "{origin}: {keyword} takes one value; quote it if it contains spaces."
        ))),
    }
}

/// As ssh's a2port: a whole number 1..=65535, leading blanks allowed, or the name of a
/// TCP service in /etc/services, such as `ssh`.
pub(super) fn parse_port(text: &str) -> Option<u16> {
    let number = text
        .trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c'])
        .parse::<u16>()
        .ok();
    number
        .or_else(|| service_port(text, &std::fs::read_to_string("/etc/services").ok()?))
        .filter(|&port| port > 0)
}

/// The TCP port `/etc/services` (`services`, its text) gives the service `name`, by its
/// name or an alias.
fn service_port(name: &str, services: &str) -> Option<u16> {
    services.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or_default();
        let mut words = line.split_whitespace();
        let service = words.next()?;
        let (port, protocol) = words.next()?.split_once('/')?;
        let named = service == name || words.any(|alias| alias == name);
        (named && protocol == "tcp")
            .then(|| port.parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod port_tests {
    use super::service_port;

    #[test]
    fn a_port_may_be_a_tcp_services_name_or_alias() {
        let services =
            "# comment\nssh\t\t22/tcp\t\t\t# SSH\nhttp 80/tcp www\nhttp 80/udp\nsyslog 514/udp\n";
        assert_eq!(service_port("ssh", services), Some(22));
        assert_eq!(service_port("www", services), Some(80));
        assert_eq!(service_port("syslog", services), None);
        assert_eq!(service_port("nope", services), None);
    }
}
