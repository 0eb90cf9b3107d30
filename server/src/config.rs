//! Typed configuration: embedded defaults, then an optional TOML file, then environment variables.
//! Everything is parsed and checked once at start-up; an error names the key that is wrong.
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use url::Url;

/// Google's endpoints: the defaults for the OAuth provider.
pub const GOOGLE_AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
pub const GOOGLE_USERINFO_URL: &str = "https://openidconnect.googleapis.com/v1/userinfo";

#[derive(Clone, Debug)]
pub struct Config {
    pub bind: SocketAddr,
    pub public_url: Url,
    pub database_url: String,
    pub storage: Storage,
    pub oauth: Option<OAuthConfig>,
    pub admin_emails: Vec<String>,
    pub demo: bool,
    pub max_upload_bytes: u64,
    pub max_audio_seconds: u64,
    pub canonical_rate: u32,
    pub default_license: app::domain::Licence,
    pub audio_jobs: usize,
    pub tmp_dir: PathBuf,
    pub lease_seconds: i64,
    /// Database connections in the pool (None: 10 for PostgreSQL, 4 for SQLite).
    pub db_pool: Option<u32>,
    pub session_idle_minutes: i64,
    pub site_root: PathBuf,
    pub log_filter: String,
    pub log_json: bool,
    /// A client must send a request's whole header within this many seconds.
    pub header_timeout_secs: u64,
    /// A connection that sends or accepts nothing for this many seconds is closed (a stalled
    /// upload body, an idle keep-alive connection, a reader that stopped reading).
    pub idle_timeout_secs: u64,
    /// While the server waits on a client (a request body, a response it should read), the client
    /// must move at least this many bytes per second, averaged over each idle period; 0 turns the
    /// check off.
    pub min_transfer_rate: u64,
    /// Connections served at once; further clients wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Staging files and objects without a database row are removed once they are this old.
    pub cleanup_grace_secs: u64,
    /// How often the cleanup runs (it also runs at start-up).
    pub cleanup_every_secs: u64,
    /// A running background job whose worker has not beaten its heart for this long is taken over.
    pub job_stale_secs: u64,
    /// How often an idle job worker looks for work queued by another process.
    pub job_poll_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Storage {
    Local(PathBuf),
    S3 { bucket: String, prefix: String },
}

#[derive(Clone, Debug)]
pub struct OAuthConfig {
    pub client_id: String,
    pub client_secret: String,
    pub auth_url: Url,
    pub token_url: Url,
    pub userinfo_url: Url,
    pub provider_name: String,
}

/// A configuration problem, naming the key (`TUTTI_BIND`, or `bind` in the TOML file).
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {key}: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

/// Every key: (environment variable, TOML key, default).
const KEYS: &[(&str, &str, Option<&str>)] = &[
    ("TUTTI_BIND", "bind", Some("127.0.0.1:3000")),
    ("TUTTI_PUBLIC_URL", "public_url", None),
    ("DATABASE_URL", "database_url", Some("sqlite://data/tutti.db?mode=rwc")),
    ("TUTTI_STORAGE", "storage", Some("data/objects")),
    ("TUTTI_OAUTH_CLIENT_ID", "oauth_client_id", None),
    ("TUTTI_OAUTH_CLIENT_SECRET", "oauth_client_secret", None),
    ("TUTTI_OAUTH_AUTH_URL", "oauth_auth_url", Some(GOOGLE_AUTH_URL)),
    ("TUTTI_OAUTH_TOKEN_URL", "oauth_token_url", Some(GOOGLE_TOKEN_URL)),
    ("TUTTI_OAUTH_USERINFO_URL", "oauth_userinfo_url", Some(GOOGLE_USERINFO_URL)),
    ("TUTTI_OAUTH_PROVIDER_NAME", "oauth_provider_name", Some("Google")),
    ("TUTTI_ADMIN_EMAILS", "admin_emails", Some("")),
    ("TUTTI_DEMO", "demo", Some("true")),
    ("TUTTI_MAX_UPLOAD_BYTES", "max_upload_bytes", Some("1GiB")),
    ("TUTTI_MAX_AUDIO_SECONDS", "max_audio_seconds", Some("10800")),
    ("TUTTI_CANONICAL_RATE", "canonical_rate", Some("44100")),
    ("TUTTI_DEFAULT_LICENSE", "default_license", Some("CC-BY-4.0")),
    ("TUTTI_AUDIO_JOBS", "audio_jobs", None),
    ("TUTTI_TMP_DIR", "tmp_dir", Some("data/tmp")),
    ("TUTTI_LEASE_SECONDS", "lease_seconds", Some("600")),
    ("TUTTI_DB_POOL", "db_pool", None),
    ("TUTTI_SESSION_IDLE_MINUTES", "session_idle_minutes", Some("20160")),
    ("LEPTOS_SITE_ROOT", "site_root", Some("target/site")),
    ("TUTTI_LOG", "log", Some("info")),
    ("TUTTI_LOG_FORMAT", "log_format", Some("text")),
    ("TUTTI_HEADER_TIMEOUT_SECONDS", "header_timeout_seconds", Some("10")),
    ("TUTTI_IDLE_TIMEOUT_SECONDS", "idle_timeout_seconds", Some("60")),
    ("TUTTI_MIN_TRANSFER_RATE", "min_transfer_rate", Some("256")),
    ("TUTTI_MAX_CONNECTIONS", "max_connections", Some("1024")),
    ("TUTTI_CLEANUP_GRACE_SECONDS", "cleanup_grace_seconds", Some("86400")),
    ("TUTTI_CLEANUP_EVERY_SECONDS", "cleanup_every_seconds", Some("3600")),
    ("TUTTI_JOB_STALE_SECONDS", "job_stale_seconds", Some("30")),
    ("TUTTI_JOB_POLL_MS", "job_poll_ms", Some("1000")),
];

/// Where each raw value came from, so errors can name it the way the user wrote it.
struct Raw {
    values: BTreeMap<&'static str, (String, String)>, // env name → (source label, value)
}

impl Raw {
    fn get(&self, env: &str) -> Option<(&str, &str)> {
        self.values.get(env).map(|(label, v)| (label.as_str(), v.as_str()))
    }

    fn parse<T>(&self, env: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<Option<T>, ConfigError> {
        match self.get(env) {
            None => Ok(None),
            Some((label, v)) => parse(v).map(Some).map_err(|message| ConfigError { key: label.to_string(), message }),
        }
    }

    fn required<T>(&self, env: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<T, ConfigError> {
        self.parse(env, parse)?.ok_or_else(|| ConfigError { key: env.to_string(), message: "missing".into() })
    }
}

impl Config {
    /// Read from the process environment and, if present, the TOML file named by `TUTTI_CONFIG`
    /// (default `tutti.toml` in the working directory).
    pub fn from_env() -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let explicit = env.iter().find(|(k, _)| k == "TUTTI_CONFIG").map(|(_, v)| PathBuf::from(v));
        let file = match explicit {
            Some(path) => Some(path),
            None => Some(PathBuf::from("tutti.toml")).filter(|p| p.exists()),
        };
        Self::load(env, file.as_deref())
    }

    /// Defaults, then the TOML file, then `env` (later wins).
    pub fn load(env: impl IntoIterator<Item = (String, String)>, file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut raw = Raw { values: BTreeMap::new() };
        for (env_name, _, default) in KEYS {
            if let Some(d) = default {
                raw.values.insert(env_name, (env_name.to_string(), d.to_string()));
            }
        }
        if let Some(path) = file {
            let label = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
                key: "TUTTI_CONFIG".into(),
                message: format!("cannot read {label}: {e}"),
            })?;
            let table: toml::Table = text.parse().map_err(|e| ConfigError {
                key: "TUTTI_CONFIG".into(),
                message: format!("{label} is not valid TOML: {e}"),
            })?;
            for (key, value) in table {
                let Some((env_name, toml_key, _)) = KEYS.iter().find(|(_, k, _)| *k == key) else {
                    return Err(ConfigError { key: format!("{key} in {label}"), message: "unknown key".into() });
                };
                let text = match value {
                    toml::Value::String(s) => s,
                    toml::Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_str().map(str::to_string).unwrap_or_else(|| i.to_string()))
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.to_string(),
                };
                raw.values.insert(env_name, (format!("{toml_key} in {label}"), text));
            }
        }
        for (k, v) in env {
            if let Some((env_name, _, _)) = KEYS.iter().find(|(e, _, _)| *e == k) {
                raw.values.insert(env_name, (k.clone(), v));
            }
        }
        Self::from_raw(&raw)
    }

    fn from_raw(raw: &Raw) -> Result<Self, ConfigError> {
        let bind: SocketAddr = raw.required("TUTTI_BIND", |v| {
            v.parse().map_err(|_| format!("'{v}' is not an address with a port, such as 127.0.0.1:3000"))
        })?;
        let public_url = raw
            .parse("TUTTI_PUBLIC_URL", parse_http_url)?
            .unwrap_or_else(|| Url::parse(&format!("http://{bind}/")).expect("a socket address makes a valid URL"));
        let database_url = raw.required("DATABASE_URL", |v| {
            if v.starts_with("sqlite:") || v.starts_with("postgres://") || v.starts_with("postgresql://") {
                Ok(v.to_string())
            } else {
                Err(format!("'{}' must start with sqlite: or postgres://", redact(v)))
            }
        })?;
        let storage = raw.required("TUTTI_STORAGE", parse_storage)?;
        let demo = raw.required("TUTTI_DEMO", parse_bool)?;
        if demo && !bind.ip().is_loopback() {
            let (label, _) = raw.get("TUTTI_DEMO").expect("has a default");
            return Err(ConfigError {
                key: label.to_string(),
                message: format!(
                    "demo sign-in lets anyone sign in as an admin, so it is only allowed on a loopback \
                     address, but the server binds {bind}. Turn demo mode off (TUTTI_DEMO=false) or bind to 127.0.0.1."
                ),
            });
        }
        let admin_emails = raw.required("TUTTI_ADMIN_EMAILS", |v| {
            v.split(',')
                .map(|e| e.trim().to_lowercase())
                .filter(|e| !e.is_empty())
                .map(|e| if e.contains('@') { Ok(e) } else { Err(format!("'{e}' is not an e-mail address")) })
                .collect()
        })?;
        let oauth = Self::oauth(raw)?;
        let max_upload_bytes = raw.required("TUTTI_MAX_UPLOAD_BYTES", parse_size)?;
        let max_audio_seconds = raw.required("TUTTI_MAX_AUDIO_SECONDS", |v| parse_positive(v).map(|n| n as u64))?;
        let canonical_rate = raw.required("TUTTI_CANONICAL_RATE", |v| match v.trim().parse::<u32>() {
            Ok(r) if (8_000..=192_000).contains(&r) => Ok(r),
            _ => Err(format!("'{v}' must be a sample rate between 8000 and 192000 Hz")),
        })?;
        let default_license =
            raw.required("TUTTI_DEFAULT_LICENSE", |v| app::domain::Licence::parse(v).map_err(|e| e.0))?;
        let audio_jobs = raw
            .parse("TUTTI_AUDIO_JOBS", |v| parse_positive(v).map(|n| n as usize))?
            .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
        let tmp_dir = PathBuf::from(raw.required("TUTTI_TMP_DIR", |v| Ok(v.to_string()))?);
        let lease_seconds = raw.required("TUTTI_LEASE_SECONDS", parse_positive)?;
        let db_pool = raw.parse("TUTTI_DB_POOL", |v| match parse_positive(v) {
            Ok(n) if n <= 1000 => Ok(n as u32),
            _ => Err(format!("'{v}' must be a number of connections from 1 to 1000")),
        })?;
        let session_idle_minutes = raw.required("TUTTI_SESSION_IDLE_MINUTES", parse_positive)?;
        let site_root = PathBuf::from(raw.required("LEPTOS_SITE_ROOT", |v| Ok(v.to_string()))?);
        let log_filter = raw.required("TUTTI_LOG", |v| Ok(v.to_string()))?;
        let log_json = raw.required("TUTTI_LOG_FORMAT", |v| match v {
            "text" => Ok(false),
            "json" => Ok(true),
            _ => Err(format!("'{v}' must be text or json")),
        })?;
        let seconds = |v: &str| parse_positive(v).map(|n| n as u64);
        let header_timeout_secs = raw.required("TUTTI_HEADER_TIMEOUT_SECONDS", seconds)?;
        let idle_timeout_secs = raw.required("TUTTI_IDLE_TIMEOUT_SECONDS", seconds)?;
        let min_transfer_rate = raw.required("TUTTI_MIN_TRANSFER_RATE", |v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("'{v}' must be a number of bytes per second (0 turns the check off)"))
        })?;
        let max_connections = raw.required("TUTTI_MAX_CONNECTIONS", |v| match parse_positive(v) {
            Ok(n) if n <= 1_000_000 => Ok(n as usize),
            _ => Err(format!("'{v}' must be a number of connections from 1 to 1000000")),
        })?;
        let cleanup_grace_secs = raw.required("TUTTI_CLEANUP_GRACE_SECONDS", seconds)?;
        let cleanup_every_secs = raw.required("TUTTI_CLEANUP_EVERY_SECONDS", seconds)?;
        let job_stale_secs = raw.required("TUTTI_JOB_STALE_SECONDS", seconds)?;
        let job_poll_ms = raw.required("TUTTI_JOB_POLL_MS", |v| match parse_positive(v) {
            Ok(n) if (10..=60_000).contains(&n) => Ok(n as u64),
            _ => Err(format!("'{v}' must be a number of milliseconds from 10 to 60000")),
        })?;
        Ok(Config {
            bind,
            public_url,
            database_url,
            storage,
            oauth,
            admin_emails,
            demo,
            max_upload_bytes,
            max_audio_seconds,
            canonical_rate,
            default_license,
            audio_jobs,
            tmp_dir,
            lease_seconds,
            db_pool,
            session_idle_minutes,
            site_root,
            log_filter,
            log_json,
            header_timeout_secs,
            idle_timeout_secs,
            min_transfer_rate,
            max_connections,
            cleanup_grace_secs,
            cleanup_every_secs,
            job_stale_secs,
            job_poll_ms,
        })
    }

    fn oauth(raw: &Raw) -> Result<Option<OAuthConfig>, ConfigError> {
        let non_empty = |v: &str| Ok(Some(v.trim().to_string()).filter(|s| !s.is_empty()));
        let id = raw.parse("TUTTI_OAUTH_CLIENT_ID", non_empty)?.flatten();
        let secret = raw.parse("TUTTI_OAUTH_CLIENT_SECRET", non_empty)?.flatten();
        let (client_id, client_secret) = match (id, secret) {
            (None, None) => return Ok(None),
            (Some(i), Some(s)) => (i, s),
            (Some(_), None) => {
                return Err(ConfigError {
                    key: "TUTTI_OAUTH_CLIENT_SECRET".into(),
                    message: "missing; it is needed together with TUTTI_OAUTH_CLIENT_ID".into(),
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError {
                    key: "TUTTI_OAUTH_CLIENT_ID".into(),
                    message: "missing; it is needed together with TUTTI_OAUTH_CLIENT_SECRET".into(),
                });
            }
        };
        Ok(Some(OAuthConfig {
            client_id,
            client_secret,
            auth_url: raw.required("TUTTI_OAUTH_AUTH_URL", parse_http_url)?,
            token_url: raw.required("TUTTI_OAUTH_TOKEN_URL", parse_http_url)?,
            userinfo_url: raw.required("TUTTI_OAUTH_USERINFO_URL", parse_http_url)?,
            provider_name: raw.required("TUTTI_OAUTH_PROVIDER_NAME", |v| Ok(v.to_string()))?,
        }))
    }

    /// The redirect URI to register with the OAuth provider.
    pub fn oauth_redirect_url(&self) -> Url {
        self.public_url.join("auth/google/callback").expect("a relative path joins")
    }

    pub fn cookies_secure(&self) -> bool {
        self.public_url.scheme() == "https"
    }
}

fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

fn parse_http_url(v: &str) -> Result<Url, String> {
    let url = Url::parse(v).map_err(|e| format!("'{v}' is not a URL ({e})"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        s => Err(format!("'{v}' must be an http or https URL, not {s}")),
    }
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("'{v}' must be true or false")),
    }
}

fn parse_positive(v: &str) -> Result<i64, String> {
    match v.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("'{v}' must be a whole number greater than zero")),
    }
}

/// Bytes, optionally with a unit: 500000, 500KB, 200MB, 1GiB.
fn parse_size(v: &str) -> Result<u64, String> {
    let t = v.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("'{v}' must be a size such as 500MB or 1GiB"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "kib" => 1 << 10,
        "mb" => 1_000_000,
        "mib" => 1 << 20,
        "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => {
            return Err(format!("'{v}' has an unknown unit; use B, KB, MB, GB, KiB, MiB or GiB"));
        }
    };
    match n.checked_mul(factor) {
        Some(0) | None => Err(format!("'{v}' must be a size greater than zero")),
        Some(bytes) => Ok(bytes),
    }
}

fn parse_storage(v: &str) -> Result<Storage, String> {
    if let Some(rest) = v.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("'{v}' needs a bucket name, as in s3://bucket/prefix"));
        }
        return Ok(Storage::S3 { bucket: bucket.to_string(), prefix: prefix.trim_matches('/').to_string() });
    }
    if v.contains("://") {
        return Err(format!("'{v}' must be a local directory or an s3://bucket/prefix URL"));
    }
    if v.trim().is_empty() {
        return Err("must not be empty".into());
    }
    Ok(Storage::Local(PathBuf::from(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::load(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())), None)
    }

    #[test]
    fn defaults_are_the_embedded_demo_setup() {
        let c = load(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_url.as_str(), "http://127.0.0.1:3000/");
        assert!(c.database_url.starts_with("sqlite://data/"));
        assert_eq!(c.storage, Storage::Local(PathBuf::from("data/objects")));
        assert!(c.demo);
        assert!(c.oauth.is_none());
        assert_eq!(c.max_upload_bytes, 1 << 30);
        assert!(!c.cookies_secure());
    }

    #[test]
    fn a_bad_bind_address_names_its_key() {
        let e = load(&[("TUTTI_BIND", "localhost")]).unwrap_err();
        assert_eq!(e.key, "TUTTI_BIND");
        assert!(e.to_string().contains("TUTTI_BIND"), "{e}");
    }

    #[test]
    fn demo_mode_is_refused_on_a_public_bind() {
        let e = load(&[("TUTTI_BIND", "0.0.0.0:3000")]).unwrap_err();
        assert_eq!(e.key, "TUTTI_DEMO");
        assert!(e.message.contains("loopback"), "{e}");
        let ok = load(&[("TUTTI_BIND", "0.0.0.0:3000"), ("TUTTI_DEMO", "false")]).unwrap();
        assert!(!ok.demo);
    }

    #[test]
    fn demo_mode_is_allowed_on_ipv6_loopback() {
        assert!(load(&[("TUTTI_BIND", "[::1]:3000")]).unwrap().demo);
    }

    #[test]
    fn oauth_needs_both_id_and_secret() {
        let e = load(&[("TUTTI_OAUTH_CLIENT_ID", "abc")]).unwrap_err();
        assert_eq!(e.key, "TUTTI_OAUTH_CLIENT_SECRET");
        let c = load(&[("TUTTI_OAUTH_CLIENT_ID", "abc"), ("TUTTI_OAUTH_CLIENT_SECRET", "s")]).unwrap();
        let o = c.oauth.unwrap();
        assert_eq!(o.token_url.as_str(), GOOGLE_TOKEN_URL);
        assert_eq!(o.provider_name, "Google");
    }

    #[test]
    fn bad_values_name_their_keys() {
        let cases = [
            ("TUTTI_OAUTH_AUTH_URL", "ftp://x"),
            ("TUTTI_PUBLIC_URL", "not a url"),
            ("DATABASE_URL", "mysql://x"),
            ("TUTTI_DEMO", "maybe"),
            ("TUTTI_MAX_UPLOAD_BYTES", "12 parsecs"),
            ("TUTTI_MAX_UPLOAD_BYTES", "0"),
            ("TUTTI_SESSION_IDLE_MINUTES", "-5"),
            ("TUTTI_ADMIN_EMAILS", "root"),
            ("TUTTI_STORAGE", "gs://bucket"),
            ("TUTTI_LOG_FORMAT", "xml"),
            ("TUTTI_CANONICAL_RATE", "300"),
            ("TUTTI_DEFAULT_LICENSE", "WTFPL"),
            ("TUTTI_AUDIO_JOBS", "0"),
        ];
        for (key, value) in cases {
            let mut pairs = vec![(key, value)];
            if key.starts_with("TUTTI_OAUTH") {
                pairs.extend([("TUTTI_OAUTH_CLIENT_ID", "id"), ("TUTTI_OAUTH_CLIENT_SECRET", "s")]);
            }
            let e = load(&pairs).expect_err(key);
            assert_eq!(e.key, key, "{e}");
        }
    }

    #[test]
    fn database_password_is_not_echoed() {
        let e = load(&[("DATABASE_URL", "mysql://u:hunter2@db/x")]).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn sizes_accept_units() {
        assert_eq!(parse_size("500MB").unwrap(), 500_000_000);
        assert_eq!(parse_size("2MiB").unwrap(), 2 << 20);
        assert_eq!(parse_size("1234").unwrap(), 1234);
    }

    #[test]
    fn admin_emails_are_normalised() {
        let c = load(&[("TUTTI_ADMIN_EMAILS", " Ada@Example.org, bob@example.org ,")]).unwrap();
        assert_eq!(c.admin_emails, vec!["ada@example.org", "bob@example.org"]);
    }

    #[test]
    fn toml_file_is_read_and_env_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tutti.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:4000\"\ndemo = false\nadmin_emails = [\"a@b.c\"]\nmax_upload_bytes = 1000\n",
        )
        .unwrap();
        let c = Config::load([("TUTTI_BIND".to_string(), "127.0.0.1:5000".to_string())], Some(&path)).unwrap();
        assert_eq!(c.bind.port(), 5000);
        assert!(!c.demo);
        assert_eq!(c.admin_emails, vec!["a@b.c"]);
        assert_eq!(c.max_upload_bytes, 1000);
    }

    #[test]
    fn toml_errors_name_the_file_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tutti.toml");
        std::fs::write(&path, "demo = \"sometimes\"\n").unwrap();
        let e = Config::load([], Some(&path)).unwrap_err();
        assert!(e.key.starts_with("demo in "), "{e}");
        std::fs::write(&path, "colour = \"blue\"\n").unwrap();
        let e = Config::load([], Some(&path)).unwrap_err();
        assert!(e.key.starts_with("colour in "), "{e}");
    }
}
