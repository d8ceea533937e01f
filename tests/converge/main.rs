//! Lab tests that change hosts: `apply` for real, on relays recreated fresh for the test
//! (`tests/lab/lab.sh reset`). A test binary of their own, so that cargo runs them before or after
//! the read-only lab tests (tests/integration), never beside them; within it, one test at a time
//! (`lab::exclusive`).

#[allow(dead_code)]
#[path = "../integration/harness.rs"]
mod harness;

mod become_password;
mod customer_firewalls;
mod customer_relays;
mod firewall;
mod flows;
mod hostile_values;
mod lab;
mod lifecycle;
mod scratch;
