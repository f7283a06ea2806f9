//! The UI's typed client (`ui/src/lib/commands.ts`) and the window's capability
//! (`capabilities/main.json`) are derived from the `#[tauri::command]` functions and
//! committed, so a review shows what the UI may call. These tests fail when either is
//! stale; `SHIPSHAPE_BLESS=1` rewrites them.

#[path = "../command_list.rs"]
mod command_list;

use std::collections::BTreeSet;
use std::path::Path;

use command_list::{camel_case, parse_module, scan, Command, Ty};

const BLESS: &str = "SHIPSHAPE_BLESS=1 cargo test -p shipshape-app --test command_list";

const HEADER: &str = "\
// Generated from the #[tauri::command] functions in src-tauri/src/commands/ by
// src-tauri/tests/command_list.rs. Do not edit. After changing a command run:
//   SHIPSHAPE_BLESS=1 cargo test -p shipshape-app --test command_list
// Every call rejects with an ErrorReport.
";

/// Longest line before a function's argument object is written one field a line.
const WIDTH: usize = 100;

fn app_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn commands() -> Vec<Command> {
    scan(&app_dir().join("src/commands")).unwrap_or_else(|e| panic!("{e}"))
}

fn ts_type(ty: &Ty) -> String {
    match ty {
        Ty::String => "string".into(),
        Ty::Number => "number".into(),
        Ty::Bool => "boolean".into(),
        Ty::Null => "null".into(),
        Ty::Unknown => "unknown".into(),
        Ty::Option(inner) => format!("{} | null", ts_type(inner)),
        Ty::Vec(inner) if matches!(**inner, Ty::Option(_)) => format!("({})[]", ts_type(inner)),
        Ty::Vec(inner) => format!("{}[]", ts_type(inner)),
        Ty::Named(name) => name.clone(),
        Ty::Channel(message) => format!("(message: {}) => void", ts_type(message)),
    }
}

fn named_types<'a>(ty: &'a Ty, into: &mut BTreeSet<&'a str>) {
    match ty {
        Ty::Named(name) => {
            into.insert(name);
        }
        Ty::Option(inner) | Ty::Vec(inner) | Ty::Channel(inner) => named_types(inner, into),
        _ => {}
    }
}

/// The bindings' types the client names.
fn client_types(commands: &[Command]) -> BTreeSet<&str> {
    let mut types = BTreeSet::new();
    for command in commands {
        named_types(&command.returns, &mut types);
        for arg in &command.args {
            named_types(&arg.ty, &mut types);
        }
    }
    types
}

fn render_doc(doc: &[String]) -> String {
    let lines: Vec<String> = doc.iter().map(|l| l.replace("*/", "*\\/")).collect();
    match lines.as_slice() {
        [] => String::new(),
        [line] => format!("/** {line} */\n"),
        _ => {
            let body: String = lines
                .iter()
                .map(|l| format!(" *{}{l}\n", if l.is_empty() { "" } else { " " }))
                .collect();
            format!("/**\n{body} */\n")
        }
    }
}

/// `command`'s function in the client; `all` are every command, whose names its doc may
/// mention.
fn render_function(command: &Command, all: &[Command]) -> String {
    let name = camel_case(&command.name);
    let returns = ts_type(&command.returns);
    // The doc names arguments and commands as Rust does; the client's caller knows them
    // by their keys and function names.
    let renames: Vec<(String, String)> = command
        .args
        .iter()
        .map(|a| (a.name.clone(), a.key.clone()))
        .chain(all.iter().map(|c| (c.name.clone(), camel_case(&c.name))))
        .map(|(rust, client)| (format!("`{rust}`"), format!("`{client}`")))
        .collect();
    let doc: Vec<String> = command
        .doc
        .iter()
        .map(|line| {
            renames.iter().fold(line.clone(), |line, (rust, client)| {
                line.replace(rust, client)
            })
        })
        .collect();
    let mut text = render_doc(&doc);
    if command.args.is_empty() {
        text += &format!("export function {name}(): Promise<{returns}> {{\n");
        text += &format!("  return call<{returns}>(\"{}\");\n}}\n", command.name);
        return text;
    }
    let fields: Vec<String> = command
        .args
        .iter()
        .map(|a| format!("{}: {}", a.key, ts_type(&a.ty)))
        .collect();
    let one_line = format!(
        "export function {name}(args: {{ {} }}): Promise<{returns}> {{\n",
        fields.join("; ")
    );
    if one_line.len() <= WIDTH + 1 {
        text += &one_line;
    } else {
        text += &format!("export function {name}(args: {{\n");
        for field in &fields {
            text += &format!("  {field};\n");
        }
        text += &format!("}}): Promise<{returns}> {{\n");
    }
    let channels: Vec<String> = command
        .args
        .iter()
        .filter(|a| matches!(a.ty, Ty::Channel(_)))
        .map(|a| format!(", {0}: channel(args.{0})", a.key))
        .collect();
    let payload = if channels.is_empty() {
        "args".to_string()
    } else {
        format!("{{ ...args{} }}", channels.concat())
    };
    text += &format!(
        "  return call<{returns}>(\"{}\", {payload});\n}}\n",
        command.name
    );
    text
}

fn render_client(commands: &[Command]) -> String {
    let types = client_types(commands);
    let uses_channels = commands
        .iter()
        .any(|c| c.args.iter().any(|a| matches!(a.ty, Ty::Channel(_))));
    let mut text = String::from(HEADER);
    if !types.is_empty() {
        let names: Vec<&str> = types.into_iter().collect();
        let one_line = format!(
            "import type {{ {} }} from \"./bindings\";\n",
            names.join(", ")
        );
        text += &if one_line.len() <= WIDTH + 1 {
            one_line
        } else {
            let lines: String = names.iter().map(|n| format!("  {n},\n")).collect();
            format!("import type {{\n{lines}}} from \"./bindings\";\n")
        };
    }
    text += if uses_channels {
        "import { call, channel } from \"./ipc\";\n"
    } else {
        "import { call } from \"./ipc\";\n"
    };
    let mut module = "";
    for command in commands {
        if command.module != module {
            module = &command.module;
            text += &format!("\n// src-tauri/src/commands/{module}.rs\n");
        }
        text.push('\n');
        text += &render_function(command, commands);
    }
    text
}

/// The capability file with its `permissions` list rewritten; everything else as it is.
fn render_capability(committed: &str, permissions: &[String]) -> Result<String, String> {
    let key = committed
        .find("\"permissions\"")
        .ok_or("it has no \"permissions\" list")?;
    let open = key
        + committed[key..]
            .find('[')
            .ok_or("its permissions are not a list")?;
    let close = open
        + committed[open..]
            .find(']')
            .ok_or("its permissions list is not closed")?;
    let line_start = committed[..key].rfind('\n').map_or(0, |i| i + 1);
    let indent = &committed[line_start..key];
    let items: Vec<String> = permissions
        .iter()
        .map(|p| format!("{indent}  \"{p}\""))
        .collect();
    Ok(format!(
        "{}[\n{}\n{indent}]{}",
        &committed[..open],
        items.join(",\n"),
        &committed[close + 1..]
    ))
}

/// Rewrites `file` (relative to the repository) with `fresh` under `SHIPSHAPE_BLESS`,
/// else fails if it differs.
fn check_or_bless(file: &str, fresh: &str, why: &str) {
    let path = app_dir().join("..").join(file);
    if std::env::var_os("SHIPSHAPE_BLESS").is_some() {
        std::fs::write(&path, fresh).unwrap_or_else(|e| panic!("{file}: {e}"));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == fresh, "{file} is stale: {why}; run {BLESS}");
}

#[test]
fn typescript_client_is_current() {
    check_or_bless(
        "ui/src/lib/commands.ts",
        &render_client(&commands()),
        "it does not match the #[tauri::command] functions",
    );
}

/// The shape of an argument as the end-to-end bad-input sweep needs it: what kind of
/// value is right, so it can send every other kind.
fn sweep_kind(ty: &Ty) -> &'static str {
    match ty {
        Ty::String => "string",
        Ty::Number => "number",
        Ty::Bool => "bool",
        Ty::Null | Ty::Unknown => "any",
        Ty::Option(_) => "optional",
        Ty::Vec(_) => "list",
        Ty::Named(_) => "object",
        Ty::Channel(_) => "channel",
    }
}

/// Every command and its arguments' keys and kinds, for `tests/e2e/specs/bad-input`.
fn render_sweep_list(commands: &[Command]) -> String {
    let list: Vec<serde_json::Value> = commands
        .iter()
        .map(|c| {
            let args: Vec<serde_json::Value> = c
                .args
                .iter()
                .map(|a| serde_json::json!({ "key": a.key, "kind": sweep_kind(&a.ty) }))
                .collect();
            serde_json::json!({ "name": c.name, "args": args })
        })
        .collect();
    serde_json::to_string_pretty(&list).unwrap() + "\n"
}

#[test]
fn the_sweeps_command_list_is_current() {
    check_or_bless(
        "tests/e2e/commands.json",
        &render_sweep_list(&commands()),
        "the bad-input sweep would miss a command or send it the wrong keys",
    );
}

#[test]
fn capability_grants_exactly_the_commands() {
    const FILE: &str = "src-tauri/capabilities/main.json";
    let committed = std::fs::read_to_string(app_dir().join("capabilities/main.json"))
        .unwrap_or_else(|e| panic!("{FILE}: {e}"));
    let wanted: Vec<String> = commands().iter().map(Command::permission).collect();
    let fresh = render_capability(&committed, &wanted).unwrap_or_else(|e| panic!("{FILE}: {e}"));
    let parsed: serde_json::Value = serde_json::from_str(&fresh).expect("valid JSON");
    assert_eq!(
        parsed["permissions"],
        serde_json::json!(wanted),
        "rewriting the permissions list went wrong"
    );
    let granted: BTreeSet<String> = serde_json::from_str::<serde_json::Value>(&committed)
        .ok()
        .and_then(|v| serde_json::from_value(v["permissions"].clone()).ok())
        .unwrap_or_default();
    let wanted_set: BTreeSet<String> = wanted.iter().cloned().collect();
    let extra: Vec<_> = granted.difference(&wanted_set).collect();
    let missing: Vec<_> = wanted_set.difference(&granted).collect();
    let why = match (extra.is_empty(), missing.is_empty()) {
        (true, true) => "its permissions are not in the commands' order".to_string(),
        (false, true) => format!("it grants {extra:?}, which no command declares"),
        (true, false) => format!("it lacks {missing:?}"),
        (false, false) => {
            format!("it grants {extra:?}, which no command declares, and lacks {missing:?}")
        }
    };
    check_or_bless(FILE, &fresh, &why);
}

#[test]
fn every_type_the_client_names_is_in_the_bindings() {
    let bindings = std::fs::read_to_string(app_dir().join("../ui/src/lib/bindings.ts"))
        .expect("ui/src/lib/bindings.ts");
    let commands = commands();
    let absent: Vec<_> = client_types(&commands)
        .into_iter()
        .filter(|name| !bindings.contains(&format!("export type {name} ")))
        .collect();
    assert!(
        absent.is_empty(),
        "{absent:?} cross IPC but are not in ui/src/lib/bindings.ts: add them to src-tauri/core/tests/bindings.rs"
    );
}

#[test]
fn the_scanner_reads_what_the_ui_sends_and_gets() {
    let source = r#"
        use tauri::{ipc::Channel, AppHandle, State};

        /// Does a thing, then tells `on_event`; `stop_thing` ends it.
        ///
        /// In two paragraphs.
        #[tauri::command]
        pub async fn do_thing(
            app: AppHandle,
            state: State<'_, AppState>,
            run_id: u32,
            previous_name: Option<String>,
            lines: Vec<Option<&str>>,
            on_event: Channel<LogEvent>,
        ) -> Result<Vec<TargetSummary>, ErrorReport> {
            todo!()
        }

        #[tauri::command(rename_all = "snake_case")]
        pub fn stop_thing(follow_id: u32) {}

        pub fn not_a_command(x: u32) {}
    "#;
    let commands = parse_module("things", source).unwrap();
    assert_eq!(commands.len(), 2);
    let thing = &commands[0];
    assert_eq!(
        (thing.module.as_str(), thing.name.as_str()),
        ("things", "do_thing")
    );
    assert_eq!(
        thing.doc,
        [
            "Does a thing, then tells `on_event`; `stop_thing` ends it.",
            "",
            "In two paragraphs."
        ]
    );
    let keys: Vec<&str> = thing.args.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["runId", "previousName", "lines", "onEvent"]);
    assert_eq!(thing.permission(), "allow-do-thing");
    assert_eq!(
        render_function(thing, &commands),
        "/**\n * Does a thing, then tells `onEvent`; `stopThing` ends it.\n *\n * In two paragraphs.\n */\n\
         export function doThing(args: {\n  runId: number;\n  previousName: string | null;\n  \
         lines: (string | null)[];\n  onEvent: (message: LogEvent) => void;\n\
         }): Promise<TargetSummary[]> {\n  \
         return call<TargetSummary[]>(\"do_thing\", { ...args, onEvent: channel(args.onEvent) });\n}\n"
    );
    assert_eq!(
        render_function(&commands[1], &commands),
        "export function stopThing(args: { follow_id: number }): Promise<null> {\n  \
         return call<null>(\"stop_thing\", args);\n}\n"
    );
}

#[test]
fn the_scanner_refuses_what_the_client_cannot_express() {
    let refused = [
        (
            "pub fn f(x: HashMap<String, u32>) {}",
            "`HashMap` with 2 type argument(s)",
        ),
        (
            "pub fn f() -> Result<u32, String> { Ok(1) }",
            "Result<T, ErrorReport>",
        ),
        (
            "pub fn f(x: Option<Channel<String>>) {}",
            "only an argument of its own",
        ),
        ("pub fn f((a, b): (u32, u32)) {}", "plain name"),
    ];
    for (function, reason) in refused {
        let source = format!("#[tauri::command]\n{function}");
        let error = parse_module("m", &source).err().unwrap_or_default();
        assert!(
            error.contains("command `f`") && error.contains(reason),
            "{function}: {error}"
        );
    }
}
