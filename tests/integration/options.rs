//! Command-line options that would break a run later are refused at once, as bad options (exit 5).

use crate::harness::{relayctl, stderr};

#[test]
fn a_timeout_too_long_to_add_to_is_refused_before_anything_runs() {
    for (option, value) in [
        ("--command-timeout", "18446744073709551615"),
        ("--command-timeout", "0"),
        ("--connect-timeout", "18446744073709551615"),
    ] {
        let output = relayctl(
            &["apply", "--check", "inventories/site.yaml", option, value],
            &[],
        );
        assert_eq!(
            output.status.code(),
            Some(5),
            "{option} {value}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(&format!("invalid value '{value}' for '{option} <SECS>'")),
            "{}",
            stderr(&output)
        );
    }
}
