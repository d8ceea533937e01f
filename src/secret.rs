//! A secret string (become password, key passphrase) that never prints itself.

use std::fmt;

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
        f.write_str("********")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}
