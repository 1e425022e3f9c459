//! The demo page at `/`: plain HTML, CSS and a small script, compiled into
//! the binary so that the server needs no files and the page no network.

use auth_layer::session::Sessions;
use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const INDEX_HTML: &str = include_str!("../../assets/demo/index.html");
const APP_JS: &str = include_str!("../../assets/demo/app.js");
const APP_CSS: &str = include_str!("../../assets/demo/app.css");

/// Only the page's own files, and no inline script or style; `data:` images
/// for the empty favicon alone.
const CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /`, `/app.js` and `/app.css`.
pub(crate) fn routes() -> Router<Sessions> {
    Router::new()
        .route("/", get(index))
        .route("/app.js", get(script))
        .route("/app.css", get(style))
}

async fn index() -> Response {
    asset(INDEX_HTML, "text/html; charset=utf-8")
}

async fn script() -> Response {
    asset(APP_JS, "text/javascript; charset=utf-8")
}

async fn style() -> Response {
    asset(APP_CSS, "text/css; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static(content_type)),
        // A demo whose files change with the binary: never serve a stale one.
        (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
        (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    ];
    (headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::*;
    use crate::reference::{Config, Server};

    async fn get_path(path: &str) -> Response {
        let config = Config::from_lookup(|_| None).unwrap();
        let server = Server::new(&config).await.unwrap();
        let request = Request::get(path).body(Body::empty()).unwrap();
        server.router().oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn the_page_is_served_with_a_strict_policy_and_never_cached() {
        let response = get_path("/").await;

        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers[CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(headers[CACHE_CONTROL], "no-store");
        assert!(
            headers[CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .starts_with("default-src 'self';")
        );
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert!(body.starts_with(b"<!doctype html>"));
    }

    #[tokio::test]
    async fn the_script_and_the_style_sheet_have_their_own_types() {
        let script = get_path("/app.js").await;
        let style = get_path("/app.css").await;

        assert_eq!(
            script.headers()[CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(style.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
        assert_eq!(script.headers()[CACHE_CONTROL], "no-store");
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere_and_runs_no_inline_script() {
        for file in [INDEX_HTML, APP_JS, APP_CSS] {
            assert!(!file.contains("http://") && !file.contains("https://"));
        }
        assert!(!INDEX_HTML.contains("<script>"));
        assert!(!INDEX_HTML.contains("<style"));
        assert!(!APP_JS.contains("localStorage") && !APP_JS.contains("sessionStorage"));
    }
}
