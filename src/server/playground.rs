//! The playground (`miniauth serve --playground DIR`, simulator mode only):
//! a page that drives the browser build of the npm package against this
//! server, served from the same origin so it needs no CORS.
//!
//! Only a fixed list of files is served, each with its own Content-Type:
//! the page's three files from `DIR` at `/playground/`, and the package's
//! browser entry and WebAssembly module from the built package
//! (`--playground-pkg`, `pkg` by default) at `/playground/pkg/`. No path
//! from a request ever reaches the file system. Files are read on every
//! request (`Cache-Control: no-store`), so edits and `make pkg` show on reload.

use super::error::AppError;
use crate::protocol::ApiErrorCode;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use std::path::{Path, PathBuf};

/// Where the playground is served.
pub const PLAYGROUND_PATH: &str = "/playground/";

/// The page's policy: its own scripts, styles and API only, and the
/// WebAssembly module compiled from them.
const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

enum Root {
    Page,
    Package,
}

/// URL path, directory, file in it, Content-Type.
const FILES: &[(&str, Root, &str, &str)] = &[
    ("/playground/", Root::Page, "index.html", "text/html; charset=utf-8"),
    ("/playground/index.html", Root::Page, "index.html", "text/html; charset=utf-8"),
    ("/playground/main.js", Root::Page, "main.js", "text/javascript; charset=utf-8"),
    ("/playground/style.css", Root::Page, "style.css", "text/css; charset=utf-8"),
    ("/playground/pkg/web/index.js", Root::Package, "web/index.js", "text/javascript; charset=utf-8"),
    ("/playground/pkg/miniauth_bg.wasm", Root::Package, "miniauth_bg.wasm", "application/wasm"),
];

/// The routes of the playground: the page from `page`, the package from `package`.
pub fn router<S: Clone + Send + Sync + 'static>(page: &Path, package: &Path) -> Router<S> {
    let mut router = Router::new().route("/playground", get(|| async { Redirect::permanent(PLAYGROUND_PATH) }));
    for (path, root, file, content_type) in FILES {
        let file = match root {
            Root::Page => page.join(file),
            Root::Package => package.join(file),
        };
        let content_type: &'static str = content_type;
        router = router.route(path, get(move || serve(file.clone(), content_type)));
    }
    router
}

async fn serve(file: PathBuf, content_type: &'static str) -> Response {
    let read = tokio::task::spawn_blocking(move || std::fs::read(file)).await;
    match read {
        Ok(Ok(body)) => {
            let mut response = body.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            if content_type.starts_with("text/html") {
                headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
            }
            response
        }
        _ => AppError::new(ApiErrorCode::NotFound, "this playground file is missing (run make pkg)").into_response(),
    }
}
