//! `shipshape key ...`: keys live in the OS keyring; only their public facts are printed.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use clap::Subcommand;
use shipshape_core::secret::Secret;
use shipshape_core::{Console, Error};

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Import an OpenSSH private key file into the keyring.
    Import {
        name: String,
        file: PathBuf,
        /// Read the key's passphrase from the first line of standard input.
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Generate a new ed25519 key in the keyring and print its public line.
    Generate {
        name: String,
        #[arg(long, default_value = "shipshape")]
        comment: String,
    },
    /// List keys: name, type, SHA256 fingerprint, comment, created.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Print the key's public `authorized_keys` line.
    Public { name: String },
    /// Remove a key from the keyring (refused while a target uses it).
    Remove { name: String },
}

pub async fn run(console: &Console, command: KeyCommand) -> Result<(), Error> {
    match command {
        KeyCommand::Import {
            name,
            file,
            passphrase_stdin,
        } => {
            let info = with_passphrase(passphrase_stdin, |passphrase| {
                console.import_key_file(&name, &file, passphrase)
            })
            .await?;
            println!(
                "imported {} ({} {})",
                info.name, info.algorithm, info.fingerprint
            );
        }
        KeyCommand::Generate { name, comment } => {
            let info = console.generate_key(&name, &comment).await?;
            eprintln!(
                "generated {} ({}); add this line to ~/.ssh/authorized_keys on the host:",
                info.name, info.fingerprint
            );
            println!("{}", info.public_key);
        }
        KeyCommand::List { json } => {
            let keys = console.keys()?;
            if json {
                crate::print_json(&keys);
            } else {
                for k in keys {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        k.name, k.algorithm, k.fingerprint, k.comment, k.created_at
                    );
                }
            }
        }
        KeyCommand::Public { name } => {
            let info = console
                .keys()?
                .into_iter()
                .find(|k| k.name == name)
                .ok_or(Error::KeyNotFound(name))?;
            println!("{}", info.public_key);
        }
        KeyCommand::Remove { name } => {
            console.remove_key(&name).await?;
            println!("removed {name}");
        }
    }
    Ok(())
}

/// Runs `import` with the passphrase `--passphrase-stdin` read; without it, on a
/// terminal, asks for the passphrase once the key turns out to need one, and runs it
/// again (as the error's remedy says the CLI does).
pub async fn with_passphrase<T, F, Fut>(passphrase_stdin: bool, import: F) -> Result<T, Error>
where
    F: Fn(Option<Secret>) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    if passphrase_stdin {
        return import(Some(read_passphrase()?)).await;
    }
    match import(None).await {
        Err(Error::PassphraseRequired(_)) if std::io::stdin().is_terminal() => {
            import(Some(read_passphrase()?)).await
        }
        other => other,
    }
}

pub fn read_passphrase() -> Result<Secret, Error> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        // Typed on a terminal: asked there without echo, so it never shows on screen.
        let typed = rpassword::prompt_password("Passphrase (not shown): ").map_err(|e| {
            Error::BadInput(format!(
                "could not read the passphrase from the terminal: {e}"
            ))
        })?;
        return Ok(Secret::new(typed));
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|e| {
        Error::BadInput(format!(
            "could not read the passphrase from standard input: {e}"
        ))
    })?;
    let passphrase = Secret::new(line.trim_end_matches(['\n', '\r']).to_string());
    zeroize::Zeroize::zeroize(&mut line);
    Ok(passphrase)
}
