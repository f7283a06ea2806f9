//! Each operation's exact command, and what is refused before one is built.

mod render;
mod validation;

use super::*;
use crate::policy::Policy;
use crate::ErrorCode;

const DIR: &str = "/home/ubuntu/automated-trading-platform";
const CD: &str = "cd /home/ubuntu/automated-trading-platform && ";

fn v2(operation: Operation) -> String {
    operation
        .command(&Policy::builtin(), DIR, Compose::V2)
        .render()
}

fn v1(operation: Operation) -> String {
    operation
        .command(&Policy::builtin(), DIR, Compose::V1)
        .render()
}

fn service(name: &str) -> Option<String> {
    Some(name.to_string())
}

fn host() -> HostFacts {
    HostFacts {
        compose: Compose::V2,
        services: crate::policy::SERVICES.map(String::from).to_vec(),
        migrations: vec!["scripts/apply_migration_previous_price.py".into()],
    }
}

fn bad_input(result: crate::Result<()>) -> String {
    let error = result.unwrap_err();
    assert_eq!(error.code(), ErrorCode::BadInput, "{error}");
    error.to_string()
}
