//! `shipshape`: the console's operations from a terminal or a script, same core, same
//! settings file. Exit codes (DESIGN.md): 0 ok, 1 a remote command or check failed,
//! 2 bad usage or input (a damaged settings file too), 3 connection, host-trust or
//! authentication failure, a lost connection or a command past its deadline, 4 busy (the
//! host locked by another operator's deploy too).

mod checks;
mod deploy;
mod env;
mod keys;
mod operations;
mod review;
mod targets;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, Parser, Subcommand};
use shipshape_core::settings::JsonFileSettings;
use shipshape_core::target::{Environment, Target};
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
    /// Manage targets (the hosts Shipshape deploys to) and their trusted host keys.
    #[command(subcommand)]
    Target(targets::TargetCommand),
    /// Manage SSH keys, kept in the OS keyring.
    #[command(subcommand)]
    Key(keys::KeyCommand),
    #[command(flatten)]
    Operation(operations::OperationCommand),
    /// Run the verification checklist on targets: each check's status and why (its evidence goes to the history and to --report).
    Verify(checks::VerifyArgs),
    /// Everything Shipshape ran and verified (`history verify` checks the journal).
    History(checks::HistoryArgs),
    /// Write a verification's report (.md, .html, .pdf, .json), or co-sign one.
    Report(checks::ReportArgs),
    /// The guided deploy: preflight, review, lock, snapshot, pull, up, verify.
    Deploy(deploy::DeployArgs),
    /// What a deploy would change (commits, compose config, env keys, images), recorded.
    Review(review::ReviewArgs),
    /// Approve a recorded review with a reviewer's key; `deploy --review ID` holds to it.
    Approve(review::ApproveArgs),
    /// Return the host to a deploy's snapshot (commit, images, env file), then verify.
    Rollback(deploy::RollbackArgs),
    /// The env file's keys; set one (value from stdin) or remove one.
    #[command(subcommand)]
    Env(env::EnvCommand),
    /// The host's deploy lock: who holds it, or break it with a reason.
    #[command(subcommand)]
    Lock(deploy::LockCommand),
    /// Print the completion script for a shell (the package installs bash, zsh and fish).
    Completions { shell: clap_complete::Shell },
    /// Write the manual pages (roff), as the package installs them: shipshape.1 and one
    /// for each command (shipshape-target-add.1, ...).
    #[command(hide = true)]
    Man { dir: std::path::PathBuf },
}

fn main() -> ExitCode {
    end_quietly_when_output_closes();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // clap quotes the offending value whole; shown here, it is cut and inert.
            let said = shipshape_core::input::brief(&e.render().to_string());
            eprint!("{}", shipshape_core::terminal::printable(&said));
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    // What documents the command line needs no settings, keyring or log.
    match cli.command {
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "shipshape", &mut script);
            return match std::io::Write::write_all(&mut std::io::stdout(), &script) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("shipshape: could not write the completions: {e}");
                    ExitCode::from(1)
                }
            };
        }
        Command::Man { dir } => {
            return match write_manual(without_help_commands(Cli::command()), &dir) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("shipshape: could not write the manual pages: {e}");
                    ExitCode::from(1)
                }
            };
        }
        _ => {}
    }
    shipshape_core::diagnostics::init("cli");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::warn!(code = ?error.code(), "{error}");
            // Of several targets, the failing one's error was said in full already.
            if !SAID_FOR_A_TARGET
                .lock()
                .unwrap()
                .contains(&error.to_string())
            {
                say_error(None, &error);
            }
            ExitCode::from(error.code().exit_code() as u8)
        }
    }
}

/// Output closed early (`shipshape history | head -1`) ends the CLI quietly, as it
/// does any Unix tool, instead of a panic's exit 101 and backtrace; output that cannot
/// be written at all (a full disk) is a local storage failure, exit 1.
fn end_quietly_when_output_closes() {
    shipshape_core::terminal::default_broken_pipe();
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let said = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if said.starts_with("failed printing to std") {
            let said = format!("shipshape: {said}\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), said.as_bytes());
            std::process::exit(1);
        }
        default(info);
    }));
}

async fn run(cli: Cli) -> Result<(), Error> {
    let settings = Arc::new(JsonFileSettings::open(paths::settings_file())?);
    let console = Console::new(settings.clone());
    console.ensure_lab_from_env().await?;
    match cli.command {
        Command::Target(command) => targets::run(&console, command).await,
        Command::Key(command) => keys::run(&console, command).await,
        Command::Operation(command) => operations::run(&console, command).await,
        Command::Verify(args) => checks::verify(&console, args).await,
        Command::History(args) => checks::history(&console, args).await,
        Command::Report(args) => checks::report(&console, args).await,
        Command::Deploy(args) => deploy::deploy(&console, args).await,
        Command::Rollback(args) => deploy::rollback(&console, args).await,
        Command::Review(args) => review::review(&console, args).await,
        Command::Approve(args) => review::approve(&console, args).await,
        Command::Lock(command) => deploy::lock(&console, command).await,
        Command::Env(command) => env::run(&console, command).await,
        Command::Completions { .. } | Command::Man { .. } => Ok(()),
    }
}

/// The errors [`side_by_side`] said for one of several targets, so that `main` does not
/// say the one it ends the run with twice.
static SAID_FOR_A_TARGET: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// What `ask` answered for each target in `names`, asked side by side (each over its own
/// connection) once every name is known to be a target, in the order named. Of several,
/// one that fails is said on stderr and left out, and the last such error comes back
/// with the answers; the error of a single target is the call's.
async fn side_by_side<'a, T, Answer>(
    console: &Console,
    names: &'a [String],
    ask: impl Fn(&'a String) -> Answer,
) -> Result<(Vec<(&'a String, T)>, Option<Error>), Error>
where
    Answer: std::future::Future<Output = Result<T, Error>>,
{
    for name in names {
        console.target_and_policy(name)?;
    }
    // A target named twice is asked once.
    let mut seen = std::collections::HashSet::new();
    let names: Vec<&'a String> = names.iter().filter(|n| seen.insert(*n)).collect();
    let outcomes = futures::future::join_all(names.iter().map(|n| ask(n))).await;
    let mut answers = Vec::new();
    let mut worst: Option<Error> = None;
    for (name, outcome) in names.iter().copied().zip(outcomes) {
        match outcome {
            Ok(answer) => answers.push((name, answer)),
            Err(error) if names.len() > 1 => {
                say_error(Some(name), &error);
                SAID_FOR_A_TARGET.lock().unwrap().push(error.to_string());
                if worst
                    .as_ref()
                    .is_none_or(|kept| weight(&error) > weight(kept))
                {
                    worst = Some(error);
                }
            }
            Err(error) => return Err(error),
        }
    }
    Ok((answers, worst))
}

/// Which of several targets' errors decides the exit code, whatever order they were
/// named in: a host that cannot be reached or trusted, then Ctrl-C, a held lock, a
/// failure on the host, and bad input last.
fn weight(error: &Error) -> u8 {
    match error.code().exit_code() {
        _ if error.code().is_danger() => 6,
        3 => 5,
        130 => 4,
        4 => 3,
        1 => 2,
        2 => 1,
        _ => 0,
    }
}

/// A token Ctrl-C cancels (saying so on the terminal), and the task that waits for it:
/// abort it once the work ends. A second Ctrl-C, while stopping takes its time (a stop
/// in a container whose engine does not answer), exits 130 at once: the host's
/// supervisor ends what still runs there when this process's connection closes.
fn cancelled_by_ctrl_c() -> (
    shipshape_core::ssh::CancellationToken,
    tokio::task::JoinHandle<()>,
) {
    let cancel = shipshape_core::ssh::CancellationToken::new();
    let stop = cancel.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("Stopping… (Ctrl-C again to leave at once)");
            stop.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("Left without waiting for the stop.");
                std::process::exit(130);
            }
        }
    });
    (cancel, watcher)
}

/// An error as the terminal shows it: the message (after the target's name, when several
/// ran), what to do, and its detail. An error can quote what the host said: printed, it
/// must not act.
fn say_error(target: Option<&str>, error: &Error) {
    let printable =
        |text: &str| shipshape_core::terminal::printable(&shipshape_core::input::brief(text));
    match target {
        Some(name) => eprintln!(
            "shipshape: {}: {}",
            printable(name),
            printable(&error.to_string())
        ),
        None => eprintln!("shipshape: {}", printable(&error.to_string())),
    }
    let remedy = error.remedy();
    if !remedy.is_empty() {
        eprintln!("{}", printable(&remedy));
    }
    if let Some(detail) = error.detail() {
        eprintln!("{}", printable(&detail));
    }
}

/// `command` without its `help` subcommands, for the manual: `shipshape help deploy` is
/// `man shipshape-deploy` there, and pages would otherwise list `help` pages no one needs.
fn without_help_commands(command: clap::Command) -> clap::Command {
    command
        .disable_help_subcommand(true)
        .mut_subcommands(without_help_commands)
}

/// What the top page says beyond the options: exit codes (DESIGN.md's contract) and the
/// environment, as roff.
const MANUAL_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
0
Success.
.TP
1
A remote command or a check failed, or the journal's hash chain is broken.
.TP
2
Bad usage or input (a damaged settings file too).
.TP
3
A connection, host\-trust or authentication failure, a lost connection, or a command past its deadline.
.TP
4
The target is busy: a change already runs, or another operator's deploy holds the host's lock.
.TP
130
An operation or a verification stopped with Ctrl\-C (recorded in the history as cancelled).
.SH ENVIRONMENT
.TP
SHIPSHAPE_HOME
The data directory: settings, pinned host keys, the journal, logs (default $XDG_DATA_HOME/shipshape, or ~/.local/share/shipshape without it).
.TP
SHIPSHAPE_LOG
The diagnostic log's level, e.g. debug.
.SH FILES
.TP
$SHIPSHAPE_HOME/settings.json
Targets and keys' public facts, shared with the console (no secrets: private keys live in the OS keyring).
.TP
$SHIPSHAPE_HOME/known_hosts
Pinned host keys.
.TP
$SHIPSHAPE_HOME/journal.sqlite3
The hash\-chained journal of every operation, verification, tick, waiver and report (shipshape history verify).
"#;

/// Writes `command`'s page into `dir` and, below it, one per subcommand, each named
/// as `man` finds it (`shipshape-target-add.1`, whose synopsis says `shipshape target
/// add`).
fn write_manual(command: clap::Command, dir: &std::path::Path) -> std::io::Result<()> {
    let name = command.get_name().to_string();
    let typed = command.get_bin_name().unwrap_or(&name).to_string();
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone().bin_name(&typed)).render(&mut page)?;
    if !typed.contains(' ') {
        page.extend_from_slice(MANUAL_SECTIONS.as_bytes());
    }
    std::fs::write(dir.join(format!("{name}.1")), page)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let page_name = format!("{name}-{}", sub.get_name());
        let sub_typed = format!("{typed} {}", sub.get_name());
        write_manual(sub.clone().name(page_name).bin_name(sub_typed), dir)?;
    }
    Ok(())
}

/// How a target's environment is written beside its name: production in capitals.
fn environment_mark(environment: Environment) -> &'static str {
    match environment {
        Environment::Production => "PRODUCTION",
        other => other.as_str(),
    }
}

/// Said on stderr before anything changes on `name`: which target, where, and what it
/// is, so a production host is never changed without that word on the screen.
fn announce_change(console: &Console, name: &str) -> Result<Target, Error> {
    let (target, _) = console.target_and_policy(name)?;
    let printable = shipshape_core::terminal::printable;
    eprintln!(
        "{} target {} ({})",
        environment_mark(target.environment),
        printable(&target.name),
        printable(&target.address())
    );
    Ok(target)
}

/// Asks on the terminal before a change (scripts pass `--yes`, there being no terminal
/// to ask on). Production asks for the target's name typed out, not a `y`.
fn confirm(target: &Target, question: &str) -> Result<bool, Error> {
    can_ask(question)?;
    let production = target.environment == Environment::Production;
    match production {
        true => eprint!(
            "{question} {} is production: type its name to go ahead: ",
            target.name
        ),
        false => eprint!("{question} [y/N] "),
    }
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Error::BadInput(format!("Could not read the answer: {e}")))?;
    Ok(match production {
        true => answer.trim() == target.name,
        false => matches!(answer.trim(), "y" | "Y" | "yes"),
    })
}

/// Refuses at once, before any work, a change that would have to ask on a terminal
/// there is not.
fn can_ask(what: &str) -> Result<(), Error> {
    match std::io::stdin().is_terminal() {
        true => Ok(()),
        false => Err(Error::BadInput(format!(
            "{what} Pass --yes to go ahead without a terminal to ask on."
        ))),
    }
}

/// Prints `value` as pretty JSON on stdout.
fn print_json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("core types serialize")
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn the_command_line_is_consistent_and_refuses_what_it_would_ignore() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        // A follow starts from the last --lines lines: a --since would be dropped.
        let parsed = Cli::try_parse_from(["shipshape", "logs", "a", "b", "-f", "--since", "10m"]);
        assert!(parsed.is_err());
        assert!(Cli::try_parse_from(["shipshape", "logs", "a", "b", "--since", "10m"]).is_ok());
    }
}
