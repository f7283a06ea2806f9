//! Reports in the formats people read: Markdown (renders on GitHub and in any viewer),
//! self-contained HTML, and PDF; JSON comes from the core's model itself. A crate of its
//! own so the template engine, the PDF writer and the fonts stay out of the core.
//!
//! [`export`] is the one call adapters make: it renders the verification's report in the
//! format the file's extension names, writes it, signs it if asked and records it.

mod deploy;
mod html;
mod inert;
pub mod markdown;
mod pdf;
mod words;

#[cfg(test)]
mod tests;

use std::path::Path;

use shipshape_core::console::ReportExport;
use shipshape_core::report::{Report, ReportFormat};
use shipshape_core::{Console, Error, Result};

/// The report in `format`, as bytes.
pub fn render(report: &Report, format: ReportFormat) -> Result<Vec<u8>> {
    Ok(match format {
        ReportFormat::Markdown => markdown::render(report).into_bytes(),
        ReportFormat::Html => html::render(report).into_bytes(),
        ReportFormat::Json => report.to_json().into_bytes(),
        // A local failure (exit 1), not the SSH error it was once called.
        ReportFormat::Pdf => pdf::render(report).map_err(|cause| Error::Storage {
            path: "the PDF report".into(),
            cause,
        })?,
    })
}

/// Writes the report of verification `record_id` to `path` (format from its
/// extension), signed with the key `sign_with` if given, and records the export.
pub async fn export(
    console: &Console,
    record_id: &str,
    path: &Path,
    sign_with: Option<&str>,
) -> Result<ReportExport> {
    let format = ReportFormat::from_path(path)?;
    let report = console.report(record_id)?;
    let bytes = render(&report, format)?;
    console
        .save_report(&report, format, path, &bytes, sign_with)
        .await
}
