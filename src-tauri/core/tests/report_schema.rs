//! The JSON report's schema is generated from the Rust types and committed, so readers
//! of reports validate them without Shipshape. This test fails when the committed file is
//! stale; `SHIPSHAPE_BLESS=1` rewrites it.

use std::path::PathBuf;

#[test]
fn the_committed_report_schema_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas/shipshape.report.v1.schema.json");
    let generated = shipshape_core::report::json_schema();
    if std::env::var_os("SHIPSHAPE_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run SHIPSHAPE_BLESS=1 cargo test -p shipshape-core --test report_schema",
        path.display()
    );
}
