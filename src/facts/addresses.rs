//! The host's own addresses and what its FQDN resolves to, as the facts probe prints them: the
//! IPv4 addresses from the kernel's routing trie (`/proc/net/fib_trie`, a local /32 after its
//! address), the IPv6 ones from `/proc/net/if_inet6` (32 hex digits), read by the shell alone;
//! the FQDN's addresses from `getent ahosts` (the system's resolver: /etc/hosts, then DNS, as
//! nsswitch.conf says).

use std::net::{IpAddr, Ipv6Addr};

/// An address as the probe printed it: dotted IPv4, or IPv6 in if_inet6's 32 hex digits or in
/// its usual form.
pub fn parse(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return u128::from_str_radix(text, 16)
            .ok()
            .map(|bits| IpAddr::V6(Ipv6Addr::from(bits)));
    }
    text.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// The distinct addresses of `values`, in their order; what does not read as one is left out.
pub fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<IpAddr> {
    let mut addresses: Vec<IpAddr> = Vec::new();
    for ip in values.filter_map(parse) {
        if !addresses.contains(&ip) {
            addresses.push(ip);
        }
    }
    addresses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_from_every_form_the_probe_prints() {
        assert_eq!(
            parse("172.28.81.101"),
            Some("172.28.81.101".parse().unwrap())
        );
        assert_eq!(
            parse("fe800000000000000242ac1c5165fffe"),
            Some("fe80::242:ac1c:5165:fffe".parse().unwrap())
        );
        assert_eq!(
            parse("00000000000000000000000000000001"),
            Some("::1".parse().unwrap())
        );
        assert_eq!(
            parse("::ffff:192.0.2.7"),
            Some("192.0.2.7".parse().unwrap())
        );
        assert_eq!(parse("relay01"), None);
    }

    #[test]
    fn each_address_is_kept_once_in_its_order() {
        let found =
            distinct(["127.0.0.1", "10.0.0.5", "127.0.0.1", "junk", "10.0.0.5"].into_iter());
        assert_eq!(
            found,
            [
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "10.0.0.5".parse().unwrap()
            ]
        );
    }
}
