//! The results as text (terminal), JSON and a Markdown section.
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::setup::State;
use crate::{Args, Tally};

pub struct Report<'a> {
    pub args: &'a Args,
    pub state: &'a State,
    pub tally: &'a Tally,
    pub window: Duration,
    pub usage: crate::cpu::Usage,
    /// With --quiet-wait: busy cores just before the run, and how long it waited for them.
    pub quiet: Option<(f64, Duration)>,
}

const QUANTILES: [(&str, f64); 4] = [("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p99.9", 0.999)];

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn row(name: &str, h: &Histogram<u64>) -> Vec<String> {
    let mut r = vec![name.to_string(), h.len().to_string()];
    if h.is_empty() {
        r.extend(std::iter::repeat_n("–".to_string(), QUANTILES.len() + 2));
        return r;
    }
    for (_, q) in QUANTILES {
        r.push(format!("{:.1}", ms(h.value_at_quantile(q))));
    }
    r.push(format!("{:.1}", ms(h.max())));
    r.push(format!("{:.1}", h.mean() / 1000.0));
    r
}

fn statuses(m: &std::collections::BTreeMap<u16, u64>) -> String {
    if m.is_empty() {
        return "none".into();
    }
    m.iter().map(|(s, n)| format!("{s}×{n}")).collect::<Vec<_>>().join(", ")
}

impl Report<'_> {
    fn secs(&self) -> f64 {
        self.window.as_secs_f64()
    }

    pub fn cycles(&self) -> u64 {
        self.tally.cycle.len()
    }

    pub fn rate(&self) -> f64 {
        self.cycles() as f64 / self.secs()
    }

    fn requests(&self) -> u64 {
        self.tally.next_status.values().sum::<u64>()
            + self.tally.submit_status.values().sum::<u64>()
            + self.tally.transport.values().sum::<u64>()
    }

    /// 204s: no task for that annotator (not an error, but the campaign was too small if many).
    pub fn empty(&self) -> u64 {
        self.tally.next_status.get(&204).copied().unwrap_or(0)
    }

    /// Responses other than next 200/204 and submit 201, plus requests without a response.
    pub fn errors(&self) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        for (s, n) in &self.tally.next_status {
            if *s != 200 && *s != 204 {
                out.push((format!("next {s}"), *n));
            }
        }
        for (s, n) in &self.tally.submit_status {
            if *s != 201 {
                out.push((format!("submit {s}"), *n));
            }
        }
        for (k, n) in &self.tally.transport {
            out.push((format!("{k}: no response"), *n));
        }
        out
    }

    fn rows(&self) -> Vec<Vec<String>> {
        vec![
            row("cycle (next + submit)", &self.tally.cycle),
            row("POST /api/v1/annotate/next", &self.tally.next),
            row("POST /api/v1/tasks/{id}/annotations", &self.tally.submit),
        ]
    }

    fn header(&self) -> Vec<String> {
        let mut h = vec!["latency, ms".to_string(), "count".to_string()];
        h.extend(QUANTILES.iter().map(|(n, _)| n.to_string()));
        h.push("max".into());
        h.push("mean".into());
        h
    }

    fn setup_line(&self) -> String {
        let mode = match self.args.cycles {
            Some(n) => format!("{n} cycles"),
            None => format!(
                "{:.0} s measured after {:.0} s warm-up",
                self.args.duration.as_secs_f64(),
                self.args.warmup.as_secs_f64()
            ),
        };
        let clients = match (self.args.rate, self.args.clients) {
            (Some(r), n) => format!(
                "open loop at {r} cycles/s offered (at most {n} in flight; latency from each cycle's scheduled start)"
            ),
            (None, 1) => "1 client".to_string(),
            (None, n) => format!("{n} clients"),
        };
        format!(
            "{clients}, {mode}; {} annotators; campaign of {} tasks × k = {} (capacity {} cycles)",
            self.state.users.len(),
            self.state.tasks,
            self.state.k,
            self.state.tasks * self.state.k as u64
        )
    }

    fn cpu_lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .usage
            .processes
            .iter()
            .map(|(name, c)| match c {
                // CPU time per completed cycle is what sets the ceiling on a saturated machine.
                Some(c) if self.cycles() > 0 => {
                    format!("{name} {c:.2} ({:.2} ms per cycle)", c * self.secs() * 1000.0 / self.cycles() as f64)
                }
                Some(c) => format!("{name} {c:.2}"),
                None => format!("{name} n/a"),
            })
            .collect();
        if let Some(others) = self.others() {
            out.push(format!("other processes {others:.2}"));
        }
        if let Some((busy, cores)) = self.usage.machine {
            out.push(format!("whole machine {busy:.2} of {cores:.0}"));
        }
        out
    }

    fn quiet_line(&self) -> Option<String> {
        self.quiet.map(|(busy, waited)| {
            format!(
                "just before the run the machine was {busy:.2} cores busy with other work (waited {:.0} s for at most {})",
                waited.as_secs_f64(),
                self.args.quiet_cores
            )
        })
    }

    /// Cores used by processes that are neither watched (--cpu) nor the generator, e.g. builds
    /// running on the same machine: they were taking CPU from the server.
    pub fn others(&self) -> Option<f64> {
        if self.args.cpu.is_empty() {
            return None;
        }
        let ours: f64 = self.usage.processes.iter().filter_map(|(_, c)| *c).sum();
        self.usage.machine.map(|(busy, _)| (busy - ours).max(0.0))
    }

    fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if let Some(others) = self.others().filter(|o| *o > 0.25) {
            w.push(format!(
                "other processes used {others:.2} cores during the measured window; the server had that much \
                 less CPU than on an otherwise idle machine"
            ));
        }
        if self.empty() > 0 {
            w.push(format!(
                "{} `next` calls found no task (204): the campaign ran (nearly) dry for some annotators, so this \
                 run under-loads the server; use more --tasks",
                self.empty()
            ));
        }
        w
    }

    pub fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "\nAnnotation loop: {}", self.setup_line());
        let _ = writeln!(
            s,
            "throughput: {} cycles in {:.1} s = {:.1} cycles/s ({:.1} requests/s)",
            self.cycles(),
            self.secs(),
            self.rate(),
            self.requests() as f64 / self.secs()
        );
        let widths = [36, 8, 8, 8, 8, 8, 8, 8];
        let mut table = vec![self.header()];
        table.extend(self.rows());
        for r in table {
            for (i, cell) in r.iter().enumerate() {
                if i == 0 {
                    let _ = write!(s, "{cell:<w$}", w = widths[i]);
                } else {
                    let _ = write!(s, "{cell:>w$}", w = widths[i]);
                }
            }
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "statuses: next {}; submit {}",
            statuses(&self.tally.next_status),
            statuses(&self.tally.submit_status)
        );
        let _ = writeln!(s, "no task (204): {}", self.empty());
        let errors = self.errors();
        if errors.is_empty() {
            let _ = writeln!(s, "errors: none");
        } else {
            let _ = writeln!(
                s,
                "errors: {}",
                errors.iter().map(|(k, n)| format!("{k} ×{n}")).collect::<Vec<_>>().join(", ")
            );
            for (k, body) in &self.tally.samples {
                let _ = writeln!(s, "  e.g. {k}: {body}");
            }
        }
        let cpu = self.cpu_lines();
        if !cpu.is_empty() {
            let _ = writeln!(s, "CPU over the measured window, in cores: {}", cpu.join(", "));
        }
        if let Some(q) = self.quiet_line() {
            let _ = writeln!(s, "{q}");
        }
        let _ = writeln!(
            s,
            "sent in all (warm-up included): {} next, {} submit, {} completed cycles",
            self.tally.all_next, self.tally.all_submit, self.tally.all_cycles
        );
        for w in self.warnings() {
            let _ = writeln!(s, "WARNING: {w}");
        }
        s
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}.\n", self.setup_line());
        let _ = writeln!(
            s,
            "**{:.1} cycles/s** ({} cycles in {:.1} s; {:.1} HTTP requests/s). Cycle latency p50 {} ms, p99 {} ms.\n",
            self.rate(),
            self.cycles(),
            self.secs(),
            self.requests() as f64 / self.secs(),
            row("", &self.tally.cycle)[2],
            row("", &self.tally.cycle)[4],
        );
        let header = self.header();
        let _ = writeln!(s, "| {} |", header.join(" | "));
        let _ = writeln!(s, "|{}", "---|".repeat(header.len()));
        for r in self.rows() {
            let _ = writeln!(s, "| {} |", r.join(" | "));
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "- statuses: next {}; submit {}",
            statuses(&self.tally.next_status),
            statuses(&self.tally.submit_status)
        );
        let _ = writeln!(s, "- no task (204, not an error): {}", self.empty());
        let errors = self.errors();
        if errors.is_empty() {
            let _ = writeln!(s, "- errors: none");
        } else {
            let list = errors.iter().map(|(k, n)| format!("{k} ×{n}")).collect::<Vec<_>>().join(", ");
            let _ = writeln!(s, "- errors: {list}");
            for (k, body) in &self.tally.samples {
                let _ = writeln!(s, "  - e.g. {k}: `{}`", body.replace('`', "'"));
            }
        }
        let cpu = self.cpu_lines();
        if !cpu.is_empty() {
            let _ = writeln!(s, "- CPU over the measured window, in cores: {}", cpu.join(", "));
        }
        if let Some(q) = self.quiet_line() {
            let _ = writeln!(s, "- {q}");
        }
        for w in self.warnings() {
            let _ = writeln!(s, "- **warning**: {w}");
        }
        s
    }

    pub fn json(&self) -> Value {
        let h = |h: &Histogram<u64>| {
            if h.is_empty() {
                return json!({"count": 0});
            }
            let mut o = serde_json::Map::new();
            o.insert("count".into(), json!(h.len()));
            for (n, q) in QUANTILES {
                o.insert(format!("{n}_ms"), json!(ms(h.value_at_quantile(q))));
            }
            o.insert("max_ms".into(), json!(ms(h.max())));
            o.insert("mean_ms".into(), json!(h.mean() / 1000.0));
            Value::Object(o)
        };
        json!({
            "clients": self.args.clients,
            "offered_cycles_per_s": self.args.rate,
            "annotators": self.state.users.len(),
            "tasks": self.state.tasks,
            "k": self.state.k,
            "warmup_s": if self.args.cycles.is_some() { 0.0 } else { self.args.warmup.as_secs_f64() },
            "window_s": self.secs(),
            "cycles": self.cycles(),
            "cycles_per_s": self.rate(),
            "requests_per_s": self.requests() as f64 / self.secs(),
            "latency": {"cycle": h(&self.tally.cycle), "next": h(&self.tally.next), "submit": h(&self.tally.submit)},
            "next_status": self.tally.next_status,
            "submit_status": self.tally.submit_status,
            "no_task": self.empty(),
            "errors": self.errors().into_iter().collect::<std::collections::BTreeMap<_, _>>(),
            "error_samples": self.tally.samples,
            "cpu_cores": self.usage.processes.iter().map(|(n, c)| (n.clone(), json!(c))).collect::<serde_json::Map<_, _>>(),
            "machine_busy_cores": self.usage.machine.map(|(b, _)| b),
            "other_processes_cores": self.others(),
            "busy_before_cores": self.quiet.map(|q| q.0),
            "waited_for_quiet_s": self.quiet.map(|q| q.1.as_secs_f64()),
            "sent_total": {"next": self.tally.all_next, "submit": self.tally.all_submit, "cycles": self.tally.all_cycles},
        })
    }
}
