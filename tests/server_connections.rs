//! Bounded connections: slow or idle clients are closed after the header,
//! body and idle timeouts, the connection cap makes newcomers wait instead
//! of exhausting file descriptors, and graceful shutdown does not wait on
//! idle or stalled connections.
//!
//! The clients are raw sockets (a well-behaved HTTP client would not
//! stall). Timeouts are set to a second or two; a connection must close
//! within three times its timeout plus two seconds (the machine may be
//! busy), and not before the timeout.
#![cfg(feature = "server")]

mod server;

use miniauth::server::clock::SystemClock;
use miniauth::server::config::Config;
use miniauth::server::{start, Running};
use server::TempDir;
use std::io::{BufRead, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const GET_JWKS: &[u8] = b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: miniauth\r\n\r\n";

/// How long a connection may take to close once `seconds` have passed.
fn bound(seconds: u32) -> Duration {
    Duration::from_secs(3 * u64::from(seconds) + 2)
}

/// A server in this process with the settings `adjust` makes to the test
/// defaults.
async fn serve(adjust: impl FnOnce(&mut Config)) -> (TempDir, Running) {
    let dir = TempDir::new("connections");
    let mut config = Config::for_tests(dir.database());
    adjust(&mut config);
    let running = start(&config, Arc::new(SystemClock)).await.expect("the server starts");
    (dir, running)
}

/// A connection, once the kernel has completed the handshake (the server
/// may not have accepted it yet).
fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("the server's backlog takes the connection")
}

/// Waits until `deadline` for bytes; `None` once it has passed.
fn read_until(stream: &mut TcpStream, deadline: Instant, chunk: &mut [u8]) -> Option<std::io::Result<usize>> {
    let left = deadline.checked_duration_since(Instant::now())?.max(Duration::from_millis(1));
    stream.set_read_timeout(Some(left)).unwrap();
    match stream.read(chunk) {
        Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        read => Some(read),
    }
}

/// The next answer's status and body, or `None` if the server closed the
/// connection first. Panics if neither happens within `bound`.
fn answer(stream: &mut TcpStream, bound: Duration) -> Option<(u16, String)> {
    let deadline = Instant::now() + bound;
    let (mut data, mut chunk) = (Vec::new(), [0; 4096]);
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(0, |value| value.trim().parse().expect("a Content-Length"));
            if data.len() >= end + 4 + length {
                return Some((status, String::from_utf8_lossy(&data[end + 4..end + 4 + length]).into_owned()));
            }
        }
        match read_until(stream, deadline, &mut chunk) {
            Some(Ok(0) | Err(_)) => return None,
            Some(Ok(read)) => data.extend_from_slice(&chunk[..read]),
            None => panic!("neither an answer nor a close within {bound:?}: {:?}", String::from_utf8_lossy(&data)),
        }
    }
}

/// Reads until the server closes the connection and returns how long
/// after `since` that was. Panics if it is still open after `bound`.
fn closed_after(stream: &mut TcpStream, since: Instant, bound: Duration) -> Duration {
    let deadline = since + bound;
    let mut chunk = [0; 4096];
    loop {
        match read_until(stream, deadline, &mut chunk) {
            Some(Ok(0) | Err(_)) => return since.elapsed(),
            Some(Ok(_)) => {}
            None => panic!("the connection is still open {bound:?} later"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_client_is_closed_after_the_header_timeout() {
    let (_dir, server) = serve(|c| {
        c.header_timeout = 1;
        c.idle_timeout = 30;
    })
    .await;
    // Timed from before the connect: the server may accept, and start its
    // clock, before this thread runs again.
    let opened = Instant::now();
    let mut stream = connect(server.addr);
    stream.write_all(b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: miniauth\r\nX-Slow: ").unwrap();
    // One more header byte every 200 ms, never the end of the headers.
    let stop = Arc::new(AtomicBool::new(false));
    let trickle = {
        let (mut writer, stop) = (stream.try_clone().unwrap(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) && writer.write_all(b"a").is_ok() {
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let lived = closed_after(&mut stream, opened, bound(1));
    stop.store(true, Ordering::SeqCst);
    trickle.join().unwrap();
    eprintln!("slowloris connection closed after {lived:?}");
    assert!(lived >= Duration::from_secs(1), "closed before the header timeout: {lived:?}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let (_dir, server) = serve(|c| {
        c.header_timeout = 1;
        c.idle_timeout = 30;
    })
    .await;
    // Timed from before the connect, as above.
    let opened = Instant::now();
    let mut stream = connect(server.addr);
    let lived = closed_after(&mut stream, opened, bound(1));
    eprintln!("silent connection closed after {lived:?}");
    assert!(lived >= Duration::from_secs(1), "closed before the header timeout: {lived:?}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let (_dir, server) = serve(|c| {
        c.header_timeout = 30;
        c.idle_timeout = 2;
    })
    .await;
    let mut stream = connect(server.addr);
    // Requests half a second apart, for longer than the idle timeout: a
    // connection in use stays open.
    let opened = Instant::now();
    let last_sent = loop {
        let sent = Instant::now();
        stream.write_all(GET_JWKS).unwrap();
        assert_eq!(answer(&mut stream, bound(2)).map(|(status, _)| status), Some(200));
        if opened.elapsed() >= Duration::from_secs(3) {
            break sent;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let lived = closed_after(&mut stream, last_sent, bound(2));
    eprintln!("idle keep-alive connection closed {lived:?} after its last request");
    assert!(lived >= Duration::from_secs(2), "closed before the idle timeout: {lived:?}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_ends_after_the_body_timeout() {
    let (_dir, server) = serve(|c| {
        c.header_timeout = 30;
        c.idle_timeout = 30;
        c.body_timeout = 1;
    })
    .await;
    let mut stream = connect(server.addr);
    let sent = Instant::now();
    stream
        .write_all(
            b"POST /v1/login/wechat HTTP/1.1\r\nHost: miniauth\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"code\":\"x",
        )
        .unwrap();
    let answered = answer(&mut stream, bound(1));
    let took = sent.elapsed();
    eprintln!("stalled body ended after {took:?} with {answered:?}");
    assert!(took >= Duration::from_secs(1), "ended before the body timeout: {took:?}");
    if let Some((status, body)) = answered {
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("invalid_request"), "{body}");
    }
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_a_new_client_waits_until_a_connection_ends() {
    let (_dir, server) = serve(|c| c.max_connections = 5).await;
    let mut open: Vec<TcpStream> = (0..5).map(|_| connect(server.addr)).collect();
    for stream in &mut open {
        stream.write_all(GET_JWKS).unwrap();
        assert_eq!(answer(stream, bound(1)).map(|(status, _)| status), Some(200));
    }
    // The kernel completes the handshake; the server does not accept yet.
    let mut sixth = connect(server.addr);
    sixth.write_all(GET_JWKS).unwrap();
    sixth.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let error = sixth.read(&mut [0; 64]).expect_err("a sixth connection was served at the cap of five");
    assert!(matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut), "{error}");

    drop(open.pop());
    let freed = Instant::now();
    assert_eq!(answer(&mut sixth, bound(1)).map(|(status, _)| status), Some(200));
    eprintln!("the sixth client was served {:?} after a slot was freed", freed.elapsed());
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_idle_connections_at_once_and_stalled_ones_at_their_timeout() {
    let (_dir, server) = serve(|c| {
        c.header_timeout = 2;
        c.idle_timeout = 60;
    })
    .await;
    let addr = server.addr;
    let mut idle = connect(addr);
    idle.write_all(GET_JWKS).unwrap();
    assert_eq!(answer(&mut idle, bound(1)).map(|(status, _)| status), Some(200));
    let mut silent = connect(addr);
    // Headers begun and never finished: hyper's graceful shutdown waits for
    // this request; the header timeout ends it.
    let mut stalled = connect(addr);
    stalled.write_all(b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: mini").unwrap();
    // Time for the server to read that much (a connection it has read
    // nothing from would be closed at once).
    std::thread::sleep(Duration::from_millis(300));

    let began = Instant::now();
    tokio::time::timeout(bound(2), server.shutdown())
        .await
        .expect("shutdown waited on the connections")
        .expect("a clean shutdown");
    eprintln!("shutdown took {:?}", began.elapsed());
    for stream in [&mut idle, &mut silent, &mut stalled] {
        closed_after(stream, Instant::now(), Duration::from_secs(1));
    }
    assert_eq!(TcpStream::connect(addr).map_err(|e| e.kind()).err(), Some(ErrorKind::ConnectionRefused));
}

/// A `miniauth serve` child process, killed when dropped.
struct ChildServer(Child);

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// 500 idle connections against a server whose soft open-file limit is 256
/// (as a `ulimit -n 256` shell would leave it): the server raises the limit
/// to the hard one and serves a newcomer, where it used to fail every accept
/// with EMFILE. Settings come from the environment, so the test also runs
/// against a server that predates them.
#[test]
fn five_hundred_idle_connections_do_not_starve_a_new_client() {
    let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    assert!(hard >= 1024, "this test needs a hard open-file limit of 1024 or more, not {hard}");
    let own = rlimit::increase_nofile_limit(1024).unwrap();
    assert!(own >= 1024, "the test process needs 1024 descriptors, it has {own}");

    let dir = TempDir::new("connections-500");
    let log = dir.path().join("miniauth.log");
    let mut log_file = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
    let mut command = Command::new("sh");
    command
        .args(["-c", r#"ulimit -S -n 256 && exec "$0" "$@""#, env!("CARGO_BIN_EXE_miniauth")])
        .args(["serve", "--simulator", "--listen", "127.0.0.1:0", "--database"])
        .arg(dir.database())
        .env("MINIAUTH_HEADER_TIMEOUT", "600")
        .env("MINIAUTH_IDLE_TIMEOUT", "600")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file.try_clone().unwrap());
    for name in ["WECHAT_APPID", "WECHAT_SECRET", "MINIAUTH_MAX_CONNECTIONS", "MINIAUTH_LOG", "RUST_LOG"] {
        command.env_remove(name);
    }
    let mut child = ChildServer(command.spawn().expect("sh starts"));
    let stdout = std::io::BufReader::new(child.0.stdout.take().unwrap());
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    // The address is printed on stdout, where the logs go too.
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = writeln!(log_file, "{line}");
            if let Some(addr) = line.strip_prefix("miniauth listening on http://") {
                let _ = address_tx.send(addr.parse::<SocketAddr>().unwrap());
            }
        }
    });
    let addr = address_rx
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("no address: {}", std::fs::read_to_string(&log).unwrap_or_default()));

    let _idle: Vec<TcpStream> = (0..500).map(|_| connect(addr)).collect();
    let mut newcomer = connect(addr);
    newcomer.write_all(GET_JWKS).unwrap();
    let answered = answer(&mut newcomer, Duration::from_secs(20));
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(answered.map(|(status, _)| status), Some(200), "{logged}");
    let cap = hard.saturating_sub(64).min(10_000);
    assert!(logged.contains(&format!("max_connections={cap} open_file_limit={hard}")), "{logged}");
}
