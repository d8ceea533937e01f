//! Text from an operator or a role that will land in a file, a script, a sudoers rule or a report:
//! which characters it may not carry. A carriage return ends a line for systemd, a NUL ends a C
//! string, an escape sequence steers the operator's terminal, U+0085 and U+2028 end lines for
//! some readers: any of them can forge a line that was never written.

/// The first character of `line` that could end a line or steer a terminal: the ASCII controls
/// (NUL, TAB, LF, CR, ESC ...), DEL, the C1 controls (U+0080 to U+009F, NEL among them) and
/// Unicode's line and paragraph separators.
pub fn forbidden_in_line(line: &str) -> Option<char> {
    line.chars().find(|&c| is_forbidden(c))
}

/// The same for a text of several lines: a newline (and a tab) may stand in it, nothing else.
pub fn forbidden_in_text(text: &str) -> Option<char> {
    text.chars()
        .find(|&c| c != '\n' && c != '\t' && is_forbidden(c))
}

fn is_forbidden(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// `text` made one line a terminal shows as it is: each character [`forbidden_in_line`] would
/// find is written as Rust escapes it (`\u{1b}`, `\n`), so that a name or a value quoted in an
/// error can neither forge another line nor steer the terminal.
pub fn escaped(text: &str) -> std::borrow::Cow<'_, str> {
    if forbidden_in_line(text).is_none() {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if is_forbidden(c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// How a refused character is named in an error: `U+000D (carriage return)`.
pub fn describe(c: char) -> String {
    let name = match c {
        '\0' => " (NUL)",
        '\t' => " (tab)",
        '\n' => " (newline)",
        '\r' => " (carriage return)",
        '\u{1b}' => " (escape)",
        '\u{7f}' => " (delete)",
        '\u{85}' => " (next line)",
        '\u{2028}' => " (line separator)",
        '\u{2029}' => " (paragraph separator)",
        _ => "",
    };
    format!("U+{:04X}{name}", u32::from(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_that_ends_a_line_or_steers_a_terminal_is_found() {
        for c in [
            '\0', '\t', '\n', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{2028}',
        ] {
            assert_eq!(forbidden_in_line(&format!("31541{c}x")), Some(c), "{c:?}");
        }
        assert_eq!(forbidden_in_line("relay-01.example.com ünïcode"), None);
        assert_eq!(forbidden_in_text("line one\n\tline two\n"), None);
        assert_eq!(forbidden_in_text("a\r\nb"), Some('\r'));
        assert_eq!(describe('\r'), "U+000D (carriage return)");
        assert_eq!(describe('\u{85}'), "U+0085 (next line)");
    }

    #[test]
    fn an_escaped_text_is_one_line_without_control_characters() {
        assert_eq!(escaped("relay-01 ünïcode"), "relay-01 ünïcode");
        assert_eq!(
            escaped("relay\u{1b}[31m\r\nx\u{85}\u{2028}"),
            "relay\\u{1b}[31m\\r\\nx\\u{85}\\u{2028}"
        );
    }
}
