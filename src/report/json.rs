//! The JSON output: the [`RunReport`] as one document, for pipelines. Field names are a stable
//! interface (documented in the README); add fields, never rename them.

use super::RunReport;

pub fn render(report: &RunReport) -> String {
    // Serialising plain data with string keys cannot fail.
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
