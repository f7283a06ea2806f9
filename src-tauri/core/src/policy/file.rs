//! Reading a policy file. A file states only what differs from the built-in policy, so
//! the policy text stays the default and a team's file stays short. Every complaint
//! names the file, the line and the field: the person fixing it is editing that file.

use toml::de::{DeArray, DeTable, DeValue};
use toml::Spanned;

use super::{rules, Policy};
use crate::error::{Error, Result};

const FIELDS: [&str; 17] = [
    "profile",
    "project_dir",
    "remote",
    "branch",
    "services",
    "logged_services",
    "health_url",
    "env_file",
    "migration_glob",
    "migration_service",
    "production_ports",
    "forbidden_patterns",
    "deadline_read_seconds",
    "deadline_health_seconds",
    "deadline_change_seconds",
    "deadline_pull_idle_seconds",
    "deadline_migrate_seconds",
];

impl Policy {
    /// The built-in policy with the fields `text` sets replaced. `source` names the file
    /// in messages (e.g. `policy.toml`).
    pub fn from_toml(text: &str, source: &str) -> Result<Policy> {
        PolicyFile { text, source }.read()
    }
}

struct PolicyFile<'a> {
    text: &'a str,
    source: &'a str,
}

impl PolicyFile<'_> {
    fn read(&self) -> Result<Policy> {
        let document = DeTable::parse(self.text).map_err(|error| {
            let line = error.span().map_or(1, |span| self.line(span.start));
            let message = error.message().trim().trim_end_matches('.');
            Error::BadInput(format!(
                "{} line {line}: this is not valid TOML ({message}).",
                self.source
            ))
        })?;
        let mut entries: Vec<_> = document.get_ref().iter().collect();
        entries.sort_by_key(|(key, _)| key.span().start);

        let mut policy = Policy::builtin();
        let mut set_at: Vec<(&str, usize)> = Vec::new();
        for (key, value) in entries {
            let line = self.line(key.span().start);
            let Some(field) = FIELDS.iter().copied().find(|f| *f == key.get_ref()) else {
                return Err(Error::BadInput(format!(
                    "{} line {line}: unknown field `{}`. The fields are: {}.",
                    self.source,
                    key.get_ref(),
                    FIELDS.join(", ")
                )));
            };
            self.apply(&mut policy, field, line, value)?;
            set_at.push((field, line));
        }

        let line_of = |field: &str| set_at.iter().find(|(f, _)| *f == field).map(|(_, l)| *l);
        if let Err(reason) =
            rules::migration_service_listed(&policy.migration_service, &policy.services)
        {
            let (field, line) = match line_of("migration_service") {
                Some(line) => ("migration_service", line),
                None => ("services", line_of("services").unwrap_or(1)),
            };
            return Err(self.refuse(line, field, reason));
        }
        // Not named: the built-in ones the file's services keep (a file that narrows
        // the services narrows the logs read with them).
        if line_of("logged_services").is_none() {
            policy
                .logged_services
                .retain(|s| policy.services.contains(s));
        }
        if let Err(reason) = rules::logged_services(&policy.logged_services, &policy.services) {
            let (field, line) = match line_of("logged_services") {
                Some(line) => ("logged_services", line),
                None => ("services", line_of("services").unwrap_or(1)),
            };
            return Err(self.refuse(line, field, reason));
        }
        Ok(policy)
    }

    fn apply(
        &self,
        policy: &mut Policy,
        field: &str,
        line: usize,
        value: &Spanned<DeValue>,
    ) -> Result<()> {
        let check = |rule: fn(&str) -> Result<(), String>, text: String| {
            rule(&text)
                .map(|()| text)
                .map_err(|r| self.refuse(line, field, r))
        };
        match field {
            "profile" => {
                let text = self.string(field, value)?;
                rules::profile(&text).map_err(|r| self.refuse(line, field, r))?;
            }
            "project_dir" => {
                policy.project_dir = check(rules::project_dir, self.string(field, value)?)?
            }
            "remote" => policy.remote = check(rules::git_name, self.string(field, value)?)?,
            "branch" => policy.branch = check(rules::git_name, self.string(field, value)?)?,
            "health_url" => {
                policy.health_url = check(rules::health_url, self.string(field, value)?)?
            }
            "env_file" => policy.env_file = check(rules::env_file, self.string(field, value)?)?,
            "migration_glob" => {
                policy.migration_glob = check(rules::migration_glob, self.string(field, value)?)?
            }
            "migration_service" => {
                policy.migration_service = check(rules::service_name, self.string(field, value)?)?
            }
            "services" => {
                let services = self.strings(field, value, rules::service_name)?;
                rules::services(&services).map_err(|r| self.refuse(line, field, r))?;
                policy.services = services;
            }
            "logged_services" => {
                policy.logged_services = self.strings(field, value, rules::service_name)?
            }
            "forbidden_patterns" => {
                let patterns = self.strings(field, value, rules::forbidden_pattern)?;
                rules::forbidden_patterns(&patterns).map_err(|r| self.refuse(line, field, r))?;
                policy.forbidden_patterns = patterns;
            }
            "production_ports" => {
                let ports = self.ports(field, value)?;
                rules::ports(&ports).map_err(|r| self.refuse(line, field, r))?;
                policy.production_ports = ports;
            }
            "deadline_read_seconds" => {
                policy.deadlines.read_seconds = self.seconds(field, value)?
            }
            "deadline_health_seconds" => {
                policy.deadlines.health_seconds = self.seconds(field, value)?
            }
            "deadline_change_seconds" => {
                policy.deadlines.change_seconds = self.seconds(field, value)?
            }
            "deadline_pull_idle_seconds" => {
                policy.deadlines.pull_idle_seconds = self.seconds(field, value)?
            }
            "deadline_migrate_seconds" => {
                policy.deadlines.migrate_seconds = self.seconds(field, value)?
            }
            _ => unreachable!("every name in FIELDS is handled"),
        }
        Ok(())
    }

    fn string(&self, field: &str, value: &Spanned<DeValue>) -> Result<String> {
        match value.get_ref() {
            DeValue::String(text) => Ok(text.to_string()),
            other => Err(self.wrong_type(field, value, "a string", other)),
        }
    }

    /// A list of strings, each checked by `rule` and reported at its own line.
    fn strings(
        &self,
        field: &str,
        value: &Spanned<DeValue>,
        rule: fn(&str) -> Result<(), String>,
    ) -> Result<Vec<String>> {
        self.array(field, value, "a list of strings")?
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::String(text) => rule(text)
                    .map(|()| text.to_string())
                    .map_err(|r| self.refuse(self.line(item.span().start), field, r)),
                other => Err(self.wrong_type(field, item, "a string in the list", other)),
            })
            .collect()
    }

    /// A deadline: whole seconds, from 1 s to a day.
    fn seconds(&self, field: &str, value: &Spanned<DeValue>) -> Result<u32> {
        let line = self.line(value.span().start);
        match value.get_ref() {
            DeValue::Integer(number) => i64::from_str_radix(number.as_str(), number.radix())
                .ok()
                .filter(|n| (1..=86_400).contains(n))
                .map(|n| n as u32)
                .ok_or_else(|| {
                    self.refuse(
                        line,
                        field,
                        format!("{number} is not a deadline: give whole seconds from 1 to 86400."),
                    )
                }),
            other => Err(self.wrong_type(field, value, "a number of seconds", other)),
        }
    }

    fn ports(&self, field: &str, value: &Spanned<DeValue>) -> Result<Vec<u16>> {
        self.array(field, value, "a list of port numbers")?
            .iter()
            .map(|item| {
                let line = self.line(item.span().start);
                match item.get_ref() {
                    DeValue::Integer(number) => {
                        let parsed = i64::from_str_radix(number.as_str(), number.radix())
                            .map_err(|_| format!("{number} is not a port number (1 to 65535)."))
                            .and_then(rules::port);
                        parsed.map_err(|r| self.refuse(line, field, r))
                    }
                    other => Err(self.wrong_type(field, item, "a port number in the list", other)),
                }
            })
            .collect()
    }

    fn array<'v, 'i>(
        &self,
        field: &str,
        value: &'v Spanned<DeValue<'i>>,
        expected: &str,
    ) -> Result<&'v DeArray<'i>> {
        match value.get_ref() {
            DeValue::Array(items) => Ok(items),
            other => Err(self.wrong_type(field, value, expected, other)),
        }
    }

    fn wrong_type(
        &self,
        field: &str,
        value: &Spanned<DeValue>,
        expected: &str,
        found: &DeValue,
    ) -> Error {
        let found = match found {
            DeValue::String(_) => "a string",
            DeValue::Integer(_) => "an integer",
            DeValue::Float(_) => "a decimal number",
            DeValue::Boolean(_) => "true or false",
            DeValue::Datetime(_) => "a date",
            DeValue::Array(_) => "a list",
            DeValue::Table(_) => "a table",
        };
        let line = self.line(value.span().start);
        self.refuse(line, field, format!("expected {expected}, found {found}."))
    }

    fn refuse(&self, line: usize, field: &str, reason: String) -> Error {
        Error::BadInput(format!(
            "{} line {line}, field `{field}`: {reason}",
            self.source
        ))
    }

    /// The 1-based line of a byte offset.
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }
}
