//! Load generator for Tutti's annotation loop, closed loop or open loop.
//!
//! Setup (through the public HTTP surface): a campaign with `--tasks` ten-second clips needing `--k`
//! annotations each, and `--users` annotators with API tokens. Then `--clients` concurrent clients
//! each repeat one cycle — `POST /api/v1/annotate/next`, then `POST /api/v1/tasks/{id}/annotations`
//! — as whichever annotator has waited longest (a FIFO of idle annotators, so no annotator is
//! used by two clients at once and all are used evenly). Latencies go into HDR histograms.
//!
//! With `--rate R` the loop is open instead: cycles are started on a fixed schedule, R per second,
//! whatever the server's latency, by up to `--clients` workers; a cycle's latency counts from its
//! scheduled start, so time spent waiting for a free worker (a server that falls behind) shows.
mod cpu;
mod report;
mod setup;
mod wav;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use hdrhistogram::Histogram;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser, Debug, Clone)]
#[command(name = "loadgen", version, about = "Load generator for Tutti's annotation loop (next + submit)")]
pub struct Args {
    /// Tutti's base URL, e.g. http://127.0.0.1:3000.
    #[arg(long)]
    pub base: String,
    /// Base URL of the OAuth provider the server signs in with (the mock-oauth binary).
    #[arg(long)]
    pub mock: String,
    /// Concurrent clients in the closed loop (with --rate: the most cycles in flight at once).
    #[arg(long, default_value_t = 100)]
    pub clients: usize,
    /// Open loop: start this many cycles per second on a fixed schedule instead of as soon as the
    /// last one ends; latency counts from the scheduled start.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Measured time (e.g. 30s, 2m, 500ms).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Load applied before measuring starts; not recorded.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Annotators to sign in (each gets an API token); at least --clients and --k.
    #[arg(long, default_value_t = 200)]
    pub users: usize,
    /// Annotations each task needs (Tutti allows 1 to 50).
    #[arg(long, default_value_t = 50)]
    pub k: u32,
    /// Ten-second tasks in the campaign; the run can do at most tasks × k cycles.
    #[arg(long, default_value_t = 360)]
    pub tasks: u32,
    /// Worker threads of the generator's own runtime.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Instead of --warmup/--duration: stop after this many cycles, all recorded.
    #[arg(long)]
    pub cycles: Option<u64>,
    /// Reuse the campaign and annotators saved in this file if it exists, else save them there.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Only set up (and save --state), do not run load.
    #[arg(long)]
    pub setup_only: bool,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Also write the results as a Markdown section to this file.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// Before loading, wait up to this long until other processes keep at most --quiet-cores busy.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub quiet_wait: Duration,
    /// Busy cores (whole machine) below which it counts as quiet.
    #[arg(long, default_value_t = 0.3)]
    pub quiet_cores: f64,
    /// Report the CPU used over the measured window by a process and its children: NAME=PID (repeatable).
    #[arg(long = "cpu", value_parser = parse_cpu)]
    pub cpu: Vec<(String, u32)>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len()));
    let n: f64 = num.parse().map_err(|_| format!("not a duration: {s:?} (use e.g. 30s, 2m, 500ms)"))?;
    let seconds = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        _ => return Err(format!("unknown unit in {s:?} (use ms, s or m)")),
    };
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_cpu(s: &str) -> Result<(String, u32), String> {
    let (name, pid) = s.split_once('=').ok_or("use NAME=PID")?;
    Ok((name.to_string(), pid.parse().map_err(|_| format!("not a pid: {pid}"))?))
}

/// Latencies in microseconds, 1 µs to 100 s at 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000, 3).expect("valid histogram bounds")
}

/// What one client saw; merged into the report at the end.
pub struct Tally {
    /// Successful cycles (next 200, submit 201) completed inside the measured window.
    pub cycle: Histogram<u64>,
    /// Every `next` / `submit` response completed inside the window, whatever its status.
    pub next: Histogram<u64>,
    pub submit: Histogram<u64>,
    pub next_status: BTreeMap<u16, u64>,
    pub submit_status: BTreeMap<u16, u64>,
    /// Requests that got no HTTP response (connection refused, reset, timeout), by kind.
    pub transport: BTreeMap<String, u64>,
    /// One response body per (request, status) that was not the expected one.
    pub samples: BTreeMap<String, String>,
    /// Everything sent, warm-up included (for per-cycle server-side counts).
    pub all_next: u64,
    pub all_submit: u64,
    pub all_cycles: u64,
}

impl Tally {
    fn new() -> Self {
        Tally {
            cycle: histogram(),
            next: histogram(),
            submit: histogram(),
            next_status: BTreeMap::new(),
            submit_status: BTreeMap::new(),
            transport: BTreeMap::new(),
            samples: BTreeMap::new(),
            all_next: 0,
            all_submit: 0,
            all_cycles: 0,
        }
    }

    fn merge(&mut self, o: Tally) {
        self.cycle.add(&o.cycle).expect("same bounds");
        self.next.add(&o.next).expect("same bounds");
        self.submit.add(&o.submit).expect("same bounds");
        for (k, v) in o.next_status {
            *self.next_status.entry(k).or_default() += v;
        }
        for (k, v) in o.submit_status {
            *self.submit_status.entry(k).or_default() += v;
        }
        for (k, v) in o.transport {
            *self.transport.entry(k).or_default() += v;
        }
        for (k, v) in o.samples {
            self.samples.entry(k).or_insert(v);
        }
        self.all_next += o.all_next;
        self.all_submit += o.all_submit;
        self.all_cycles += o.all_cycles;
    }
}

struct Shared {
    base: String,
    tokens: Vec<String>,
    idle: Mutex<VecDeque<usize>>,
    measure_start: Instant,
    measure_end: Instant,
    /// In --cycles mode: cycles still to start.
    budget: Option<AtomicU64>,
    nonce: u64,
    /// Open loop: scheduled start times, one per cycle.
    tickets: Option<tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<Instant>>>,
}

impl Shared {
    fn in_window(&self, t: Instant) -> bool {
        t >= self.measure_start && t <= self.measure_end
    }
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, 100_000_000)
}

#[derive(serde::Deserialize)]
struct Assignment {
    task_id: String,
    instruments: Vec<AskedInstrument>,
}

#[derive(serde::Deserialize)]
struct AskedInstrument {
    slug: String,
}

async fn client_loop(id: usize, http: reqwest::Client, s: Arc<Shared>) -> Tally {
    let mut tally = Tally::new();
    let next_url = format!("{}/api/v1/annotate/next", s.base);
    let mut seq = 0u64;
    loop {
        if Instant::now() >= s.measure_end {
            break;
        }
        if let Some(b) = &s.budget
            && b.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_err()
        {
            break;
        }
        // Open loop: the cycle's scheduled start (it may be late if every worker was busy).
        let scheduled = match &s.tickets {
            Some(rx) => match rx.lock().await.recv().await {
                Some(at) => Some(at),
                None => break,
            },
            None => None,
        };
        let user = loop {
            if let Some(u) = s.idle.lock().expect("idle annotators").pop_front() {
                break u;
            }
            // More clients than annotators: wait for one to come free.
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let token = &s.tokens[user];
        seq += 1;

        let sent = Instant::now();
        let t0 = scheduled.unwrap_or(sent);
        tally.all_next += 1;
        let res = http.post(&next_url).bearer_auth(token).send().await;
        let (status, body) = match res {
            Ok(r) => {
                let status = r.status();
                match r.bytes().await {
                    Ok(b) => (Some(status), b),
                    Err(_) => (None, Default::default()),
                }
            }
            Err(_) => (None, Default::default()),
        };
        let t1 = Instant::now();
        let recorded = s.in_window(t1);
        let Some(status) = status else {
            if recorded {
                *tally.transport.entry("next".into()).or_default() += 1;
            }
            s.idle.lock().expect("idle annotators").push_back(user);
            continue;
        };
        if recorded {
            tally.next.record(micros(t1 - sent)).ok();
            *tally.next_status.entry(status.as_u16()).or_default() += 1;
        }
        // Only what the answer needs; the rest (waveform, instructions) is skipped unparsed.
        let assignment: Option<Assignment> =
            if status == StatusCode::OK { serde_json::from_slice(&body).ok() } else { None };
        let Some(task_id) = assignment.as_ref().map(|a| a.task_id.clone()) else {
            if status != StatusCode::OK && status != StatusCode::NO_CONTENT {
                tally
                    .samples
                    .entry(format!("next {}", status.as_u16()))
                    .or_insert_with(|| String::from_utf8_lossy(&body).chars().take(300).collect());
            }
            s.idle.lock().expect("idle annotators").push_back(user);
            if status == StatusCode::NO_CONTENT {
                // Nothing left for this annotator right now; do not spin.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            continue;
        };
        // Answer every instrument the assignment asks about.
        let answers: serde_json::Map<String, Value> = assignment
            .iter()
            .flat_map(|a| a.instruments.iter())
            .enumerate()
            .map(|(j, i)| {
                let v = if (seq + j as u64).is_multiple_of(3) { "absent" } else { "present" };
                (i.slug.clone(), json!(v))
            })
            .collect();
        let submission = json!({
            "client_id": format!("load-{:x}-{id}-{seq}", s.nonce),
            "answers": answers,
            "play_count": 1,
            "listening_ms": 9000,
            "time_to_submit_ms": 12000,
        });
        tally.all_submit += 1;
        let res = http
            .post(format!("{}/api/v1/tasks/{task_id}/annotations", s.base))
            .bearer_auth(token)
            .json(&submission)
            .send()
            .await;
        let (status, body) = match res {
            Ok(r) => {
                let status = r.status();
                match r.bytes().await {
                    Ok(b) => (Some(status), b),
                    Err(_) => (None, Default::default()),
                }
            }
            Err(_) => (None, Default::default()),
        };
        let t2 = Instant::now();
        s.idle.lock().expect("idle annotators").push_back(user);
        let recorded = s.in_window(t2);
        let Some(status) = status else {
            if recorded {
                *tally.transport.entry("submit".into()).or_default() += 1;
            }
            continue;
        };
        if recorded {
            tally.submit.record(micros(t2 - t1)).ok();
            *tally.submit_status.entry(status.as_u16()).or_default() += 1;
        }
        if status == StatusCode::CREATED {
            tally.all_cycles += 1;
            if recorded {
                tally.cycle.record(micros(t2 - t0)).ok();
            }
        } else {
            tally
                .samples
                .entry(format!("submit {}", status.as_u16()))
                .or_insert_with(|| String::from_utf8_lossy(&body).chars().take(300).collect());
        }
    }
    tally
}

/// Busy cores of the whole machine over `over`.
async fn busy_cores(over: Duration) -> Option<f64> {
    let a = cpu::machine_seconds()?;
    tokio::time::sleep(over).await;
    let b = cpu::machine_seconds()?;
    Some((b.0 - a.0) / over.as_secs_f64())
}

/// Wait until the machine is quiet (the server is idle now, so what is busy is someone else).
/// Returns the busy cores last seen and how long it waited.
async fn wait_quiet(args: &Args) -> (f64, Duration) {
    let started = Instant::now();
    loop {
        let busy = busy_cores(Duration::from_secs(3)).await.unwrap_or(0.0);
        let waited = started.elapsed();
        if busy <= args.quiet_cores {
            return (busy, waited);
        }
        if waited >= args.quiet_wait {
            eprintln!(
                "other processes still keep {busy:.2} cores busy after {:.0} s; measuring anyway",
                waited.as_secs_f64()
            );
            return (busy, waited);
        }
        eprintln!(
            "other processes keep {busy:.2} cores busy; waiting for a quiet machine ({:.0} s so far)",
            waited.as_secs_f64()
        );
        tokio::time::sleep(Duration::from_secs(7)).await;
    }
}

fn nonce() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
}

async fn run(args: Args) -> Result<(), Error> {
    let base = args.base.trim_end_matches('/').to_string();
    let mock = args.mock.trim_end_matches('/').to_string();
    let nonce = nonce();
    let saved = match &args.state {
        Some(p) if p.exists() => {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(p)?)?;
            Some(setup::State::from_json(&v).ok_or_else(|| format!("{}: not a loadgen state file", p.display()))?)
        }
        _ => None,
    };
    let state = match saved {
        Some(s) => {
            eprintln!("setup: reusing campaign {} and {} annotators", s.campaign_id, s.users.len());
            s
        }
        None => {
            if args.users < args.k as usize {
                return Err(format!("--users ({}) must be at least --k ({})", args.users, args.k).into());
            }
            let s = setup::run(&base, &mock, args.users, args.k, args.tasks, nonce).await?;
            if let Some(p) = &args.state {
                std::fs::write(p, serde_json::to_string_pretty(&s.to_json())?)?;
            }
            s
        }
    };
    if args.setup_only {
        return Ok(());
    }
    if state.users.len() < args.clients {
        eprintln!(
            "warning: {} clients share {} annotators; clients will wait for a free annotator",
            args.clients,
            state.users.len()
        );
    }

    let quiet = if args.quiet_wait.is_zero() { None } else { Some(wait_quiet(&args).await) };

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients * 2)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?;
    let start = Instant::now();
    let (measure_start, measure_end, budget) = match args.cycles {
        Some(n) => (start, start + Duration::from_secs(24 * 3600), Some(AtomicU64::new(n))),
        None => (start + args.warmup, start + args.warmup + args.duration, None),
    };
    // Open loop: a ticker hands out scheduled start times; the channel is unbounded, so when every
    // worker is busy the schedule is kept and the delay is counted in the cycle's latency.
    let tickets = match args.rate {
        Some(rate) if rate > 0.0 => {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
            let every = Duration::from_secs_f64(1.0 / rate);
            tokio::spawn(async move {
                let mut i = 0u32;
                loop {
                    let at = start + every * i;
                    if at >= measure_end {
                        break;
                    }
                    tokio::time::sleep_until(at.into()).await;
                    if tx.send(at).is_err() {
                        break;
                    }
                    i += 1;
                }
            });
            Some(rx)
        }
        Some(_) => return Err("--rate must be greater than zero".into()),
        None => None,
    };
    let shared = Arc::new(Shared {
        base: base.clone(),
        tokens: state.users.iter().map(|(_, t)| t.clone()).collect(),
        idle: Mutex::new((0..state.users.len()).collect()),
        measure_start,
        measure_end,
        budget,
        nonce,
        tickets: tickets.map(tokio::sync::Mutex::new),
    });
    eprintln!(
        "load: {} {}, {} annotators, campaign {} ({} tasks × k {}); {}",
        args.clients,
        match args.rate {
            Some(r) => format!("workers, open loop at {r} cycles/s"),
            None => "clients".to_string(),
        },
        state.users.len(),
        state.campaign_id,
        state.tasks,
        state.k,
        match args.cycles {
            Some(n) => format!("{n} cycles"),
            None => format!("{:?} warm-up then {:?} measured", args.warmup, args.duration),
        }
    );

    // CPU of the watched processes over exactly the measured window.
    let watched = args.cpu.clone();
    let cpu = tokio::spawn(async move {
        tokio::time::sleep_until(measure_start.into()).await;
        let a = (Instant::now(), cpu::sample(&watched));
        (a, watched)
    });
    let mut handles = Vec::new();
    for id in 0..args.clients {
        handles.push(tokio::spawn(client_loop(id, http.clone(), shared.clone())));
    }
    let ((t_a, sample_a), watched) = cpu.await?;
    let cpu_end = if args.cycles.is_none() {
        tokio::time::sleep_until(measure_end.into()).await;
        Some((Instant::now(), cpu::sample(&watched)))
    } else {
        None
    };
    let mut total = Tally::new();
    for h in handles {
        total.merge(h.await?);
    }
    let finished = Instant::now();
    let window = match args.cycles {
        Some(_) => finished - measure_start,
        None => args.duration,
    };
    let (t_b, sample_b) = cpu_end.unwrap_or_else(|| (finished, cpu::sample(&watched)));
    let usage = cpu::usage(&sample_a, &sample_b, (t_b - t_a).as_secs_f64());

    let r = report::Report { args: &args, state: &state, tally: &total, window, usage, quiet };
    println!("{}", r.text());
    if let Some(p) = &args.json {
        std::fs::write(p, serde_json::to_string_pretty(&r.json())?)?;
    }
    if let Some(p) = &args.markdown {
        std::fs::write(p, r.markdown())?;
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(args.threads.max(1)).enable_all().build() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("loadgen: cannot start the runtime: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
