//! Relay sizing: the requirements per relay type, as data with their source, and their evaluation
//! against gathered facts. Each check says what was expected and what was found.

use serde::Serialize;

use crate::facts::{BootMount, Facts};
use crate::inventory::SizingProfile;
use crate::medulla::{MedullaOffer, RelayType};

/// Bytes in a GiB (what the kernel and df report) and in a GB (what VMs and disks are sold in).
pub const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
pub const GB: f64 = 1_000_000_000.0;

/// What a relay must have. Sizes are the nominal figures of the documentation.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct SizingSpec {
    pub debian_major: &'static str,
    pub arch: &'static str,
    pub vcpus: u32,
    /// Nominal RAM in GB, as a VM is sold ("8 GB" = 8 GiB of RAM, of which the kernel shows less).
    pub memory_gb: u32,
    pub root_gb: u32,
    pub root_fstype: &'static str,
    pub var_gb: u32,
    pub var_fstype: &'static str,
    /// Where these figures come from.
    pub source: &'static str,
}

/// Classic relay (local cache, imaging).
/// Source: seed 004, "Architecture and Deployment of Medulla Relay Servers" (ARCH) and "Procedure for
/// adding relays to Medulla Dedicated SaaS" step 1 (PROC): Debian 12.x, x86-64, 4 vCPU, 8 GB RAM,
/// / 20 GB ext4, /var XFS 400 GB.
pub const CLASSIC: SizingSpec = SizingSpec {
    debian_major: "12",
    arch: "x86_64",
    vcpus: 4,
    memory_gb: 8,
    root_gb: 20,
    root_fstype: "ext4",
    var_gb: 400,
    var_fstype: "xfs",
    source: "seed 004 ARCH; PROC step 1",
};

/// DMZ relay (mobile workstations, no imaging) of an on-premise Medulla. Same as classic but
/// /var 200 GB. Source: seed 004 ARCH, the on-premise architecture (MEDULLA_FACTS.md, "Sizing").
pub const DMZ: SizingSpec = SizingSpec {
    var_gb: 200,
    source: "seed 004 ARCH (DMZ: /var 200 GB)",
    ..CLASSIC
};

/// DMZ relay added to a dedicated-SaaS platform: PROC step 1 asks "/var: ≥ 400 GB – XFS" of any
/// relay it adds, without a relay type; ARCH's 200 GB is the on-premise DMZ relay's.
pub const DMZ_DEDICATED_SAAS: SizingSpec = SizingSpec {
    source: "seed 004 PROC step 1 (dedicated SaaS: /var 400 GB for any relay)",
    ..CLASSIC
};

/// An "8 GB" VM reports about 7.7 GiB in /proc/meminfo (kernel and firmware reservations): accept
/// 10 % below the nominal GiB.
pub const MEMORY_TOLERANCE: f64 = 0.10;
/// Disks are sold in decimal GB and filesystems keep some space for metadata: accept 5 % below the
/// nominal decimal size (400 GB nominal passes from 380 GB, i.e. 353.9 GiB).
pub const DISK_TOLERANCE: f64 = 0.05;

/// The `lab` profile: CI labs run relays as containers on a small machine.
/// Relaxed: CPU and RAM (the host's), and / may be the container's overlay. Never relaxed: the OS,
/// the architecture, and /var (separate, XFS, sized), which the lab provides for real.
pub const LAB_MIN_VCPUS: u32 = 1;
pub const LAB_MIN_MEMORY_GB: u32 = 1;
pub const LAB_ROOT_FSTYPES: [&str; 2] = ["ext4", "overlay"];

/// The spec for a relay type of an offer.
pub fn spec(relay_type: RelayType, offer: MedullaOffer) -> &'static SizingSpec {
    match (relay_type, offer) {
        (RelayType::Classic, _) => &CLASSIC,
        (RelayType::Dmz, MedullaOffer::DedicatedSaas) => &DMZ_DEDICATED_SAAS,
        (RelayType::Dmz, MedullaOffer::OnPremise) => &DMZ,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Fail,
}

/// One sizing check: expected vs found.
#[derive(Clone, Debug, Serialize)]
pub struct SizingCheck {
    pub name: &'static str,
    pub expected: String,
    pub found: String,
    pub status: CheckStatus,
    pub source: &'static str,
}

impl SizingCheck {
    /// `/var: expected separate xfs filesystem of 400 GB, found xfs of 215 GB …`.
    pub fn describe(&self) -> String {
        format!(
            "{}: expected {}, found {}",
            self.name, self.expected, self.found
        )
    }
}

/// Failing checks in one line, each as [`SizingCheck::describe`] says it.
pub fn describe_all<'a>(checks: impl IntoIterator<Item = &'a SizingCheck>) -> String {
    checks
        .into_iter()
        .map(SizingCheck::describe)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The sizing verdict of one relay.
#[derive(Clone, Debug, Serialize)]
pub struct SizingReport {
    pub relay_type: RelayType,
    pub offer: MedullaOffer,
    pub profile: SizingProfile,
    /// Set when the profile relaxed something: every report must say so.
    pub profile_note: Option<&'static str>,
    pub checks: Vec<SizingCheck>,
}

impl SizingReport {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status == CheckStatus::Pass)
    }

    pub fn failures(&self) -> impl Iterator<Item = &SizingCheck> {
        self.checks.iter().filter(|c| c.status == CheckStatus::Fail)
    }

    /// The roles are written for Debian 12: on another OS they must not run at all. Capacity
    /// shortfalls (CPU, memory, disks) do not stop them: the account and settings they make
    /// stay right once the machine is resized.
    pub fn roles_may_run(&self) -> bool {
        self.checks
            .iter()
            .all(|c| c.name != "os" || c.status == CheckStatus::Pass)
    }
}

/// Evaluates `facts` against the spec of `relay_type` for `offer` under `profile`.
pub fn evaluate(
    facts: &Facts,
    relay_type: RelayType,
    offer: MedullaOffer,
    profile: SizingProfile,
) -> SizingReport {
    let spec = spec(relay_type, offer);
    let lab = profile == SizingProfile::Lab;
    let mut checks = Vec::new();
    let mut check = |name, expected: String, found: String, pass: bool| {
        let status = if pass {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        };
        checks.push(SizingCheck {
            name,
            expected,
            found,
            status,
            source: spec.source,
        });
    };

    let debian_12 = facts.os_id == "debian" && facts.os_version_id == spec.debian_major;
    check(
        "os",
        format!("Debian {}.x", spec.debian_major),
        facts.os_summary(),
        debian_12,
    );
    check(
        "architecture",
        spec.arch.to_string(),
        facts.arch.clone(),
        facts.arch == spec.arch,
    );

    let min_vcpus = if lab { LAB_MIN_VCPUS } else { spec.vcpus };
    check(
        "vcpus",
        format!(">= {min_vcpus}"),
        facts.vcpus.to_string(),
        facts.vcpus >= min_vcpus,
    );

    let memory_gb = if lab {
        LAB_MIN_MEMORY_GB
    } else {
        spec.memory_gb
    };
    let min_memory = f64::from(memory_gb) * GIB * (1.0 - MEMORY_TOLERANCE);
    check(
        "memory",
        format!(
            "{memory_gb} GB (>= {:.1} GiB seen by the kernel)",
            min_memory / GIB
        ),
        format!("{:.1} GiB", facts.memory_bytes as f64 / GIB),
        facts.memory_bytes as f64 >= min_memory,
    );

    let root_types: &[&str] = if lab {
        &LAB_ROOT_FSTYPES
    } else {
        &[spec.root_fstype]
    };
    check(
        "root filesystem",
        format!("{} of {} GB", root_types.join(" or "), spec.root_gb),
        describe(&facts.root.fstype, facts.root.size_bytes),
        root_types.contains(&facts.root.fstype.as_str())
            && enough_disk(facts.root.size_bytes, spec.root_gb),
    );

    let var_expected = format!(
        "separate {} filesystem of {} GB",
        spec.var_fstype, spec.var_gb
    );
    let var_found = if facts.var_on_root {
        format!(
            "on / ({})",
            describe(&facts.var.fstype, facts.var.size_bytes)
        )
    } else {
        format!(
            "{} mounted on {}",
            describe(&facts.var.fstype, facts.var.size_bytes),
            facts.var.mount_point
        )
    };
    check(
        "/var",
        var_expected,
        var_found,
        !facts.var_on_root
            && facts.var.fstype == spec.var_fstype
            && enough_disk(facts.var.size_bytes, spec.var_gb),
    );

    if !facts.var_on_root {
        let (found, pass) = var_at_boot(&facts.var_at_boot, &facts.var.source);
        checks.push(SizingCheck {
            name: "/var at boot",
            expected: "mounted from its /etc/fstab line or var.mount unit".to_string(),
            found,
            status: if pass {
                CheckStatus::Pass
            } else {
                CheckStatus::Fail
            },
            source: VAR_AT_BOOT_SOURCE,
        });
    }

    SizingReport {
        relay_type,
        offer,
        profile,
        profile_note: lab.then_some(
            "lab sizing profile: CPU and RAM requirements relaxed and an overlay / accepted; not a production verdict",
        ),
        checks,
    }
}

/// /var is a partition of its own (ARCH, PROC step 1), which the OS section has the installer
/// make (the logical volume lvvar, which the installer writes into /etc/fstab): one mounted by
/// hand is gone after the next reboot, with Medulla's data under it.
pub const VAR_AT_BOOT_SOURCE: &str = "seed 004 OS (Disk Partitioning: /var a volume of its own)";

/// What the boot mounts of /var say, and whether one mounts what is there now.
fn var_at_boot(mounts: &[BootMount], mounted_source: &str) -> (String, bool) {
    if let Some(mount) = mounts.iter().find(|m| m.mounted && m.at_boot()) {
        return (mount.describe(), true);
    }
    let found = match mounts.first() {
        None => format!(
            "{mounted_source} mounted by hand (no /etc/fstab line, no var.mount unit): gone after a reboot"
        ),
        Some(mount) if !mount.at_boot() => format!(
            "{}: noauto, so not mounted at boot: gone after a reboot",
            mount.describe()
        ),
        Some(mount) => format!(
            "{}, but {mounted_source} is mounted there by hand: after a reboot /var is {}",
            mount.describe(),
            mount.source
        ),
    };
    (found, false)
}

fn enough_disk(size_bytes: u64, nominal_gb: u32) -> bool {
    size_bytes as f64 >= f64::from(nominal_gb) * GB * (1.0 - DISK_TOLERANCE)
}

fn describe(fstype: &str, size_bytes: u64) -> String {
    format!(
        "{fstype} of {:.0} GB ({:.1} GiB)",
        size_bytes as f64 / GB,
        size_bytes as f64 / GIB
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn relay(var_fstype: &str, var_gib: u64, var_on_root: bool) -> Facts {
        let root = testing::filesystem("/dev/vda1", "ext4", 20 * 1_000_000_000, "/");
        let var = if var_on_root {
            root.clone()
        } else {
            testing::filesystem("/dev/vdb1", var_fstype, var_gib << 30, "/var")
        };
        Facts {
            root,
            var,
            var_on_root,
            hostname: "relay".into(),
            fqdn: Some("relay.example.com".into()),
            ..testing::facts()
        }
    }

    const SAAS: MedullaOffer = MedullaOffer::DedicatedSaas;

    fn failed(report: &SizingReport) -> Vec<&str> {
        report.failures().map(|c| c.name).collect()
    }

    #[test]
    fn a_documented_classic_relay_passes_including_an_8_gb_vm_that_shows_7_7_gib() {
        let report = evaluate(
            &relay("xfs", 373, false),
            RelayType::Classic,
            SAAS,
            SizingProfile::Standard,
        );
        assert!(report.passed(), "{:?}", failed(&report));
        assert_eq!(report.profile_note, None);
    }

    #[test]
    fn a_200_gb_var_passes_for_an_on_premise_dmz_relay_only() {
        let facts = relay("xfs", 187, false);
        let on_premise = MedullaOffer::OnPremise;
        assert!(evaluate(&facts, RelayType::Dmz, on_premise, SizingProfile::Standard).passed());
        let saas = evaluate(&facts, RelayType::Dmz, SAAS, SizingProfile::Standard);
        assert_eq!(failed(&saas), ["/var"]);
        assert!(saas.checks[0].source.starts_with("seed 004 PROC step 1"));
        let classic = evaluate(&facts, RelayType::Classic, SAAS, SizingProfile::Standard);
        assert_eq!(failed(&classic), ["/var"]);
        let var = classic.failures().next().expect("a failure");
        assert_eq!(var.expected, "separate xfs filesystem of 400 GB");
        assert_eq!(var.found, "xfs of 201 GB (187.0 GiB) mounted on /var");
    }

    #[test]
    fn var_on_root_fails_with_the_reason() {
        let report = evaluate(
            &relay("xfs", 400, true),
            RelayType::Classic,
            SAAS,
            SizingProfile::Lab,
        );
        assert_eq!(failed(&report), ["/var"]);
        assert!(
            report
                .checks
                .iter()
                .any(|c| c.found.starts_with("on / (ext4")),
            "{:?}",
            report.checks
        );
    }

    #[test]
    fn only_a_wrong_os_stops_the_roles() {
        let small = relay("xfs", 100, true);
        let report = evaluate(&small, RelayType::Classic, SAAS, SizingProfile::Standard);
        assert!(!report.passed());
        assert!(
            report.roles_may_run(),
            "a disk too small does not stop the roles"
        );
        let mut other_os = relay("xfs", 400, false);
        other_os.os_id = "ubuntu".into();
        let report = evaluate(&other_os, RelayType::Classic, SAAS, SizingProfile::Standard);
        assert!(!report.roles_may_run());
    }

    #[test]
    fn a_var_mounted_by_hand_fails_and_says_it_is_gone_after_a_reboot() {
        let mut facts = relay("xfs", 400, false);
        let found = |facts: &Facts| {
            let report = evaluate(facts, RelayType::Classic, SAAS, SizingProfile::Lab);
            assert_eq!(failed(&report), ["/var at boot"]);
            report
                .failures()
                .next()
                .map(|c| c.found.clone())
                .unwrap_or_default()
        };
        facts.var_at_boot.clear();
        assert_eq!(
            found(&facts),
            "/dev/vdb1 mounted by hand (no /etc/fstab line, no var.mount unit): gone after a reboot"
        );
        facts.var_at_boot = testing::facts().var_at_boot;
        facts.var_at_boot[0].mounted = false;
        assert_eq!(
            found(&facts),
            "/etc/fstab: UUID=6a1d0b1c (defaults), but /dev/vdb1 is mounted there by hand: after a \
             reboot /var is UUID=6a1d0b1c"
        );
        facts.var_at_boot[0].mounted = true;
        facts.var_at_boot[0].options = "noauto".into();
        assert!(found(&facts).ends_with("noauto, so not mounted at boot: gone after a reboot"));
        // A /var on / has nothing of its own to mount: the /var check alone says so.
        let on_root = relay("xfs", 400, true);
        let report = evaluate(&on_root, RelayType::Classic, SAAS, SizingProfile::Lab);
        assert!(report.checks.iter().all(|c| c.name != "/var at boot"));
    }

    #[test]
    fn var_must_be_xfs() {
        let report = evaluate(
            &relay("ext4", 400, false),
            RelayType::Classic,
            SAAS,
            SizingProfile::Standard,
        );
        assert_eq!(failed(&report), ["/var"]);
    }

    #[test]
    fn the_lab_profile_relaxes_cpu_and_ram_only_and_says_so() {
        let mut facts = relay("xfs", 400, false);
        facts.vcpus = 2;
        facts.memory_bytes = 3 << 30;
        facts.root.fstype = "overlay".into();
        let standard = evaluate(&facts, RelayType::Classic, SAAS, SizingProfile::Standard);
        assert_eq!(failed(&standard), ["vcpus", "memory", "root filesystem"]);
        let lab = evaluate(&facts, RelayType::Classic, SAAS, SizingProfile::Lab);
        assert!(lab.passed(), "{:?}", failed(&lab));
        assert!(lab.profile_note.is_some());
    }

    #[test]
    fn too_little_memory_fails_even_within_rounding() {
        let mut facts = relay("xfs", 400, false);
        facts.memory_bytes = 7 << 30;
        assert_eq!(
            failed(&evaluate(
                &facts,
                RelayType::Classic,
                SAAS,
                SizingProfile::Standard
            )),
            ["memory"]
        );
    }
}
