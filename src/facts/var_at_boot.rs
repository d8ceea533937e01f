//! How /var comes back after a reboot: the /etc/fstab line or the systemd mount unit (var.mount)
//! that mounts it at boot, and whether what it names is what is mounted on /var now. A /var
//! mounted by hand is the right size today and gone after the next reboot.
//!
//! The probe compares the sources on the host: a UUID=, LABEL=, PARTUUID= or PARTLABEL= tag
//! through udev's /dev/disk/by-* link, else `findfs` (which probes the devices); then the same
//! device file (`test -ef`, so /dev/mapper/vg-var and /dev/dm-2 are one), or, for a device this
//! host's /dev lacks (a container's), the same name; a bind mount, the same directory.

use serde::Serialize;

/// Where a boot mount of /var is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BootMountKind {
    Fstab,
    MountUnit,
}

/// One way /var is mounted at boot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BootMount {
    pub kind: BootMountKind,
    /// `/etc/fstab`, or the unit file.
    pub file: String,
    /// As written: `UUID=…`, `/dev/mapper/vg-var`, a directory for a bind mount.
    pub source: String,
    /// The mount options (fstab's fourth field; a unit's `Options=`).
    pub options: String,
    /// Its source is what is mounted on /var now.
    pub mounted: bool,
}

impl BootMount {
    /// Mounted at boot: not `noauto`.
    pub fn at_boot(&self) -> bool {
        !self.options.split(',').any(|o| o == "noauto")
    }

    /// `/etc/fstab: UUID=… (defaults)`.
    pub fn describe(&self) -> String {
        format!("{}: {} ({})", self.file, self.source, self.options)
    }
}

/// The probe's `var_fstab=SOURCE OPTIONS MOUNTED` or `var_mount_unit=FILE SOURCE OPTIONS
/// MOUNTED` line; `None` for an empty or unreadable one.
pub fn parse(kind: BootMountKind, line: &str) -> Option<BootMount> {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    let mounted = match words.pop()? {
        "yes" => true,
        "no" => false,
        _ => return None,
    };
    let (file, source, options) = match (kind, words.as_slice()) {
        (BootMountKind::Fstab, [source, options]) => ("/etc/fstab", *source, *options),
        (BootMountKind::MountUnit, [file, source, options]) => (*file, *source, *options),
        _ => return None,
    };
    Some(BootMount {
        kind,
        file: file.to_string(),
        source: source.to_string(),
        options: options.to_string(),
        mounted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_lines_read_into_boot_mounts() {
        let fstab = parse(BootMountKind::Fstab, "UUID=0b1c xfs-ignored defaults yes");
        assert_eq!(
            fstab, None,
            "three words before the verdict is not an fstab line"
        );
        let fstab = parse(BootMountKind::Fstab, "UUID=0b1c defaults,noauto yes").expect("parses");
        assert!(fstab.mounted && !fstab.at_boot());
        assert_eq!(fstab.describe(), "/etc/fstab: UUID=0b1c (defaults,noauto)");
        let unit = parse(
            BootMountKind::MountUnit,
            "/etc/systemd/system/var.mount /dev/vdb1 defaults no",
        )
        .expect("parses");
        assert_eq!(unit.file, "/etc/systemd/system/var.mount");
        assert!(!unit.mounted && unit.at_boot());
        assert_eq!(parse(BootMountKind::Fstab, ""), None);
    }
}
