//! `shipshape target ...`: targets and host trust. Nothing is ever trusted silently: an
//! unpinned host fails (exit 3) until `target trust` pins it.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Subcommand;
use shipshape_core::target::Target;
use shipshape_core::terminal::printable;
use shipshape_core::{Console, Error};

#[derive(Subcommand)]
pub enum TargetCommand {
    /// Add a target.
    Add {
        name: String,
        #[arg(long)]
        host: String,
        #[arg(long, default_value_t = 22)]
        port: u16,
        #[arg(long, default_value = shipshape_core::policy::DEFAULT_USER)]
        user: String,
        /// The project's directory on the host (default: the policy's `project_dir`,
        /// --policy's if given).
        #[arg(long)]
        dir: Option<String>,
        /// The keyring key used to log in.
        #[arg(long)]
        key: Option<String>,
        /// A policy file (TOML) overriding the builtin policy for this target.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// production, staging or development: production stands out wherever a
        /// command runs on it.
        #[arg(long = "env", default_value = "production")]
        environment: String,
        /// Jump hosts to pass through, as `ssh -J` takes them:
        /// `[user@]host[:port]`, comma-separated (user: --user; key: --key).
        #[arg(long)]
        jump: Option<String>,
    },
    /// List targets with their pinned host keys.
    List {
        #[arg(long)]
        json: bool,
    },
    /// List the hosts of ~/.ssh/config (or --config), resolved as `ssh -G` resolves them.
    SshConfig {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Add a target from a Host of ~/.ssh/config (HostName, User, Port); its
    /// IdentityFile, if any, is imported into the keyring under the alias's name.
    ImportSshConfig {
        alias: String,
        #[arg(long)]
        config: Option<PathBuf>,
        /// Read the IdentityFile's passphrase from standard input.
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Remove a target (its host pin stays in known_hosts).
    Remove { name: String },
    /// Pin the host key of a target (or of one of its jump hosts, --hop). With
    /// --fingerprint, pins only if the host offers exactly that key; with --known-hosts,
    /// each host of the way that file vouches for; with neither, shows each host's key
    /// in turn and asks (on a terminal only).
    Trust {
        name: String,
        #[arg(long)]
        fingerprint: Option<String>,
        #[arg(long, conflicts_with = "fingerprint")]
        known_hosts: Option<PathBuf>,
        /// The jump host to pin (1: the first) rather than the target.
        #[arg(long, conflicts_with = "known_hosts")]
        hop: Option<usize>,
    },
}

pub async fn run(console: &Console, command: TargetCommand) -> Result<(), Error> {
    match command {
        TargetCommand::Add {
            name,
            host,
            port,
            user,
            dir,
            key,
            policy,
            environment,
            jump,
        } => {
            let jump = match jump {
                Some(spec) => shipshape_core::target::parse_jumps(&spec, &user)?,
                None => Vec::new(),
            };
            let mut target = Target {
                name,
                host,
                port,
                user,
                project_dir: dir.clone().unwrap_or_default(),
                key,
                policy_file: policy
                    .map(|p| std::path::absolute(&p).unwrap_or(p).display().to_string()),
                environment: environment.parse()?,
                jump,
            };
            if dir.is_none() {
                target.project_dir = console.policy_for(&target)?.project_dir;
            }
            let saved = console.save_target(target, None).await?;
            println!(
                "added {} ({}); next: shipshape target trust {}",
                printable(&saved.target.name),
                saved.address,
                shipshape_core::shell::quote(&saved.target.name)
            );
        }
        TargetCommand::List { json } => {
            let targets = console.targets()?;
            if json {
                crate::print_json(&targets);
            } else {
                for t in targets {
                    let trust = t.host_key.as_deref().unwrap_or("host key not pinned");
                    let key = t.target.key.as_deref().unwrap_or("-");
                    println!(
                        "{}\t{}\t{}\t{}\tkey {}\t{}",
                        t.target.name,
                        crate::environment_mark(t.target.environment),
                        t.address,
                        t.target.project_dir,
                        key,
                        trust
                    );
                }
            }
        }
        TargetCommand::SshConfig { config, json } => {
            let hosts = console.ssh_config_hosts(config.as_deref())?;
            if json {
                crate::print_json(&hosts);
            } else {
                for h in hosts {
                    let user = h.user.as_deref().unwrap_or("-");
                    let port = h.port.map(|p| p.to_string()).unwrap_or_else(|| "-".into());
                    let jump = match (&h.proxy_jump, &h.proxy_command) {
                        (Some(j), _) => format!("\tvia ProxyJump {j}"),
                        (None, Some(c)) => format!("\tvia ProxyCommand {c} (not supported)"),
                        (None, None) => String::new(),
                    };
                    println!(
                        "{}\t{}@{}:{}\t{}{}",
                        h.alias,
                        user,
                        h.hostname,
                        port,
                        h.identity_files.join(","),
                        jump
                    );
                    for note in &h.unevaluated {
                        eprintln!("  {}: may differ from ssh: {note}", h.alias);
                    }
                }
            }
        }
        TargetCommand::ImportSshConfig {
            alias,
            config,
            passphrase_stdin,
        } => {
            let saved = crate::keys::with_passphrase(passphrase_stdin, |passphrase| {
                console.import_ssh_config_host(config.as_deref(), &alias, passphrase)
            })
            .await?;
            let key = saved.target.key.as_deref().unwrap_or("none");
            println!(
                "added {} ({}, key {key}); next: shipshape target trust {}",
                printable(&saved.target.name),
                saved.address,
                shipshape_core::shell::quote(&saved.target.name)
            );
            if saved.target.key.is_none() {
                eprintln!(
                    "{} has no key yet (no IdentityFile of it could be imported): import one (shipshape key import KEY FILE), then give it to {} on the console's Targets screen, or remove the target and add it again with --key KEY.",
                    saved.target.name, saved.target.name
                );
            }
            let hosts = console.ssh_config_hosts(config.as_deref())?;
            for host in hosts.iter().filter(|h| h.alias == alias) {
                for note in &host.unevaluated {
                    eprintln!("warning: {alias} may differ from what ssh reaches: {note}");
                }
            }
        }
        TargetCommand::Remove { name } => {
            console.remove_target(&name).await?;
            println!("removed {name}");
        }
        TargetCommand::Trust {
            name,
            fingerprint: Some(fingerprint),
            hop,
            ..
        } => {
            let hop = jump_index(console, &name, hop)?;
            let offer = console.trust_host(&name, hop, &fingerprint).await?;
            println!("pinned {} {} for {name}", offer.key_type, offer.fingerprint);
        }
        TargetCommand::Trust {
            name,
            known_hosts: Some(file),
            ..
        } => {
            for pinned in console.trust_from_known_hosts(&name, &file, true).await? {
                println!(
                    "pinned {} {} for {} (vouched for by {})",
                    pinned.offer.key_type,
                    pinned.offer.fingerprint,
                    pinned.host,
                    file.display()
                );
            }
        }
        TargetCommand::Trust { name, hop, .. } => {
            trust_by_eye(console, &name, jump_index(console, &name, hop)?).await?
        }
    }
    Ok(())
}

/// `--hop N` (1: the first jump host) as the core counts the hosts of a way (0: the first,
/// the target last): a number past the jump hosts is refused, not taken for the target.
fn jump_index(console: &Console, name: &str, hop: Option<usize>) -> Result<Option<usize>, Error> {
    let Some(hop) = hop else { return Ok(None) };
    let jumps = console
        .targets()?
        .into_iter()
        .find(|t| t.target.name == name)
        .ok_or_else(|| Error::TargetNotFound(name.to_string()))?
        .target
        .jump
        .len();
    match hop {
        1.. if hop <= jumps => Ok(Some(hop - 1)),
        _ => Err(Error::BadInput(format!(
            "--hop counts {name}'s jump hosts from 1, and it has {jumps}: leave --hop out to pin the target itself."
        ))),
    }
}

/// Shows each host of the target's way that needs the operator, in order (or just
/// `hop`), and pins it once they type yes; a host already pinned and matching is said.
async fn trust_by_eye(console: &Console, name: &str, hop: Option<usize>) -> Result<(), Error> {
    loop {
        let trust = console.probe_host_key(name, hop).await?;
        let host = &trust.host;
        let last = trust.hop + 1 == trust.route.len();
        let what = match last {
            true => name.to_string(),
            false => format!("{name}'s jump host {host}"),
        };
        let offer = &trust.offered;
        eprintln!(
            "{host} ({what}) offers a {} host key with fingerprint\n  {}",
            offer.key_type, offer.fingerprint
        );
        for other in trust.offers.iter().filter(|o| *o != offer) {
            eprintln!(
                "It also holds a {} key:\n  {}",
                other.key_type, other.fingerprint
            );
        }
        if let Some(pinned) = &trust.pinned {
            let same = if trust.matches { "same" } else { "DIFFERENT" };
            eprintln!("currently pinned: {pinned} ({same})");
        }
        // Every host of the way matches its pin (the probe names a host needing the
        // operator first): nothing to ask.
        if trust.matches {
            return Ok(());
        }
        eprintln!("Compare it with the fingerprint from the host's console output (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub).");
        if !std::io::stdin().is_terminal() {
            return Err(match &trust.pinned {
                // A key that changed is said as one, with its warning, not as a new host.
                Some(pinned) => Error::HostKeyMismatch {
                    host: host.clone(),
                    expected: pinned.clone(),
                    actual: offer.fingerprint.clone(),
                },
                None => Error::HostKeyUnknown {
                    host: host.clone(),
                    key_type: offer.key_type.clone(),
                    fingerprint: offer.fingerprint.clone(),
                },
            });
        }
        eprint!("Type yes to trust it: ");
        std::io::stderr().flush().ok();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).ok();
        if answer.trim() != "yes" {
            return Err(Error::BadInput("Not trusted: you did not type yes.".into()));
        }
        let offer = console
            .trust_host(name, Some(trust.hop), &offer.fingerprint)
            .await?;
        println!("pinned {} {} for {host}", offer.key_type, offer.fingerprint);
        if last || hop.is_some() {
            return Ok(());
        }
    }
}
