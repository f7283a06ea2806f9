//! `shipshape`: the console's operations from a terminal or a script, same core, same
//! settings file. Exit codes (DESIGN.md): 0 ok, 1 a remote command or check failed,
//! 2 bad usage or input, 3 connection, host-trust or authentication failure.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use shipshape_core::settings::JsonFileSettings;
use shipshape_core::target::{self, Target};
use shipshape_core::{paths, Console, Error};

#[derive(Parser)]
#[command(
    name = "shipshape",
    version,
    about = "Deploy and verify the platform exactly as the deployment policy says."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Manage targets (the hosts Shipshape deploys to).
    #[command(subcommand)]
    Target(TargetCommand),
    /// `docker compose --profile aws ps` on the target: one line per service.
    Ps {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum TargetCommand {
    /// Add a target, or replace the one with the same name.
    Add {
        name: String,
        #[arg(long)]
        host: String,
        #[arg(long, default_value_t = 22)]
        port: u16,
        #[arg(long, default_value = "ubuntu")]
        user: String,
        #[arg(long, default_value = shipshape_core::policy::PROJECT_DIR)]
        dir: String,
        #[arg(long)]
        key: String,
    },
    /// List targets.
    List {
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("shipshape: {error}");
            if let Some(detail) = error.detail() {
                eprintln!("{detail}");
            }
            ExitCode::from(error.code().exit_code() as u8)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    let settings = Arc::new(JsonFileSettings::open(paths::settings_file())?);
    let console = Console::new(settings.clone());
    console.ensure_lab_from_env().await?;
    match cli.command {
        Command::Target(TargetCommand::Add {
            name,
            host,
            port,
            user,
            dir,
            key,
        }) => {
            let target = Target {
                name,
                host,
                port,
                user,
                project_dir: dir,
                key,
            };
            target::save(settings.as_ref(), target)?;
        }
        Command::Target(TargetCommand::List { json }) => {
            let targets = console.targets()?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&targets).expect("targets serialize")
                );
            } else {
                for t in targets {
                    let trust = t.host_key.as_deref().unwrap_or("host key not pinned");
                    println!(
                        "{}\t{}\t{}\tkey {}\t{}",
                        t.target.name, t.address, t.target.project_dir, t.target.key, trust
                    );
                }
            }
        }
        Command::Ps { name, json } => {
            let report = console.service_status(&name).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).expect("reports serialize")
                );
            } else {
                eprintln!("$ {}", report.command);
                for s in &report.services {
                    println!(
                        "{:<20} {:<10} {}",
                        s.service,
                        format!("{:?}", s.state).to_lowercase(),
                        s.status
                    );
                }
            }
        }
    }
    Ok(())
}
