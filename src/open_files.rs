//! The controller's open-file limit. Every host in flight holds one socket (measured: one
//! descriptor per host, tests/lab/bench/scale.sh), and Debian's default soft limit is 1024 while
//! the hard one is far higher: the soft limit is raised to the hard one at start, as Go's runtime
//! does for every program, and the hosts in flight are bounded by what it allows.

/// Descriptors left for everything else: stdio, the async runtime, key and known_hosts files,
/// the report files, a jump host's connection.
pub const RESERVED: u64 = 64;

/// The kernel's ceiling for a soft limit (`fs.nr_open`'s default): a hard limit of "unlimited"
/// cannot be the soft one.
const CEILING: u64 = 1 << 20;

/// Raises the soft limit on open files to the hard one; the limit now in force.
// rlim_t is u64 on 64-bit Linux, not on every target: the casts are not all no-ops everywhere.
#[allow(clippy::unnecessary_cast)]
pub fn raise() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed, which we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        let wanted = (limit.rlim_max as u64).min(CEILING);
        if (limit.rlim_cur as u64) < wanted {
            let raised = libc::rlimit {
                rlim_cur: wanted as libc::rlim_t,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return wanted;
            }
        }
    }
    limit.rlim_cur as u64
}

/// How many hosts may be in flight with `limit` open files.
pub fn hosts_within(limit: u64) -> usize {
    usize::try_from(limit.saturating_sub(RESERVED).max(1)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unnecessary_cast)]
    fn the_soft_limit_ends_at_least_where_it_was() {
        let mut before = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as in `raise`.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut before) },
            0
        );
        let now = raise();
        assert!(now >= before.rlim_cur as u64, "{now} < {}", before.rlim_cur);
        assert!(now <= (before.rlim_max as u64).min(CEILING));
    }

    #[test]
    fn hosts_in_flight_leave_room_for_the_rest() {
        assert_eq!(hosts_within(1024), 960);
        assert_eq!(hosts_within(10), 1);
    }
}
