//! The app's command list, read from the `#[tauri::command]` functions themselves.
//!
//! A command's name and arguments used to be typed out by hand in four places (handler
//! list, build manifest, capability file, UI client), and a slip in any one of them only
//! showed up when the UI called it. The function in `src/commands/<domain>.rs` is now the
//! only declaration: `build.rs` registers the handlers and their permissions from this
//! list, and `tests/command_list.rs` derives the capability's permissions and the UI's
//! typed client from it. It is plain Rust over `syn`, so both can include it by path.

use std::path::Path;

/// One `#[tauri::command]` function.
pub struct Command {
    /// Its module under `commands` (`targets` for `src/commands/targets.rs`).
    pub module: String,
    /// The function's name, which is also the name the UI invokes.
    pub name: String,
    /// Its doc comment, a line each.
    pub doc: Vec<String>,
    /// What the UI sends, in order; Tauri's own injections (state, app handle, window)
    /// are left out.
    pub args: Vec<Arg>,
    /// What a successful call resolves to (`Result<T, ErrorReport>` gives `T`).
    pub returns: Ty,
}

/// An argument the UI sends.
pub struct Arg {
    /// Its name in Rust.
    pub name: String,
    /// The key in the invoke payload: Tauri's camelCase of the Rust name unless the
    /// command says `rename_all = "snake_case"`.
    pub key: String,
    pub ty: Ty,
}

/// The shapes that cross IPC, as far as the client needs to know them.
#[derive(Debug, PartialEq)]
pub enum Ty {
    String,
    Number,
    Bool,
    /// `()`: the call resolves to `null`.
    Null,
    /// `serde_json::Value`.
    Unknown,
    Option(Box<Ty>),
    Vec(Box<Ty>),
    /// A type of the generated bindings, by name.
    Named(String),
    /// `tauri::ipc::Channel<T>`: messages the command pushes while it runs.
    Channel(Box<Ty>),
}

impl Command {
    /// The permission `tauri-build` generates for it.
    pub fn permission(&self) -> String {
        format!("allow-{}", self.name.replace('_', "-"))
    }
}

/// Arguments Tauri fills in itself; the UI never sends them.
const INJECTED: &[&str] = &["State", "AppHandle", "Window", "Webview", "WebviewWindow"];

/// Every command of the modules `commands_dir/mod.rs` declares, module by module in the
/// order of `mod.rs`, then in the order of each file.
pub fn scan(commands_dir: &Path) -> Result<Vec<Command>, String> {
    let mod_rs = commands_dir.join("mod.rs");
    let modules = parse_file(&mod_rs)?
        .items
        .into_iter()
        .filter_map(|item| match item {
            syn::Item::Mod(m) if m.content.is_none() => Some(m.ident.to_string()),
            _ => None,
        });
    let mut commands: Vec<Command> = Vec::new();
    for module in modules {
        let file = commands_dir.join(format!("{module}.rs"));
        let source =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        for command in
            parse_module(&module, &source).map_err(|e| format!("{}: {e}", file.display()))?
        {
            if let Some(twin) = commands.iter().find(|c| c.name == command.name) {
                return Err(format!(
                    "command `{}` is declared in both `{}` and `{}`; Tauri tells commands apart by name only",
                    command.name, twin.module, command.module
                ));
            }
            commands.push(command);
        }
    }
    Ok(commands)
}

fn parse_file(path: &Path) -> Result<syn::File, String> {
    let source = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    syn::parse_file(&source).map_err(|e| format!("{}: {e}", path.display()))
}

/// The commands of one module's source.
pub fn parse_module(module: &str, source: &str) -> Result<Vec<Command>, String> {
    let file = syn::parse_file(source).map_err(|e| e.to_string())?;
    let mut commands = Vec::new();
    for item in file.items {
        let syn::Item::Fn(function) = item else {
            continue;
        };
        let Some(attribute) = function.attrs.iter().find(|a| is_command_attribute(a)) else {
            continue;
        };
        let name = function.sig.ident.to_string();
        let command = read_command(module, &function, attribute)
            .map_err(|e| format!("command `{name}`: {e}"))?;
        commands.push(command);
    }
    Ok(commands)
}

/// `#[tauri::command]`, or `#[command]` after `use tauri::command`.
fn is_command_attribute(attribute: &syn::Attribute) -> bool {
    let segments: Vec<String> = attribute
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments == ["tauri", "command"] || segments == ["command"]
}

fn read_command(
    module: &str,
    function: &syn::ItemFn,
    attribute: &syn::Attribute,
) -> Result<Command, String> {
    let snake_case_keys = match &attribute.meta {
        syn::Meta::List(list) => {
            let options = list.tokens.to_string();
            if !options.contains("rename_all") {
                false
            } else if options.contains("\"snake_case\"") {
                true
            } else if options.contains("\"camelCase\"") {
                false
            } else {
                return Err(format!(
                    "rename_all in `{options}` is not one the client knows"
                ));
            }
        }
        _ => false,
    };
    let mut args = Vec::new();
    for input in &function.sig.inputs {
        let syn::FnArg::Typed(typed) = input else {
            return Err("a command cannot take `self`".into());
        };
        if is_injected(&typed.ty) {
            continue;
        }
        let syn::Pat::Ident(pattern) = typed.pat.as_ref() else {
            return Err("every argument needs a plain name: it is the key the UI sends".into());
        };
        let rust_name = pattern.ident.to_string();
        let ty = read_type(&typed.ty, Place::Argument)
            .map_err(|e| format!("argument `{rust_name}`: {e}"))?;
        let key = if snake_case_keys {
            rust_name.clone()
        } else {
            camel_case(&rust_name)
        };
        args.push(Arg {
            name: rust_name,
            key,
            ty,
        });
    }
    let returns = match &function.sig.output {
        syn::ReturnType::Default => Ty::Null,
        syn::ReturnType::Type(_, ty) => {
            read_type(ty, Place::Return).map_err(|e| format!("return type: {e}"))?
        }
    };
    Ok(Command {
        module: module.to_string(),
        name: function.sig.ident.to_string(),
        doc: doc_lines(&function.attrs),
        args,
        returns,
    })
}

fn is_injected(ty: &syn::Type) -> bool {
    matches!(last_segment(ty), Some(segment) if INJECTED.contains(&segment.ident.to_string().as_str()))
}

fn last_segment(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    }
}

/// Where a type stands: a channel is only an argument, a `Result` only the return type.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Argument,
    Return,
    Inner,
}

fn read_type(ty: &syn::Type, place: Place) -> Result<Ty, String> {
    match ty {
        syn::Type::Reference(reference) => read_type(&reference.elem, place),
        syn::Type::Paren(paren) => read_type(&paren.elem, place),
        syn::Type::Tuple(tuple) if tuple.elems.is_empty() => Ok(Ty::Null),
        syn::Type::Path(_) => {
            let segment = last_segment(ty).ok_or("a qualified path type is not supported")?;
            read_path_segment(segment, place)
        }
        _ => Err("only named types, references and `()` are supported".into()),
    }
}

fn read_path_segment(segment: &syn::PathSegment, place: Place) -> Result<Ty, String> {
    let name = segment.ident.to_string();
    let generics: Vec<&syn::Type> = match &segment.arguments {
        syn::PathArguments::None => Vec::new(),
        syn::PathArguments::AngleBracketed(arguments) => arguments
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect(),
        syn::PathArguments::Parenthesized(_) => return Err(format!("`{name}(..)` is not data")),
    };
    let inner = |index: usize| -> Result<Ty, String> {
        let ty = generics
            .get(index)
            .ok_or(format!("`{name}` needs its type arguments"))?;
        read_type(ty, Place::Inner)
    };
    let ty = match (name.as_str(), generics.len()) {
        ("String" | "str" | "PathBuf" | "Path" | "char", 0) => Ty::String,
        (
            "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64"
            | "i128" | "isize" | "f32" | "f64",
            0,
        ) => Ty::Number,
        ("bool", 0) => Ty::Bool,
        ("Value", 0) => Ty::Unknown,
        ("Option", 1) => Ty::Option(Box::new(inner(0)?)),
        ("Vec", 1) => Ty::Vec(Box::new(inner(0)?)),
        ("Channel", 1) if place == Place::Argument => Ty::Channel(Box::new(inner(0)?)),
        ("Channel", _) => return Err("a `Channel` is only an argument of its own".into()),
        ("Result", 2) if place == Place::Return => {
            if !matches!(last_segment(generics[1]), Some(e) if e.ident == "ErrorReport") {
                return Err("a failing command returns `Result<T, ErrorReport>`: the UI reads every failure as an ErrorReport".into());
            }
            inner(0)?
        }
        ("Result", _) => return Err("`Result` is only the whole return type".into()),
        (_, 0) if name.starts_with(char::is_uppercase) => Ty::Named(name),
        _ => {
            return Err(format!(
                "`{name}` with {} type argument(s) has no TypeScript form here; add one to command_list.rs",
                generics.len()
            ))
        }
    };
    Ok(ty)
}

/// Tauri's default key for an argument (`previous_name` is sent as `previousName`), and
/// the client's name for a command.
pub fn camel_case(snake: &str) -> String {
    let mut out = String::new();
    for (i, part) in snake.split('_').filter(|p| !p.is_empty()).enumerate() {
        if i == 0 {
            out.push_str(part);
        } else {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        }
    }
    out
}

fn doc_lines(attributes: &[syn::Attribute]) -> Vec<String> {
    attributes
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(syn::MetaNameValue {
                value:
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(text),
                        ..
                    }),
                ..
            }) => Some(text.value()),
            _ => None,
        })
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(&line)
                .trim_end()
                .to_string()
        })
        .collect()
}
