//! POSIX sh: a value as one word of a script. Every value relayctl puts into a script it sends
//! to a host goes through [`quote`], whoever builds the script (the SSH layer's sudo wrapper, the
//! modules, the flow checks, the `quote` filter of templates).

/// Quotes `text` as one POSIX shell word: single quotes, each `'` written `'\''`.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
