//! A phase's figures: latency percentiles, rps, CPU shares, and their
//! JSON form in the report.

use crate::cpu::{CpuSample, MachineSeconds};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Latency summary, in ms (NaN when there were no requests).
#[derive(Clone, Copy)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Latency {
    /// Nearest-rank percentiles of `sorted` (µs).
    fn of(sorted: &[u32]) -> Self {
        let pct = |p: f64| {
            if sorted.is_empty() {
                return f64::NAN;
            }
            let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
            f64::from(sorted[rank.min(sorted.len()) - 1]) / 1000.0
        };
        let mean = if sorted.is_empty() {
            f64::NAN
        } else {
            sorted.iter().map(|v| f64::from(*v)).sum::<f64>() / sorted.len() as f64 / 1000.0
        };
        Latency { p50: pct(50.0), p90: pct(90.0), p99: pct(99.0), max: pct(100.0), mean }
    }
}

/// A latency sample: microseconds, saturating.
pub fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

pub struct PhaseResult {
    pub scenario: String,
    pub concurrency: usize,
    pub requests: u64,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    pub elapsed: Duration,
    pub latency: Latency,
    pub server_cpu: Option<f64>,
    pub gen_cpu: Option<f64>,
    machine_cpu: Option<f64>,
    steal_cpu: Option<f64>,
    irq_cpu: Option<f64>,
    iowait: Option<f64>,
    pub per_second: Vec<u64>,
    pub statuses: BTreeMap<String, u64>,
    pub generator: &'static str,
    pub notes: Vec<String>,
    pub sample_error: Option<String>,
}

impl PhaseResult {
    #[allow(clippy::too_many_arguments)]
    pub fn from_latencies(
        scenario: &str,
        concurrency: usize,
        mut lat: Vec<u32>,
        ok: u64,
        errors: BTreeMap<String, u64>,
        elapsed: Duration,
        before: CpuSample,
        after: CpuSample,
    ) -> Self {
        lat.sort_unstable();
        let diff = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
        let machine = |field: fn(&MachineSeconds) -> f64| {
            diff(before.machine.as_ref().map(field), after.machine.as_ref().map(field))
        };
        PhaseResult {
            scenario: scenario.into(),
            concurrency,
            requests: lat.len() as u64,
            ok,
            errors,
            elapsed,
            latency: Latency::of(&lat),
            server_cpu: diff(before.server, after.server),
            gen_cpu: diff(before.generator, after.generator),
            machine_cpu: machine(|m| m.busy),
            steal_cpu: machine(|m| m.steal),
            irq_cpu: machine(|m| m.irq),
            iowait: machine(|m| m.iowait),
            per_second: Vec::new(),
            statuses: BTreeMap::new(),
            generator: "miniauth-load",
            notes: Vec::new(),
            sample_error: None,
        }
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    pub fn cores(&self, cpu: Option<f64>) -> Option<f64> {
        cpu.map(|c| c / self.elapsed.as_secs_f64())
    }

    /// Machine CPU used by neither the server nor the generator nor
    /// interrupts: other processes (and kernel threads).
    pub fn other_cpu(&self) -> Option<f64> {
        Some((self.machine_cpu? - self.server_cpu? - self.gen_cpu? - self.irq_cpu?).max(0.0))
    }

    pub fn json(&self) -> Value {
        let server_cores = self.cores(self.server_cpu);
        json!({
            "scenario": self.scenario,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "ok": self.ok,
            "errors": self.error_count(),
            "errors_by_kind": self.errors,
            "status_counts": self.statuses,
            "elapsed_s": round(self.elapsed.as_secs_f64(), 3),
            "rps": round(self.rps(), 1),
            "latency_ms": {
                "p50": round(self.latency.p50, 3),
                "p90": round(self.latency.p90, 3),
                "p99": round(self.latency.p99, 3),
                "max": round(self.latency.max, 3),
                "mean": round(self.latency.mean, 3),
            },
            "server_cpu_s": self.server_cpu.map(|v| round(v, 2)),
            "server_cores_busy": server_cores.map(|v| round(v, 2)),
            "rps_per_server_core": server_cores.filter(|c| *c > 0.0).map(|c| round(self.rps() / c, 1)),
            "generator": self.generator,
            "generator_cpu_s": self.gen_cpu.map(|v| round(v, 2)),
            "generator_cores_busy": self.cores(self.gen_cpu).map(|v| round(v, 2)),
            "machine_cores_busy": self.cores(self.machine_cpu).map(|v| round(v, 2)),
            "other_cores_busy": self.cores(self.other_cpu()).map(|v| round(v, 2)),
            "irq_softirq_cores": self.cores(self.irq_cpu).map(|v| round(v, 2)),
            "steal_cores": self.cores(self.steal_cpu).map(|v| round(v, 2)),
            "iowait_cores": self.cores(self.iowait).map(|v| round(v, 2)),
            "ok_per_second": self.per_second,
            "notes": self.notes,
            "sample_error": self.sample_error,
        })
    }
}

/// `v` to `digits` decimals, null if it is not finite (JSON has no NaN).
pub fn round(v: f64, digits: i32) -> Value {
    if !v.is_finite() {
        return Value::Null;
    }
    let m = 10f64.powi(digits);
    json!((v * m).round() / m)
}
