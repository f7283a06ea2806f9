//! The policy's operations on a target.

use shipshape_core::{Console, Error};

pub async fn ps(console: &Console, name: &str, json: bool) -> Result<(), Error> {
    let report = console.service_status(name).await?;
    if json {
        crate::print_json(&report);
    } else {
        eprintln!("$ {}", report.command);
        for s in &report.services {
            let state = serde_json::to_value(s.state).expect("states serialize");
            println!(
                "{:<20} {:<10} {}",
                s.service,
                state.as_str().unwrap_or("?"),
                s.status
            );
        }
    }
    Ok(())
}
