//! The values of an INI inventory as Ansible types them: its INI plugin hands every value to
//! Python's `ast.literal_eval` and keeps the text when that fails. So `80` is a number, `True` a
//! boolean, `None` null, `[1, 2]` a list, `"a b"` a string without its quotes, and `yes`, `0644`
//! or `hello world` stay the strings they are written as.
//!
//! No maintained crate evaluates Python literals (parsers of all of Python, such as
//! RustPython's, are far heavier than this grammar): this is the grammar of `literal_eval` on
//! one line: numbers (with `_`, `0x`/`0o`/`0b`, exponents), strings with their prefixes,
//! escapes and implicit concatenation, `True`/`False`/`None`, lists, tuples, sets, dicts,
//! unary signs and `#` comments. What it cannot read is handed back as `None`, and the caller
//! keeps the text, exactly as Ansible does. Complex numbers and integers past 64 bits, which
//! Ansible turns into strings of Python's own spelling, are kept as written.

use serde_json::{Map, Number, Value};

/// The most nested lists and dicts a value may hold: Python's own parser stops near 200, and
/// no inventory value comes close.
const MAX_DEPTH: usize = 100;

/// `text` as `ast.literal_eval` reads it, or `None` when it is not a Python literal.
pub(crate) fn eval(text: &str) -> Option<Value> {
    // literal_eval strips leading blanks (not trailing ones, which the tokenizer ignores).
    let mut parser = Parser {
        chars: text.trim_start_matches([' ', '\t']).chars().collect(),
        at: 0,
        depth: 0,
    };
    let value = parser.expression()?;
    parser.blank();
    (parser.at == parser.chars.len()).then_some(value)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.at + offset).copied()
    }

    /// Skips blanks and a comment to the end of the line.
    fn blank(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\x0c' => self.at += 1,
                '#' => self.at = self.chars.len(),
                _ => break,
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.blank();
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expression(&mut self) -> Option<Value> {
        self.blank();
        match self.peek()? {
            '+' | '-' => {
                let negative = self.peek() == Some('-');
                self.at += 1;
                // Only a number may follow a sign (literal_eval refuses `-"a"` and `-[1]`).
                match self.expression()? {
                    Value::Number(n) if negative => negate(&n),
                    Value::Number(n) => Some(Value::Number(n)),
                    _ => None,
                }
            }
            '[' => self.sequence(']'),
            '(' => self.sequence(')'),
            '{' => self.braces(),
            c if c.is_ascii_digit()
                || (c == '.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                self.number()
            }
            '.' if self.peek_at(1) == Some('.') && self.peek_at(2) == Some('.') => {
                self.at += 3;
                Some(Value::String("...".to_owned()))
            }
            '\'' | '"' => self.strings(),
            c if c.is_alphabetic() || c == '_' => self.name(),
            _ => None,
        }
    }

    /// A name: a string prefix (`r'..'`, `b".."`), or True, False, None.
    fn name(&mut self) -> Option<Value> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.at += 1;
        }
        let word: String = self.chars[start..self.at].iter().collect();
        if matches!(self.peek(), Some('\'' | '"')) && is_string_prefix(&word) {
            self.at = start;
            return self.strings();
        }
        match word.as_str() {
            "True" => Some(Value::Bool(true)),
            "False" => Some(Value::Bool(false)),
            "None" => Some(Value::Null),
            _ => None,
        }
    }

    /// One or more adjacent string literals, concatenated as Python does.
    fn strings(&mut self) -> Option<Value> {
        let mut text = String::new();
        let mut kind = None;
        loop {
            self.blank();
            let start = self.at;
            while self.peek().is_some_and(char::is_alphabetic) {
                self.at += 1;
            }
            let prefix: String = self.chars[start..self.at].iter().collect();
            if !matches!(self.peek(), Some('\'' | '"')) || !is_string_prefix(&prefix) {
                self.at = start;
                break;
            }
            let lower = prefix.to_ascii_lowercase();
            // Bytes and text do not concatenate (a SyntaxError in Python).
            let bytes = lower.contains('b');
            if kind.replace(bytes).is_some_and(|was| was != bytes) {
                return None;
            }
            text.push_str(&self.string_body(lower.contains('r'))?);
        }
        kind.map(|_| Value::String(text))
    }

    fn string_body(&mut self, raw: bool) -> Option<String> {
        let quote = self.peek()?;
        let triple = self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote);
        self.at += if triple { 3 } else { 1 };
        let mut text = String::new();
        loop {
            let c = self.peek()?;
            if c == quote
                && (!triple || (self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote)))
            {
                self.at += if triple { 3 } else { 1 };
                return Some(text);
            }
            self.at += 1;
            if c != '\\' {
                text.push(c);
                continue;
            }
            let next = self.peek()?;
            self.at += 1;
            if raw {
                text.push('\\');
                text.push(next);
                continue;
            }
            match next {
                '\\' | '\'' | '"' => text.push(next),
                'n' => text.push('\n'),
                't' => text.push('\t'),
                'r' => text.push('\r'),
                'a' => text.push('\x07'),
                'b' => text.push('\x08'),
                'f' => text.push('\x0c'),
                'v' => text.push('\x0b'),
                'x' => text.push(self.hex_escape(2)?),
                'u' => text.push(self.hex_escape(4)?),
                'U' => text.push(self.hex_escape(8)?),
                '0'..='7' => {
                    let mut code = next.to_digit(8)?;
                    for _ in 0..2 {
                        match self.peek().and_then(|d| d.to_digit(8)) {
                            Some(d) => {
                                code = code * 8 + d;
                                self.at += 1;
                            }
                            None => break,
                        }
                    }
                    text.push(char::from_u32(code)?);
                }
                // \N{NAME} needs Unicode's name table: not a literal this reads.
                'N' => return None,
                // Python keeps an unknown escape as it is written.
                other => {
                    text.push('\\');
                    text.push(other);
                }
            }
        }
    }

    fn hex_escape(&mut self, digits: usize) -> Option<char> {
        let hex: String = self.chars.get(self.at..self.at + digits)?.iter().collect();
        self.at += digits;
        char::from_u32(u32::from_str_radix(&hex, 16).ok()?)
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            || (matches!(self.peek(), Some('+' | '-'))
                && matches!(self.chars.get(self.at - 1), Some('e' | 'E'))
                && !self.chars[start..self.at]
                    .iter()
                    .any(|c| matches!(c, 'x' | 'X')))
        {
            self.at += 1;
        }
        let written: String = self.chars[start..self.at].iter().collect();
        number(&written).map(Value::Number)
    }

    /// `[...]` or `(...)`: a list (a tuple becomes one, as Ansible makes it).
    fn sequence(&mut self, close: char) -> Option<Value> {
        self.at += 1;
        self.enter()?;
        let mut items = Vec::new();
        let mut commas = 0;
        loop {
            if self.eat(close) {
                break;
            }
            items.push(self.expression()?);
            if self.eat(',') {
                commas += 1;
                continue;
            }
            if !self.eat(close) {
                return None;
            }
            break;
        }
        self.depth -= 1;
        // `(1)` is the number 1, `(1,)` a tuple.
        if close == ')' && items.len() == 1 && commas == 0 {
            return items.pop();
        }
        Some(Value::Array(items))
    }

    /// `{...}`: a dict, or a set (a list, in the order written).
    fn braces(&mut self) -> Option<Value> {
        self.at += 1;
        self.enter()?;
        if self.eat('}') {
            self.depth -= 1;
            return Some(Value::Object(Map::new()));
        }
        let first = self.expression()?;
        let value = if self.eat(':') {
            let mut map = Map::new();
            let value = self.expression()?;
            map.insert(key(&first)?, value);
            while self.eat(',') {
                if self.eat('}') {
                    self.depth -= 1;
                    return Some(Value::Object(map));
                }
                let k = self.expression()?;
                if !self.eat(':') {
                    return None;
                }
                let v = self.expression()?;
                map.insert(key(&k)?, v);
            }
            Value::Object(map)
        } else {
            let mut items = vec![first];
            while self.eat(',') {
                if self.eat('}') {
                    self.depth -= 1;
                    return Some(dedup(items));
                }
                items.push(self.expression()?);
            }
            dedup(items)
        };
        if !self.eat('}') {
            return None;
        }
        self.depth -= 1;
        Some(value)
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }
}

fn is_string_prefix(prefix: &str) -> bool {
    matches!(
        prefix.to_ascii_lowercase().as_str(),
        "" | "r" | "u" | "b" | "br" | "rb"
    )
}

/// A set's members once each (a list or a dict in a set is a TypeError in Python).
fn dedup(items: Vec<Value>) -> Value {
    let mut unique: Vec<Value> = Vec::new();
    for item in items {
        if !unique.contains(&item) {
            unique.push(item);
        }
    }
    Value::Array(unique)
}

/// A dict key as JSON writes it (Ansible's JSON turns a number key into its text).
fn key(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("null".to_owned()),
        // Unhashable in Python: not a literal.
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn negate(n: &Number) -> Option<Value> {
    if let Some(i) = n.as_i64() {
        return i.checked_neg().map(|i| Value::Number(i.into()));
    }
    if n.is_u64() {
        // -9223372036854775808 is the only u64 whose negation fits.
        return (n.as_u64() == Some(1 << 63)).then(|| Value::Number(i64::MIN.into()));
    }
    Number::from_f64(-n.as_f64()?).map(Value::Number)
}

/// A Python number literal. Complex numbers (`1j`) and integers past 64 bits are not read.
fn number(written: &str) -> Option<Number> {
    let lower = written.to_ascii_lowercase();
    if lower.ends_with('j')
        || lower.starts_with('_')
        || lower.ends_with('_')
        || lower.contains("__")
    {
        return None;
    }
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(digits) = lower.strip_prefix(prefix) {
            let digits = digits.strip_prefix('_').unwrap_or(digits).replace('_', "");
            return u64::from_str_radix(&digits, radix).ok().map(Number::from);
        }
    }
    let plain = lower.replace('_', "");
    let is_float = plain.contains(['.', 'e']);
    if !is_float {
        // A decimal integer has no leading zero, except zero itself (`00`).
        if plain.len() > 1 && plain.starts_with('0') && plain.chars().any(|c| c != '0') {
            return None;
        }
        if !plain.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        return plain.parse::<u64>().ok().map(Number::from);
    }
    // Python's float grammar: digits, one point, an exponent; nothing else.
    let (mantissa, exponent) = match plain.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (plain.as_str(), None),
    };
    let mantissa_ok = !mantissa.is_empty()
        && mantissa != "."
        && mantissa.chars().filter(|c| *c == '.').count() <= 1
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.');
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
        !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
    });
    if !mantissa_ok || !exponent_ok {
        return None;
    }
    plain.parse::<f64>().ok().and_then(Number::from_f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_as_python_reads_them() {
        assert_eq!(eval("80"), Some(json!(80)));
        assert_eq!(eval("-3"), Some(json!(-3)));
        assert_eq!(eval("1_000"), Some(json!(1000)));
        assert_eq!(eval("0x1F"), Some(json!(31)));
        assert_eq!(eval("0o644"), Some(json!(420)));
        assert_eq!(eval("1.5"), Some(json!(1.5)));
        assert_eq!(eval("2e3"), Some(json!(2000.0)));
        assert_eq!(eval(".5"), Some(json!(0.5)));
        assert_eq!(eval("00"), Some(json!(0)));
        // A leading zero is a SyntaxError in Python 3: the text stays.
        assert_eq!(eval("0644"), None);
        assert_eq!(eval("1j"), None);
        assert_eq!(eval("1.2.3"), None);
        assert_eq!(eval("10.0.0.1"), None);
    }

    #[test]
    fn constants_strings_and_what_stays_text() {
        assert_eq!(eval("True"), Some(json!(true)));
        assert_eq!(eval("None"), Some(json!(null)));
        assert_eq!(eval("yes"), None);
        assert_eq!(eval("true"), None);
        assert_eq!(eval("'single'"), Some(json!("single")));
        assert_eq!(eval(r#""a\tb\x41\u00e9""#), Some(json!("a\tbAé")));
        assert_eq!(eval(r"r'\d+'"), Some(json!(r"\d+")));
        assert_eq!(eval("'a' \"b\""), Some(json!("ab")));
        assert_eq!(eval("'''x'y'''"), Some(json!("x'y")));
        assert_eq!(eval("hello world"), None);
        assert_eq!(eval("'open"), None);
        assert_eq!(eval("..."), Some(json!("...")));
    }

    #[test]
    fn containers_comments_and_blanks() {
        assert_eq!(eval("[1, 'a', [True]]"), Some(json!([1, "a", [true]])));
        assert_eq!(eval("(1, 2)"), Some(json!([1, 2])));
        assert_eq!(eval("(1)"), Some(json!(1)));
        assert_eq!(eval("(1,)"), Some(json!([1])));
        assert_eq!(eval("{'a': 1, 2: [3],}"), Some(json!({"a": 1, "2": [3]})));
        assert_eq!(eval("{1, 2, 1}"), Some(json!([1, 2])));
        assert_eq!(eval("{}"), Some(json!({})));
        assert_eq!(eval("  1 # a comment"), Some(json!(1)));
        assert_eq!(eval("{x:1}"), None);
        assert_eq!(eval("[1, 2"), None);
        assert_eq!(eval("-'a'"), None);
        assert_eq!(eval(""), None);
        assert_eq!(eval(&"[".repeat(1000)), None);
    }
}
