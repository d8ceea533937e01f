//! Builders the unit tests share: a relay's facts and a task's report, each filled with what a
//! well-sized, healthy relay shows, for a test to change only what it is about; a file written
//! below a temporary directory.

use std::path::{Path, PathBuf};

use crate::engine::{TaskReport, TaskStatus};
use crate::facts::{
    BootMount, BootMountKind, Facts, Filesystem, FirewallFacts, ListeningSocket, SudoAccess,
};
use crate::inventory::{FirewallSettings, RelaySettings, SizingProfile, SupportKey};
use crate::medulla::port_matrix::Protocol;
use crate::medulla::{MedullaOffer, RelayType};

/// A filesystem as `df` reports it.
pub fn filesystem(source: &str, fstype: &str, size_bytes: u64, mount_point: &str) -> Filesystem {
    Filesystem {
        source: source.into(),
        fstype: fstype.into(),
        size_bytes,
        mount_point: mount_point.into(),
    }
}

/// A classic relay as the documentation sizes it: Debian 12.12 on x86_64, 4 vCPUs, an "8 GB"
/// VM (about 7.7 GiB seen by the kernel), / ext4 of 20 GB and a separate /var XFS of 400 GB in
/// /etc/fstab, an FQDN that resolves, systemd and nft, sshd listening on 22, probed as root.
pub fn facts() -> Facts {
    Facts {
        os_id: "debian".into(),
        os_version_id: "12".into(),
        os_pretty_name: "Debian GNU/Linux 12 (bookworm)".into(),
        debian_version: Some("12.12".into()),
        arch: "x86_64".into(),
        kernel: "6.1.0".into(),
        vcpus: 4,
        memory_bytes: 8_038_492 * 1024,
        root: filesystem("/dev/vda1", "ext4", 20 * 1_000_000_000, "/"),
        var: filesystem("/dev/vdb1", "xfs", 400 * 1_000_000_000, "/var"),
        var_on_root: false,
        var_at_boot: vec![BootMount {
            kind: BootMountKind::Fstab,
            file: "/etc/fstab".into(),
            source: "UUID=6a1d0b1c".into(),
            options: "defaults".into(),
            mounted: true,
        }],
        hostname: "relay01".into(),
        fqdn: Some("relay01.example.com".into()),
        fqdn_resolves: true,
        fqdn_addresses: vec![[192, 0, 2, 11].into()],
        fqdn_hosts_file: Vec::new(),
        local_addresses: vec![[127, 0, 0, 1].into(), [192, 0, 2, 11].into()],
        systemd_running: true,
        systemd_version: Some(252),
        nft_version: Some("1.0.6".into()),
        uid_215_owner: None,
        user: "root".into(),
        sudo: SudoAccess::Root,
        controller_address: None,
        ssh_port: None,
        firewall: Some(FirewallFacts::parse(false, false, &[], &[])),
        listening: Some(vec![ListeningSocket {
            protocol: Protocol::Tcp,
            address: "0.0.0.0".into(),
            port: 22,
            process: Some("sshd".into()),
        }]),
        sessions: Vec::new(),
    }
}

/// A task of `role` that ended as `status`, with nothing else to say.
pub fn task(role: &str, name: &str, status: TaskStatus) -> TaskReport {
    TaskReport {
        role: role.into(),
        task: name.into(),
        module: "copy",
        handler: false,
        status,
        changes: Vec::new(),
        message: None,
        diff: None,
        elapsed_ms: 0,
    }
}

/// Writes `text` to `dir/path`, its directories made first; the path written.
pub fn write_file(dir: &Path, path: &str, text: &str) -> PathBuf {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, text).expect("write");
    path
}

/// The example support key of inventories/site.yaml (its private half was thrown away).
pub const SUPPORT_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOzXkiSf8TkhJZd67BQUd6ISDPAxTHRWKuM2PUcxqwXE siveo-support-EXAMPLE";

/// A classic relay of a dedicated-SaaS platform as the inventory gives it: one Medulla server by
/// address, a workstation subnet, SIVEO's support key, the firewall's defaults.
pub fn relay() -> RelaySettings {
    RelaySettings {
        relay_type: RelayType::Classic,
        server_addresses: vec!["203.0.113.7".into()],
        server_source_addresses: Vec::new(),
        offer: MedullaOffer::DedicatedSaas,
        relay_fqdn: None,
        itsm_entity: None,
        workstation_subnets: vec!["10.10.0.0/16".parse().expect("a network")],
        serves_workstations: true,
        support_public_key: Some(SupportKey {
            public_key: SUPPORT_KEY.into(),
            source: None,
        }),
        sizing_profile: SizingProfile::Standard,
        roles: None,
        firewall: FirewallSettings::default(),
    }
}
