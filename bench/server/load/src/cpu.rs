//! CPU time: the server's and the generator's (`/proc/<pid>/stat`), the
//! whole machine's (`/proc/stat`) and wrk's (`getrusage`), sampled around
//! each phase.

use std::time::Duration;

/// utime + stime of a process (all its threads), in seconds.
fn cpu_seconds(pid: &str, clk_tck: f64) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime field 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clk_tck)
}

/// CPU-seconds of the whole machine (all cores), from the first line of
/// /proc/stat.
#[derive(Clone, Copy)]
pub struct MachineSeconds {
    /// user + nice + system + irq + softirq.
    pub busy: f64,
    pub steal: f64,
    /// irq + softirq.
    pub irq: f64,
    pub iowait: f64,
}

fn machine_seconds(clk_tck: f64) -> Option<MachineSeconds> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<f64> = line.split_whitespace().map(|f| f.parse().unwrap_or(0.0)).collect();
    let irq = v.get(5)? + v.get(6)?;
    Some(MachineSeconds {
        busy: (v.first()? + v.get(1)? + v.get(2)? + irq) / clk_tck,
        steal: v.get(7).copied().unwrap_or(0.0) / clk_tck,
        irq: irq / clk_tck,
        iowait: v.get(4).copied().unwrap_or(0.0) / clk_tck,
    })
}

/// CPU-seconds of this process's waited-for children (wrk).
pub fn children_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return f64::NAN;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// CPU-seconds so far; `None` where /proc could not tell.
#[derive(Clone, Copy, Default)]
pub struct CpuSample {
    /// Of every server instance together.
    pub server: Option<f64>,
    pub generator: Option<f64>,
    pub machine: Option<MachineSeconds>,
}

#[derive(Clone)]
pub struct CpuMeter {
    pub server_pids: Vec<String>,
    pub clk_tck: f64,
}

impl CpuMeter {
    pub fn sample(&self) -> CpuSample {
        CpuSample {
            server: self.server_seconds(),
            generator: cpu_seconds("self", self.clk_tck),
            machine: machine_seconds(self.clk_tck),
        }
    }

    /// The instances' CPU-seconds together; `None` without pids, or if one
    /// could not be read.
    fn server_seconds(&self) -> Option<f64> {
        if self.server_pids.is_empty() {
            return None;
        }
        self.server_pids.iter().map(|pid| cpu_seconds(pid, self.clk_tck)).sum()
    }

    /// How many cores the machine keeps busy over the next `span` (NaN
    /// without /proc/stat).
    pub async fn machine_busy_cores(&self, span: Duration) -> f64 {
        let before = self.sample();
        tokio::time::sleep(span).await;
        let after = self.sample();
        match (before.machine, after.machine) {
            (Some(a), Some(b)) => (b.busy - a.busy) / span.as_secs_f64(),
            _ => f64::NAN,
        }
    }
}
