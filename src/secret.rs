//! A secret string (become password, key passphrase, the medulla password) that never prints
//! itself, and the masking of text that may hold one.

use std::fmt;

/// What a secret, or a word of it, becomes in any text shown.
pub const MASK: &str = "********";

/// A word of a secret shorter than this is not masked on its own: "a", "of" or "the" would
/// blank out every message, and no guess gains much from them.
const MASKED_WORD_MIN: usize = 4;

/// Holds a secret; `Debug` and `Display` show `********`, so it cannot leak into logs or JSON by
/// accident. The only way out is [`Secret::expose`], used where the secret is sent over stdin.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// Two secrets are equal when their texts are (a host's connection is compared whole).
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Secret {}

/// Serialised as the mask, like every other way out of it.
impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// `text` with every secret of `secrets` replaced by [`MASK`].
pub fn mask(text: &str, secrets: &[Secret]) -> String {
    let mut pieces: Vec<&str> = secrets
        .iter()
        .map(Secret::expose)
        .filter(|s| !s.is_empty())
        .collect();
    replace_longest_first(text, &mut pieces)
}

/// [`mask`], and every word of a secret of several words too, for text that a host printed: a
/// tool that splits its input on blanks (the shell's `read`, `head -c`) quotes a secret a word at
/// a time, as a passphrase sent where sudo did not ask for it once showed. Not for relayctl's
/// own words: a passphrase of common words would blank them out.
pub fn mask_words(text: &str, secrets: &[Secret]) -> String {
    let mut pieces: Vec<&str> = Vec::new();
    for whole in secrets.iter().map(Secret::expose).filter(|s| !s.is_empty()) {
        pieces.push(whole);
        pieces.extend(
            whole
                .split_whitespace()
                .filter(|word| word.chars().count() >= MASKED_WORD_MIN && *word != whole),
        );
    }
    replace_longest_first(text, &mut pieces)
}

/// The longest first: a word must not break up the whole secret before it is found.
fn replace_longest_first(text: &str, pieces: &mut Vec<&str>) -> String {
    pieces.sort_by_key(|piece| std::cmp::Reverse(piece.len()));
    pieces
        .iter()
        .fold(text.to_string(), |text, piece| text.replace(piece, MASK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_masked_and_in_a_hosts_text_each_of_its_words_too() {
        let secrets = [Secret::new("quokka zeppelin of marmalade".into())];
        assert_eq!(
            mask("set the quokka zeppelin of marmalade; not quokka", &secrets),
            "set the ********; not quokka"
        );
        assert_eq!(
            mask_words(
                "pw quokka zeppelin of marmalade; head: invalid number: 'zeppelin'; of course",
                &secrets
            ),
            "pw ********; head: invalid number: '********'; of course"
        );
        assert_eq!(
            mask(
                "pw is hunter2, again hunter2",
                &[Secret::new("hunter2".into())]
            ),
            "pw is ********, again ********"
        );
        assert_eq!(
            mask("nothing to hide", &[Secret::new(String::new())]),
            "nothing to hide"
        );
    }

    #[test]
    fn a_secret_serialises_as_the_mask() {
        let json = serde_json::to_string(&Secret::new("hunter2".into())).expect("json");
        assert_eq!(json, format!("\"{MASK}\""));
    }
}
