//! CPU time of processes (with their children) and of the whole machine, from Linux's /proc.
use std::collections::HashMap;

/// /proc reports times in USER_HZ, which is 100 on every Linux architecture Tutti targets.
const TICKS_PER_SECOND: f64 = 100.0;

/// (parent pid, utime + stime in ticks) of a process, from /proc/PID/stat.
fn stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is the state (field 3 in proc(5)), so field N is fields[N - 3].
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

/// CPU seconds used so far by `pid` and all its live descendants (e.g. a postmaster and its backends).
pub fn process_tree_seconds(pid: u32) -> Option<f64> {
    let mut parent: HashMap<u32, (u32, u64)> = HashMap::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        if let Some(p) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok())
            && let Some(s) = stat(p)
        {
            parent.insert(p, s);
        }
    }
    let (_, own) = *parent.get(&pid)?;
    let mut total = own;
    for (&p, &(_, ticks)) in &parent {
        // Walk up from every process; count it if `pid` is an ancestor.
        let mut up = parent.get(&p).map(|s| s.0);
        let mut hops = 0;
        while let Some(a) = up {
            if a == pid {
                total += ticks;
                break;
            }
            if a <= 1 || hops > 64 {
                break;
            }
            hops += 1;
            up = parent.get(&a).map(|s| s.0);
        }
    }
    Some(total as f64 / TICKS_PER_SECOND)
}

/// (busy, total) CPU seconds of the whole machine, summed over cores, from /proc/stat.
pub fn machine_seconds() -> Option<(f64, f64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().next()?;
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Some(((total - idle) as f64 / TICKS_PER_SECOND, total as f64 / TICKS_PER_SECOND))
}

/// A snapshot of every watched process and of the machine.
#[derive(Clone, Debug)]
pub struct Sample {
    pub processes: Vec<(String, Option<f64>)>,
    pub machine: Option<(f64, f64)>,
}

pub fn sample(watched: &[(String, u32)]) -> Sample {
    let mut processes: Vec<(String, Option<f64>)> =
        watched.iter().map(|(name, pid)| (name.clone(), process_tree_seconds(*pid))).collect();
    processes.push(("loadgen".into(), process_tree_seconds(std::process::id())));
    Sample { processes, machine: machine_seconds() }
}

/// Cores used between two samples.
#[derive(Clone, Debug)]
pub struct Usage {
    /// Per watched process (with its children); the generator itself is last.
    pub processes: Vec<(String, Option<f64>)>,
    /// Busy cores of the whole machine, and its core count.
    pub machine: Option<(f64, f64)>,
}

/// Cores used per watched process and by the machine between two samples `wall` seconds apart.
pub fn usage(a: &Sample, b: &Sample, wall: f64) -> Usage {
    let per = a
        .processes
        .iter()
        .zip(&b.processes)
        .map(|((name, x), (_, y))| (name.clone(), x.zip(*y).map(|(x, y)| (y - x) / wall)))
        .collect();
    let machine = a.machine.zip(b.machine).map(|((b0, t0), (b1, t1))| ((b1 - b0) / wall, (t1 - t0) / wall));
    Usage { processes: per, machine }
}
