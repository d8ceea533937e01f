//! Ansible Vault: the vault passwords a run is given, and the decryption of what they open,
//! whole vars or inventory files and inline `!vault` values alike.
//!
//! The format is ansible-core's (`ansible/parsing/vault`): a header line
//! `$ANSIBLE_VAULT;1.1;AES256` (1.2 adds `;LABEL`, the vault id), then hex lines that hold, hex
//! again, the salt, the HMAC and the ciphertext, one per line. The key is PBKDF2-HMAC-SHA256 of
//! the password and the salt (10 000 rounds, 80 bytes: the AES-256 key, the HMAC-SHA256 key
//! and the CTR mode's initial counter); the HMAC of the ciphertext is checked before anything is
//! decrypted, then AES-256-CTR and PKCS#7 padding. RustCrypto's maintained crates do the
//! cryptography (`aes`, `ctr`, `hmac`, `pbkdf2`); only the framing is written here.
//!
//! Passwords come as with Ansible: `--vault-password-file FILE` (repeatable; an executable file
//! is run and its output is the password, as Ansible's password scripts are),
//! `--vault-id [LABEL@]FILE|prompt`, `--ask-vault-pass`, else the file that
//! `ANSIBLE_VAULT_PASSWORD_FILE` names. A value labelled with a vault id is tried first with the
//! password of that label, then with every other one, as Ansible does. Passwords and what they
//! decrypt are [`Secret`]s: never printed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use aes::cipher::{KeyIvInit, StreamCipher};
use hmac::{KeyInit, Mac};

use crate::input::files;
use crate::secret::Secret;

/// What every vault text starts with.
pub(crate) const HEADER: &str = "$ANSIBLE_VAULT;";

/// The environment variable Ansible reads a vault password file from.
pub const PASSWORD_FILE_ENV: &str = "ANSIBLE_VAULT_PASSWORD_FILE";

const ROUNDS: u32 = 10_000;

/// A vault password file holds one line: a KiB is ample, and the bound keeps `/dev/zero` out.
const PASSWORD_FILE: files::Limit = files::Limit {
    bytes: 64 << 10,
    kind: "a vault password file",
};

/// The most vault texts one run decrypts. Each costs 10 000 rounds of PBKDF2 per password
/// tried (about 100 ms each in a debug build, measured): an inventory keeps a few dozen secrets, and the
/// bound keeps one of 100 000 vault values from taking the controller's CPU for minutes.
pub(crate) const MAX_TEXTS: usize = 1_000;

/// The vault passwords of a run, each with its vault id (`None`: Ansible's `default`).
#[derive(Debug, Default)]
pub struct VaultSecrets {
    passwords: Vec<(Option<String>, Secret)>,
    /// Vault texts decrypted so far (see [`MAX_TEXTS`]).
    opened: AtomicUsize,
}

impl Clone for VaultSecrets {
    fn clone(&self) -> Self {
        VaultSecrets {
            passwords: self.passwords.clone(),
            opened: AtomicUsize::new(self.opened.load(Ordering::Relaxed)),
        }
    }
}

/// Where to find the vault passwords (the command line's options).
#[derive(Clone, Debug, Default)]
pub struct VaultSources {
    /// `--vault-password-file`, in order.
    pub password_files: Vec<PathBuf>,
    /// `--vault-id`, in order: `LABEL@FILE`, `LABEL@prompt`, `FILE` or `prompt`.
    pub ids: Vec<String>,
    /// `--ask-vault-pass`.
    pub ask: bool,
}

impl VaultSecrets {
    /// The passwords these sources give; `ANSIBLE_VAULT_PASSWORD_FILE` when they name none.
    ///
    /// # Errors
    /// A password file that cannot be read (or run), or is empty; a prompt that failed.
    pub fn gather(sources: &VaultSources) -> Result<Self, String> {
        let mut passwords = Vec::new();
        for file in &sources.password_files {
            passwords.push((None, read_password_file(file)?));
        }
        for id in &sources.ids {
            let (label, source) = match id.split_once('@') {
                Some((label, source)) => (Some(label.to_owned()), source),
                None => (None, id.as_str()),
            };
            let secret = if source == "prompt" {
                prompt(label.as_deref())?
            } else {
                read_password_file(Path::new(source))?
            };
            passwords.push((label, secret));
        }
        if sources.ask {
            passwords.push((None, prompt(None)?));
        }
        if passwords.is_empty()
            && let Some(file) = std::env::var_os(PASSWORD_FILE_ENV).filter(|f| !f.is_empty())
        {
            passwords.push((None, read_password_file(Path::new(&file))?));
        }
        Ok(VaultSecrets {
            passwords,
            ..VaultSecrets::default()
        })
    }

    /// One password without a vault id (tests, and callers that already hold it).
    pub fn with_password(password: &str) -> Self {
        VaultSecrets {
            passwords: vec![(None, Secret::new(password.to_owned()))],
            ..VaultSecrets::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.passwords.is_empty()
    }

    /// The text a vault text holds.
    ///
    /// # Errors
    /// No password given, a malformed text, or no password that opens it (each message says
    /// which, never a password).
    pub(crate) fn decrypt(&self, vault_text: &str) -> Result<Secret, String> {
        let envelope = Envelope::parse(vault_text)?;
        if self.opened.fetch_add(1, Ordering::Relaxed) >= MAX_TEXTS {
            return Err(format!(
                "the inventory holds more than {MAX_TEXTS} vault texts, more than relayctl decrypts in one run"
            ));
        }
        if self.passwords.is_empty() {
            return Err(
                "this is encrypted with Ansible Vault and no vault password was given: use --vault-password-file, \
                 --vault-id, --ask-vault-pass or ANSIBLE_VAULT_PASSWORD_FILE"
                    .to_owned(),
            );
        }
        // The password of the text's own vault id first, as Ansible tries them.
        let mut order: Vec<&(Option<String>, Secret)> = self
            .passwords
            .iter()
            .filter(|(label, _)| envelope.label.is_some() && *label == envelope.label)
            .collect();
        order.extend(
            self.passwords
                .iter()
                .filter(|(label, _)| envelope.label.is_none() || *label != envelope.label),
        );
        for (_, password) in order {
            if let Some(plain) = envelope.open(password.expose().as_bytes()) {
                let text = String::from_utf8(plain)
                    .map_err(|_| "the decrypted vault text is not UTF-8".to_owned())?;
                return Ok(Secret::new(text));
            }
        }
        let which = match &envelope.label {
            Some(label) => format!(" (vault id {label:?})"),
            None => String::new(),
        };
        Err(format!(
            "no vault password given opens this vault text{which}: check the vault password"
        ))
    }
}

/// Whether a text is a vault text (a file or a value).
pub(crate) fn is_vault(text: &str) -> bool {
    text.trim_start().starts_with(HEADER)
}

/// A vault text, taken apart.
struct Envelope {
    label: Option<String>,
    salt: Vec<u8>,
    mac: Vec<u8>,
    ciphertext: Vec<u8>,
}

impl Envelope {
    fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (header, body) = text.split_once('\n').unwrap_or((text, ""));
        let fields: Vec<&str> = header.trim().split(';').collect();
        let label = match fields.as_slice() {
            ["$ANSIBLE_VAULT", "1.1", cipher] => {
                check_cipher(cipher)?;
                None
            }
            ["$ANSIBLE_VAULT", "1.2", cipher, label] => {
                check_cipher(cipher)?;
                Some((*label).to_owned())
            }
            ["$ANSIBLE_VAULT", version, ..] => {
                return Err(format!(
                    "vault format {version:?} is not one relayctl reads (1.1 and 1.2, as ansible-core 2.19 writes them)"
                ));
            }
            _ => {
                return Err(format!(
                    "a vault text starts with {HEADER}1.1;AES256 or 1.2"
                ));
            }
        };
        let hex: String = body.split_whitespace().collect();
        let inner = unhex(&hex).ok_or("the vault text is not hexadecimal")?;
        let inner = String::from_utf8(inner).map_err(|_| "the vault text is malformed")?;
        let mut parts = inner.split('\n');
        let mut next = |what: &str| {
            parts
                .next()
                .and_then(unhex)
                .ok_or_else(|| format!("the vault text's {what} is malformed"))
        };
        Ok(Envelope {
            label,
            salt: next("salt")?,
            mac: next("HMAC")?,
            ciphertext: next("ciphertext")?,
        })
    }

    /// The plaintext, if `password` is the one: the HMAC is checked before any decryption.
    fn open(&self, password: &[u8]) -> Option<Vec<u8>> {
        let mut derived = [0u8; 80];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, &self.salt, ROUNDS, &mut derived);
        let (cipher_key, rest) = derived.split_at(32);
        let (mac_key, iv) = rest.split_at(32);
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(mac_key).ok()?;
        mac.update(&self.ciphertext);
        mac.verify_slice(&self.mac).ok()?;
        let mut plain = self.ciphertext.clone();
        let mut cipher = ctr::Ctr128BE::<aes::Aes256>::new_from_slices(cipher_key, iv).ok()?;
        cipher.apply_keystream(&mut plain);
        // PKCS#7: the last byte says how many bytes of padding there are, each of that value.
        let pad = usize::from(*plain.last()?);
        if pad == 0 || pad > 16 || pad > plain.len() {
            return None;
        }
        if plain[plain.len() - pad..]
            .iter()
            .any(|b| usize::from(*b) != pad)
        {
            return None;
        }
        plain.truncate(plain.len() - pad);
        Some(plain)
    }
}

fn check_cipher(cipher: &str) -> Result<(), String> {
    if cipher == "AES256" {
        Ok(())
    } else {
        Err(format!(
            "vault cipher {cipher:?} is not one relayctl reads (AES256, the only one ansible-core writes)"
        ))
    }
}

fn unhex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A password file's first line; an executable file is run (no argument, as Ansible runs a
/// password script) and its output's first line is the password.
fn read_password_file(path: &Path) -> Result<Secret, String> {
    use std::os::unix::fs::PermissionsExt;
    let name = path.display();
    let metadata =
        std::fs::metadata(path).map_err(|e| format!("vault password file {name}: {e}"))?;
    let text = if metadata.is_file() && metadata.permissions().mode() & 0o111 != 0 {
        let output = std::process::Command::new(path)
            .stdin(std::process::Stdio::inherit())
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| format!("vault password script {name}: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "vault password script {name} failed ({})",
                output.status
            ));
        }
        String::from_utf8(output.stdout)
            .map_err(|_| format!("vault password script {name}: its output is not UTF-8"))?
    } else {
        files::read_text(path, PASSWORD_FILE)
            .map_err(|e| format!("vault password file {name}: {e}"))?
    };
    // Ansible strips the whole text (a trailing newline is never part of the password).
    let password = text.trim();
    if password.is_empty() {
        return Err(format!("vault password file {name} is empty"));
    }
    Ok(Secret::new(password.to_owned()))
}

fn prompt(label: Option<&str>) -> Result<Secret, String> {
    let question = match label {
        Some(label) => format!("Vault password ({label}): "),
        None => "Vault password: ".to_owned(),
    };
    rpassword::prompt_password(question)
        .map(Secret::new)
        .map_err(|e| format!("cannot ask the vault password: {e}"))
}

/// Vault texts the tests of other files share.
#[cfg(test)]
pub(crate) mod tests_support {
    /// `ansible-vault encrypt` (vault password `vaultpw`) of `all: {hosts: {h1:}}` as YAML.
    pub(crate) const ENCRYPTED_INVENTORY: &str = "$ANSIBLE_VAULT;1.1;AES256\n62376230636536326631383830633562643236393130643761336235323030393836313135663762\n3034613533353838313133356462326363323465313534640a323135303162393432356631666338\n65336263656633663338353035333866336638316666303066356333326264336537313061303462\n6162646338626438360a333939333337323764653437663239623362653338366231383236643338\n64373065306465613938343165336532663938393066646332376135393637333030\n";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ansible-vault encrypt_string --vault-password-file F 'inline-secret'`, F holding
    /// `vaultpw` (ansible-core 2.19.14).
    const INLINE: &str = "$ANSIBLE_VAULT;1.1;AES256
35363233653866323435363039623138343438643737663661623132303034353337356461313264
6535643038623066376533666264666361653436376466390a363037333266343664623936376135
36303635623839613363346437303163343732333033636263653537663866633165393362306433
6331313261613463370a333165323865353937323138386533323235396563396161343631306235
3864
";

    /// `ansible-vault encrypt --vault-id prod@F` of a vars file.
    const FILE_1_2: &str = "$ANSIBLE_VAULT;1.2;AES256;prod
31313261313062336330653965633934376237306166356537626361393833633762623835316138
6233373739363735313461306139623633326232303432370a633362316532373431303433303536
63346130613431366433383633626230393234646438656531656363646262336639393830343662
3836653634666561320a643865613831323663313766383333303761393762363337323462613664
66626261336230613836326339626536336537653337363032303539363833633935333134663735
62663630656436636162633865663963376532383630326163396165323036643464336236623130
326563653834663032386232326262663039
";

    #[test]
    fn texts_ansible_vault_wrote_are_decrypted() {
        let secrets = VaultSecrets::with_password("vaultpw");
        assert_eq!(
            secrets.decrypt(INLINE).expect("opened").expose(),
            "inline-secret"
        );
        assert_eq!(
            secrets.decrypt(FILE_1_2).expect("opened").expose(),
            "filevar: file-secret\nansible_become_password: pw2\n"
        );
    }

    #[test]
    fn the_vault_id_s_password_is_tried_first_and_the_others_after_it() {
        let secrets = VaultSecrets {
            passwords: vec![
                (Some("dev".into()), Secret::new("wrong".into())),
                (None, Secret::new("vaultpw".into())),
            ],
            ..VaultSecrets::default()
        };
        assert!(secrets.decrypt(FILE_1_2).is_ok());
        assert!(secrets.decrypt(INLINE).is_ok());
    }

    #[test]
    fn a_wrong_password_a_missing_one_and_a_tampered_text_say_so() {
        assert_eq!(
            VaultSecrets::with_password("nope")
                .decrypt(FILE_1_2)
                .expect_err("refused"),
            "no vault password given opens this vault text (vault id \"prod\"): check the vault password"
        );
        assert!(
            VaultSecrets::default()
                .decrypt(INLINE)
                .expect_err("refused")
                .contains("no vault password was given")
        );
        // One hex digit of the ciphertext changed: the HMAC no longer matches.
        let tampered = INLINE.replacen("3864\n", "3865\n", 1);
        assert!(
            VaultSecrets::with_password("vaultpw")
                .decrypt(&tampered)
                .is_err()
        );
        assert!(
            VaultSecrets::with_password("vaultpw")
                .decrypt("$ANSIBLE_VAULT;1.0;AES\nab")
                .expect_err("refused")
                .contains("1.0")
        );
    }

    #[test]
    fn a_password_file_is_its_stripped_text_and_a_script_its_output() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("pass");
        std::fs::write(&file, "vaultpw\n").expect("write");
        assert_eq!(read_password_file(&file).expect("read").expose(), "vaultpw");
        let script = dir.path().join("pass.sh");
        std::fs::write(&script, "#!/bin/sh\necho vaultpw\n").expect("write");
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod");
        let sources = VaultSources {
            password_files: vec![script],
            ..VaultSources::default()
        };
        let secrets = VaultSecrets::gather(&sources).expect("gathered");
        assert!(secrets.decrypt(INLINE).is_ok());
        std::fs::write(&file, "\n").expect("write");
        assert!(
            read_password_file(&file)
                .expect_err("empty")
                .contains("is empty")
        );
    }
}
