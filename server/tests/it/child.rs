//! The server binary as a child process, for tests that kill it (SIGKILL) the way a crash would.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::time::sleep;

/// How long a child server may take to come up on a busy machine.
const PATIENCE: Duration = Duration::from_secs(120);

/// The server binary as a child process, killed (SIGKILL) when dropped.
pub struct ChildServer {
    child: std::process::Child,
    pub base: String,
    log: PathBuf,
}

impl ChildServer {
    /// Start on a free port with `env` in `cwd`; its log goes to `<name>.log` there.
    pub async fn start(env: &[(String, String)], cwd: &Path, name: &str) -> ChildServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = cwd.join(format!("{name}.log"));
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .current_dir(cwd)
            .envs(env.iter().cloned())
            .env("TUTTI_BIND", format!("127.0.0.1:{port}"))
            .env("TUTTI_PUBLIC_URL", format!("http://127.0.0.1:{port}/"))
            .env("TUTTI_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the server binary starts");
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if let Ok(res) = reqwest::get(format!("{base}/healthz")).await
                && res.status() == StatusCode::OK
            {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the server exited ({status}): {}", std::fs::read_to_string(&log).unwrap_or_default());
            }
            assert!(started.elapsed() < PATIENCE, "the server did not come up");
            sleep(Duration::from_millis(50)).await;
        }
        ChildServer { child, base, log }
    }

    /// `kill -9`: no destructor, no graceful shutdown, no cleanup of any kind runs.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "killed, not exited: {status}");
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("child server log:\n{}", std::fs::read_to_string(&self.log).unwrap_or_default());
        }
    }
}
