//! Who holds a lease: a runner's name, and whether a runner of this machine
//! is still alive (so a restart right after a `kill -9` need not wait for
//! the dead runner's leases to expire).

use std::fmt;

/// A runner's identity: `host/boot/pid/start/random`. The boot id and the
/// process start time make a reused pid harmless; the random part tells
/// apart two runners of one process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner(String);

impl Owner {
    /// The identity of a new runner in this process.
    pub fn new() -> Owner {
        let pid = std::process::id();
        Owner(format!(
            "{}/{}/{pid}/{}/{:08x}",
            host(),
            boot_id(),
            start_time(pid).unwrap_or_default(),
            rand::random::<u32>()
        ))
    }

    /// As stored in the ledger.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Owner {
    fn default() -> Self {
        Owner::new()
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `Some(false)` when `owner` is a runner of this machine whose process has
/// exited; `Some(true)` when it runs; `None` when this machine cannot tell
/// (another machine, or no `/proc`): then only the lease's expiry counts.
pub fn is_alive(owner: &str) -> Option<bool> {
    let mut parts = owner.split('/');
    let (host_part, boot, pid, start) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if host_part != host() || boot != boot_id() || boot.is_empty() {
        return None;
    }
    let pid: u32 = pid.parse().ok()?;
    Some(start_time(pid).is_some_and(|now| now == start))
}

fn host() -> String {
    read_trimmed("/proc/sys/kernel/hostname")
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default()
        .replace('/', "_")
}

fn boot_id() -> String {
    read_trimmed("/proc/sys/kernel/random/boot_id").unwrap_or_default()
}

/// The process's start time in clock ticks since boot (field 22 of
/// `/proc/PID/stat`), as text.
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count after its `)`.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19).map(str::to_owned)
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_runner_is_alive_and_a_dead_pid_is_not() {
        let me = Owner::new();
        if read_trimmed("/proc/sys/kernel/random/boot_id").is_none() {
            eprintln!("skipped: no /proc on this machine");
            return;
        }
        assert_eq!(is_alive(me.as_str()), Some(true));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = start_time(pid);
        child.wait().unwrap();
        let dead = format!(
            "{}/{}/{pid}/{}/0",
            host(),
            boot_id(),
            start.unwrap_or_else(|| "1".into())
        );
        assert_eq!(is_alive(&dead), Some(false));
        assert_eq!(is_alive("elsewhere/boot/1/1/0"), None);
        assert_eq!(is_alive("garbage"), None);
    }
}
