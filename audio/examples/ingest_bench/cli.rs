//! The command line: arguments, usage and exit status.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::batch;

/// What the command line asks for.
pub struct Args {
    pub jobs: usize,
    pub out: Option<PathBuf>,
    pub verbose: bool,
    pub profile: bool,
    pub dirs: Vec<PathBuf>,
}

const USAGE: &str = "usage: ingest_bench [--jobs N] [--out DIR] [--verbose] [--profile] DIR...";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        out: None,
        verbose: false,
        profile: false,
        dirs: Vec::new(),
    };
    let mut it = std::env::args_os().skip(1);
    while let Some(arg) = it.next() {
        match arg.to_str() {
            Some("--jobs" | "-j") => {
                let n = it.next().and_then(|v| v.to_str().and_then(|v| v.parse::<usize>().ok()));
                args.jobs = n.filter(|&n| n > 0).ok_or("--jobs needs a positive number")?;
            }
            Some("--out" | "-o") => args.out = Some(it.next().ok_or("--out needs a directory")?.into()),
            Some("--verbose" | "-v") => args.verbose = true,
            Some("--profile") => args.profile = true,
            Some("--help" | "-h") => return Err(String::new()),
            Some(flag) if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ => args.dirs.push(arg.into()),
        }
    }
    if args.dirs.is_empty() {
        return Err("no input directory given".into());
    }
    Ok(args)
}

pub fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("ingest_bench: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match batch::run(&args) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(errors) => {
            eprintln!("ingest_bench: {errors} file(s) failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("ingest_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
