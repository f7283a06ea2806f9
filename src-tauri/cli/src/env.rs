//! `env keys|set|unset`: the env file from a terminal, by key name. A value is read from
//! standard input (never from an argument, where `ps` and the shell's history would keep
//! it) and never printed.

use std::io::{IsTerminal, Read};

use clap::Subcommand;
use shipshape_core::console::{EnvChange, EnvSaved};
use shipshape_core::secret::Secret;
use shipshape_core::terminal::printable;
use shipshape_core::{Console, Error};

/// Longest value read from standard input.
const MAX_VALUE: u64 = 64 * 1024;

#[derive(Subcommand)]
pub enum EnvCommand {
    /// The env file's keys (never their values).
    Keys {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Set KEY to the value read from standard input (its last line break dropped), or
    /// typed at a prompt that does not show it.
    Set {
        name: String,
        key: String,
        /// A value typed after the key by mistake: refused without being repeated (an
        /// error quoting it would print it where logs and screen recordings keep it).
        #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
        typed_after: Vec<String>,
    },
    /// Remove KEY from the env file.
    Unset { name: String, key: String },
}

fn read_value(key: &str) -> Result<Secret, Error> {
    if std::io::stdin().is_terminal() {
        // Typed on a terminal: asked there without echo, ended by Enter, never shown.
        let prompt = format!("Value for {} (not shown): ", printable(key));
        let typed = rpassword::prompt_password(prompt).map_err(|e| {
            Error::BadInput(format!("Could not read the value from the terminal: {e}"))
        })?;
        return Ok(Secret::new(typed));
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_VALUE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            Error::BadInput(format!("Could not read the value from standard input: {e}"))
        })?;
    if bytes.len() as u64 > MAX_VALUE {
        return Err(Error::BadInput(format!(
            "The value on standard input is longer than {} KiB.",
            MAX_VALUE / 1024
        )));
    }
    // Nothing at all arrived (a command before the pipe that failed): not an empty value.
    if bytes.is_empty() {
        return Err(Error::BadInput(
            "No value arrived on standard input, so nothing was written. Pipe the value (one line); for an empty value, pipe an empty line (`echo | shipshape env set …`).".into(),
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::BadInput("The value on standard input is not UTF-8 text.".into()))?;
    let value = text.strip_suffix('\n').unwrap_or(&text);
    let value = value.strip_suffix('\r').unwrap_or(value);
    Ok(Secret::new(value.to_string()))
}

fn say(saved: &EnvSaved) {
    let list = |names: &[String]| names.join(", ");
    for (what, names) in [
        ("added", &saved.added),
        ("changed", &saved.changed),
        ("removed", &saved.removed),
    ] {
        if !names.is_empty() {
            eprintln!("{}: {what} {}", saved.file, printable(&list(names)));
        }
    }
    // The host's words: printed, they must not act on the terminal.
    if let Some(backup) = &saved.backup {
        eprintln!("The old file is kept on the host as {}.", printable(backup));
    }
    // A restart keeps a container's environment: only one made anew reads the file.
    eprintln!(
        "Services read it when their containers are made: `shipshape up \"{}\"` applies it (a restart keeps the old values).",
        saved.target
    );
}

pub async fn run(console: &Console, command: EnvCommand) -> Result<(), Error> {
    match command {
        EnvCommand::Keys { name, json } => {
            let keys = console.env_keys(&name).await?;
            if json {
                crate::print_json(&keys);
            } else if !keys.exists {
                eprintln!("{} has no {} yet.", name, keys.file);
            } else {
                for key in &keys.keys {
                    let mark = if key.empty { " (empty)" } else { "" };
                    println!("{}{mark}", printable(&key.name));
                }
            }
        }
        EnvCommand::Set {
            name,
            key,
            typed_after,
        } => {
            // The key first: one that holds a value (`KEY=value`) is refused without
            // repeating it.
            shipshape_core::env_file::validate_key(&key)?;
            if !typed_after.is_empty() {
                return Err(Error::BadInput(format!(
                    "env set takes no value after the key, so nothing was written: the value is read from standard input or a prompt that does not show it, never from the command line (where `ps` and the shell's history keep it). If it is a real value, change it now. Run `shipshape env set {} {}` and type or pipe it.",
                    printable(&name),
                    printable(&key)
                )));
            }
            crate::announce_change(console, &name)?;
            let value = read_value(&key)?;
            say(&console
                .change_env(&name, EnvChange::Set { key, value })
                .await?);
        }
        EnvCommand::Unset { name, key } => {
            crate::announce_change(console, &name)?;
            say(&console.change_env(&name, EnvChange::Unset { key }).await?);
        }
    }
    Ok(())
}
