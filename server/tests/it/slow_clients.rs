//! Clients that are slow on purpose (slowloris, stalled uploads, idle connections) are cut off
//! after the header or idle timeout, a connection limit holds, and a slow but live client is
//! still served. The attackers are raw TCP streams, so every byte and pause is the test's choice.
//! Timing bounds are generous upper bounds: these tests run on loaded two-core machines.
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout};

use crate::helpers::TestApp;

/// How long a connection the server should cut may take to be cut: the configured timeout plus a
/// wide margin for a busy machine.
const CUT_WITHIN: Duration = Duration::from_secs(12);

fn host(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

/// Read and discard until the server closes the connection (end of stream or reset). Returns how
/// long that took from `since`, or `None` if the connection was still open after `limit`.
async fn closed_by_server(stream: &mut TcpStream, since: Instant, limit: Duration) -> Option<Duration> {
    let mut buf = [0u8; 4096];
    let closed = timeout(limit.saturating_sub(since.elapsed()), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    closed.ok().map(|()| since.elapsed())
}

/// Read a whole response from a `Connection: close` request; its status code, or `None` if the
/// connection ended without a status line.
async fn status_of(stream: &mut TcpStream) -> Option<u16> {
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// An ordinary client (its own connection) can still be served: `GET /healthz` answers 200.
async fn assert_healthy(app: &TestApp) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let res = client.get(app.url("/healthz")).send().await.expect("a normal client is served during the attack");
    assert_eq!(res.status(), reqwest::StatusCode::OK);
}

#[derive(Clone, Copy, Debug)]
enum Slowloris {
    /// Connects and never sends a byte.
    Silent,
    /// Sends a request line and part of the headers, then nothing.
    Partial,
    /// Keeps sending one more header byte every 200 ms, never finishing the headers.
    Trickle,
}

/// Run one slowloris connection; how long until the server closed it (`None`: still open).
async fn slowloris(mut stream: TcpStream, kind: Slowloris) -> Option<Duration> {
    let start = Instant::now();
    match kind {
        Slowloris::Silent => closed_by_server(&mut stream, start, CUT_WITHIN).await,
        Slowloris::Partial => {
            stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ").await.ok()?;
            closed_by_server(&mut stream, start, CUT_WITHIN).await
        }
        Slowloris::Trickle => {
            stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ").await.ok()?;
            while start.elapsed() < CUT_WITHIN {
                // Listen for a hang-up for 200 ms, then send the next byte.
                let next_byte = (start.elapsed() + Duration::from_millis(200)).min(CUT_WITHIN);
                if let Some(closed) = closed_by_server(&mut stream, start, next_byte).await {
                    return Some(closed);
                }
                if stream.write_all(b"a").await.is_err() {
                    return Some(start.elapsed());
                }
            }
            None
        }
    }
}

#[tokio::test]
async fn slowloris_connections_are_closed_after_the_header_timeout() {
    let app = TestApp::spawn_with(&[("TUTTI_HEADER_TIMEOUT_SECONDS", "1")]).await;
    let kinds = [Slowloris::Silent, Slowloris::Partial, Slowloris::Partial, Slowloris::Partial, Slowloris::Trickle];
    let mut attackers = Vec::new();
    for i in 0..50 {
        let stream = TcpStream::connect(host(&app)).await.unwrap();
        let kind = kinds[i % kinds.len()];
        attackers.push((kind, tokio::spawn(slowloris(stream, kind))));
    }
    // The attack holds no one else up.
    assert_healthy(&app).await;
    for (i, (kind, attacker)) in attackers.into_iter().enumerate() {
        let closed = attacker.await.unwrap();
        assert!(closed.is_some(), "slowloris connection {i} ({kind:?}) was still open after {CUT_WITHIN:?}");
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn a_stalled_upload_is_dropped_after_the_idle_timeout_and_leaves_no_staging_file() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp_dir = tmp.path().join("staging");
    let app =
        TestApp::spawn_with(&[("TUTTI_IDLE_TIMEOUT_SECONDS", "2"), ("TUTTI_TMP_DIR", tmp_dir.to_str().unwrap())]).await;
    let token = app.user_with_token("staller@example.org").await;

    let boundary = "tutti-stalled-upload";
    let part_head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"stalled.wav\"\r\n\
         Content-Type: audio/wav\r\n\r\n"
    );
    // Announce 50 MB, send the part's head and 256 KiB of it, then stop sending.
    let announced = 50 * 1024 * 1024;
    let head = format!(
        "POST /api/v1/audio HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {announced}\r\n\r\n",
        host = host(&app)
    );
    let mut stream = TcpStream::connect(host(&app)).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(part_head.as_bytes()).await.unwrap();
    stream.write_all(&vec![0x55u8; 256 * 1024]).await.unwrap();
    let stalled_at = Instant::now();

    // The server really is reading the body: it stages it in a file.
    let staging = async {
        while TestApp::files_under(&tmp_dir).is_empty() {
            sleep(Duration::from_millis(50)).await;
        }
    };
    timeout(Duration::from_secs(10), staging).await.expect("the server stages the upload it reads");

    assert_healthy(&app).await;
    let closed = closed_by_server(&mut stream, stalled_at, CUT_WITHIN).await;
    assert!(closed.is_some(), "the stalled upload's connection was still open after {CUT_WITHIN:?}");

    // The handler saw the body fail and dropped its staging file.
    let cleaned = async {
        while !TestApp::files_under(&tmp_dir).is_empty() {
            sleep(Duration::from_millis(50)).await;
        }
    };
    if timeout(Duration::from_secs(5), cleaned).await.is_err() {
        panic!("staging files left behind: {:?}", TestApp::files_under(&tmp_dir));
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn the_connection_limit_holds_and_slots_are_reclaimed() {
    let app = TestApp::spawn_with(&[("TUTTI_MAX_CONNECTIONS", "4"), ("TUTTI_HEADER_TIMEOUT_SECONDS", "1")]).await;
    // Four stalled clients take every slot; each records when the server hung up on it.
    let hung_up: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let mut holders = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(host(&app)).await.unwrap();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ").await.unwrap();
        let hung_up = hung_up.clone();
        holders.push(tokio::spawn(async move {
            let closed = closed_by_server(&mut stream, Instant::now(), CUT_WITHIN).await;
            if closed.is_some() {
                hung_up.lock().unwrap().push(Instant::now());
            }
            closed
        }));
    }

    // A fifth client with a complete request waits in the accept queue until a slot frees.
    let mut fifth = TcpStream::connect(host(&app)).await.unwrap();
    fifth.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let status = timeout(CUT_WITHIN, status_of(&mut fifth)).await.expect("the fifth client is answered");
    let answered = Instant::now();
    assert_eq!(status, Some(200), "the fifth client is served once a slot frees");

    for (i, holder) in holders.into_iter().enumerate() {
        assert!(holder.await.unwrap().is_some(), "stalled connection {i} was still open after {CUT_WITHIN:?}");
    }
    // The answer came only after the server had dropped a stalled client: it was not served while
    // the four held every slot. (The margin only absorbs the order in which this process's tasks
    // noticed the two events; the server freed the slot before it accepted the fifth client.)
    let first_hang_up = *hung_up.lock().unwrap().iter().min().unwrap();
    assert!(
        first_hang_up <= answered + Duration::from_millis(500),
        "the fifth client was answered {:?} before any stalled client was dropped",
        first_hang_up - answered
    );
    // Every slot came back: more clients than the limit are served one after another.
    for _ in 0..6 {
        assert_healthy(&app).await;
    }
}

#[tokio::test]
async fn a_slow_but_live_upload_is_answered_while_a_stalled_one_is_cut() {
    // A few bytes a second is "live" here: the minimum rate is another test's concern.
    let app = TestApp::spawn_with(&[
        ("TUTTI_HEADER_TIMEOUT_SECONDS", "1"),
        ("TUTTI_IDLE_TIMEOUT_SECONDS", "2"),
        ("TUTTI_MIN_TRANSFER_RATE", "1"),
    ])
    .await;
    let token = app.user_with_token("slowpoke@example.org").await;
    // Invalid JSON at its very end: the server must read all of it to answer 400.
    let mut body = br#"{"title": ""#.to_vec();
    body.extend_from_slice(&[b'a'; 60]);
    body.extend_from_slice(br#"",,}"#);
    let head = format!(
        "POST /api/v1/compositions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n",
        host = host(&app),
        len = body.len()
    );

    // The stalled twin sends the same headers and the first piece, then nothing.
    let mut stalled = TcpStream::connect(host(&app)).await.unwrap();
    stalled.write_all(head.as_bytes()).await.unwrap();
    stalled.write_all(&body[..8]).await.unwrap();
    let stalled_since = Instant::now();
    let stalled = tokio::spawn(async move { closed_by_server(&mut stalled, stalled_since, CUT_WITHIN).await });

    // The live client sends a small piece every 0.5 s, for about 5 s in all: far longer than the
    // idle timeout, but never idle for long.
    let mut live = TcpStream::connect(host(&app)).await.unwrap();
    live.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    for piece in body.chunks(body.len().div_ceil(10)) {
        sleep(Duration::from_millis(500)).await;
        live.write_all(piece).await.expect("the server keeps a slow but live upload open");
    }
    assert!(started.elapsed() >= Duration::from_secs(4), "the upload took longer than the idle timeout");
    let status = timeout(Duration::from_secs(10), status_of(&mut live)).await.expect("the live client is answered");
    assert_eq!(status, Some(400), "the whole body was read and judged, not cut off");

    assert!(stalled.await.unwrap().is_some(), "the stalled twin was still open after {CUT_WITHIN:?}");
}

/// Slow POST: a body trickled a byte at a time never stalls, but moves far below the minimum rate;
/// it is cut after the idle timeout (before anyone signed in: the body is read before a handler
/// would refuse it), and cleartext HTTP/2 pings cannot hold a connection either.
#[tokio::test]
async fn a_trickled_body_and_http2_pings_are_cut() {
    let app = TestApp::spawn_with(&[("TUTTI_HEADER_TIMEOUT_SECONDS", "1"), ("TUTTI_IDLE_TIMEOUT_SECONDS", "2")]).await;
    let mut trickle = TcpStream::connect(host(&app)).await.unwrap();
    let head = format!(
        "POST /api/v1/compositions HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: 100000\r\n\r\n{{",
        host(&app)
    );
    trickle.write_all(head.as_bytes()).await.unwrap();
    let since = Instant::now();
    let trickler = tokio::spawn(async move {
        let mut sent = 0;
        while sent < 100 && trickle.write_all(b" ").await.is_ok() {
            sent += 1;
            sleep(Duration::from_millis(250)).await;
        }
        closed_by_server(&mut trickle, since, CUT_WITHIN).await
    });

    // HTTP/2 without TLS: the preface, then a PING every half second and never a request.
    let mut pinger = TcpStream::connect(host(&app)).await.unwrap();
    pinger.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
    let ping_since = Instant::now();
    let pings = tokio::spawn(async move {
        let ping = [0u8, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
        for _ in 0..40 {
            if pinger.write_all(&ping).await.is_err() {
                break;
            }
            sleep(Duration::from_millis(500)).await;
        }
        closed_by_server(&mut pinger, ping_since, CUT_WITHIN).await
    });
    assert_healthy(&app).await;
    assert!(trickler.await.unwrap().is_some(), "the trickled body was still open after {CUT_WITHIN:?}");
    assert!(pings.await.unwrap().is_some(), "the pinging HTTP/2 client was still open after {CUT_WITHIN:?}");
    assert_healthy(&app).await;
}

/// Graceful shutdown is unchanged: stopping the server lets an upload that is still arriving
/// finish (its bytes keep coming while the server stops), and a new server starts on the same data.
#[tokio::test]
async fn stopping_lets_an_upload_in_flight_finish() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp_dir = tmp.path().join("staging");
    let mut app = TestApp::spawn_with(&[("TUTTI_TMP_DIR", tmp_dir.to_str().unwrap())]).await;
    let token = app.user_with_token("finisher@example.org").await;

    let boundary = "tutti-graceful-upload";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"tone.wav\"\r\n\
         Content-Type: audio/wav\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&crate::ingest::wav(44_100, 1, 0.5));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let head = format!(
        "POST /api/v1/audio HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len}\r\n\
         Connection: close\r\n\r\n",
        host = host(&app),
        len = body.len()
    );
    let mut stream = TcpStream::connect(host(&app)).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..1024]).await.unwrap();
    // The request is in flight once the server stages its file.
    let staging = async {
        while TestApp::files_under(&tmp_dir).is_empty() {
            sleep(Duration::from_millis(50)).await;
        }
    };
    timeout(Duration::from_secs(10), staging).await.expect("the server stages the upload it reads");

    let client = tokio::spawn(async move {
        for piece in body[1024..].chunks(body.len() / 5) {
            sleep(Duration::from_millis(200)).await;
            stream.write_all(piece).await.expect("the server keeps reading while it stops");
        }
        status_of(&mut stream).await
    });
    app.restart().await;
    assert_eq!(client.await.unwrap(), Some(201), "the upload in flight was finished");
    assert_healthy(&app).await;
}
