//! Passwords relayctl makes up, when the operator gave none and the password file is missing.

use crate::modules::ArgError;
use crate::secret::Secret;

/// Generated passwords: 24 characters from an alphabet without look-alikes (no 0/O, 1/l/I),
/// about 138 bits, typed by hand without doubt when SIVEO needs it.
const GENERATED_LENGTH: usize = 24;
const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

pub(super) fn generate_password() -> Result<Secret, ArgError> {
    let mut password = String::with_capacity(GENERATED_LENGTH);
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - 256 % ALPHABET.len();
    while password.len() < GENERATED_LENGTH {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes).map_err(|e| {
            ArgError::new(
                "password_file",
                format!("no randomness to generate a password: {e}"),
            )
        })?;
        for b in bytes {
            if (b as usize) < limit && password.len() < GENERATED_LENGTH {
                password.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(Secret::new(password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_use_the_alphabet_and_differ() {
        let a = generate_password().expect("random");
        let b = generate_password().expect("random");
        assert_eq!(a.expose().len(), GENERATED_LENGTH);
        assert!(a.expose().bytes().all(|c| ALPHABET.contains(&c)));
        assert_ne!(a.expose(), b.expose());
    }
}
