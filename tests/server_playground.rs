//! `miniauth serve --playground DIR`: the fixed list of files it serves,
//! with their Content-Types, nothing else from the disk, and simulator mode
//! only.
#![cfg(feature = "server")]

mod server;

use miniauth::protocol::ApiErrorCode;
use miniauth::server::clock::SystemClock;
use miniauth::server::config::Config;
use server::{TempDir, TestServer};
use std::sync::Arc;

/// A page directory and a package directory with one file each of every kind,
/// and a file beside them that must never be served.
fn files() -> TempDir {
    let dir = TempDir::new("playground");
    let write = |path: &str, body: &[u8]| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    };
    write("page/index.html", b"<!doctype html><title>playground</title>");
    write("page/main.js", b"import './pkg/web/index.js';");
    write("page/style.css", b"body { margin: 0 }");
    write("page/notes.txt", b"not listed");
    write("pkg/web/index.js", b"export const ready = 1;");
    write("pkg/miniauth_bg.wasm", b"\0asm\x01\0\0\0");
    write("pkg/package.json", b"{}");
    write("secret.txt", b"secret");
    dir
}

#[tokio::test]
async fn serves_the_listed_files_with_their_types_and_nothing_else() {
    let dir = files();
    let (page, pkg) = (dir.path().join("page"), dir.path().join("pkg"));
    let s = TestServer::start_with(|config| {
        config.playground = Some(page);
        config.playground_pkg = pkg;
    })
    .await;

    for (path, content_type, body) in [
        ("/playground/", "text/html; charset=utf-8", "<!doctype html><title>playground</title>"),
        ("/playground/index.html", "text/html; charset=utf-8", "<!doctype html><title>playground</title>"),
        ("/playground", "text/html; charset=utf-8", "<!doctype html><title>playground</title>"),
        ("/playground/main.js", "text/javascript; charset=utf-8", "import './pkg/web/index.js';"),
        ("/playground/style.css", "text/css; charset=utf-8", "body { margin: 0 }"),
        ("/playground/pkg/web/index.js", "text/javascript; charset=utf-8", "export const ready = 1;"),
        ("/playground/pkg/miniauth_bg.wasm", "application/wasm", "\0asm\x01\0\0\0"),
    ] {
        let answer = s.http.get(path).await;
        answer.expect(200);
        assert_eq!((answer.content_type(), answer.body.as_str()), (content_type, body), "{path}");
        assert_eq!(answer.headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(answer.headers["cache-control"], "no-store", "{path}");
    }
    let page = s.http.get("/playground/").await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"), "{csp}");

    for path in [
        "/playground/notes.txt",
        "/playground/pkg/package.json",
        "/playground/%2e%2e/secret.txt",
        "/playground/pkg/%2e%2e/%2e%2e/secret.txt",
        "/playground/..%2fsecret.txt",
        "/playground/pkg/web/",
    ] {
        s.http.get(path).await.expect_error(404, ApiErrorCode::NotFound);
    }
    // The API is still there beside it.
    s.http.get("/.well-known/jwks.json").await.expect(200);
    s.stop().await;
}

#[tokio::test]
async fn a_missing_file_is_a_404_that_says_to_build_the_package() {
    let dir = files();
    let s = TestServer::start_with(|config| {
        config.playground = Some(dir.path().join("page"));
        config.playground_pkg = dir.path().join("not-built");
    })
    .await;
    let answer = s.http.get("/playground/pkg/miniauth_bg.wasm").await;
    answer.expect_error(404, ApiErrorCode::NotFound);
    assert!(answer.body.contains("make pkg"), "{}", answer.body);
    s.stop().await;
}

#[tokio::test]
async fn without_the_flag_there_is_no_playground() {
    let s = TestServer::start().await;
    s.http.get("/playground/").await.expect_error(404, ApiErrorCode::NotFound);
    s.http.get("/playground/pkg/miniauth_bg.wasm").await.expect_error(404, ApiErrorCode::NotFound);
    s.stop().await;
}

#[tokio::test]
async fn outside_simulator_mode_the_flag_is_refused() {
    let dir = files();
    let mut config = Config::for_tests(dir.path().join("miniauth.db"));
    config.simulator = false;
    config.wechat_appid = Some("wx_real_appid".into());
    config.wechat_secret = Some("real-secret".into());
    config.playground = Some(dir.path().join("page"));
    let error = match miniauth::server::start(&config, Arc::new(SystemClock)).await {
        Ok(_) => panic!("the server started with --playground outside simulator mode"),
        Err(error) => error,
    };
    assert!(error.to_string().contains("simulator mode only"), "{error}");
}
