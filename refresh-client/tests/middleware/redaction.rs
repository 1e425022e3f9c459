//! No token in `Debug` or `Display` output.

use refresh_client::{RefreshError, Tokens};
use reqwest::StatusCode;

use crate::support::{
    MockApi, middleware, middleware_refreshing_at, send, unused_port, with_middleware,
};

/// Everything in `text` that would give away part of `tokens`.
fn leaks(text: &str, tokens: &Tokens) -> Vec<String> {
    let claims = tokens.access.split('.').nth(1).unwrap_or_default();
    let secrets = [
        Some(tokens.access.as_str()),
        Some(claims),
        tokens.refresh.as_deref(),
    ];
    let found = secrets.into_iter().flatten().filter(|s| text.contains(s));
    found.map(|s| format!("{s:?} in {text:?}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_appears_in_the_debug_output_of_the_middleware_its_tokens_or_its_errors() {
    let api = MockApi::start().await;
    let tokens = api.issue_tokens();
    let auth = middleware(&api).build();
    auth.set_tokens(tokens.clone());
    let unreachable = format!("http://{}/api/refresh", unused_port());
    let failing = middleware_refreshing_at(&api, &unreachable).build();
    failing.set_tokens(tokens.clone());
    api.expire_access_token();

    let failed = send(&with_middleware(&failing), &api.data_url()).await;
    let failed = failed.expect_err("the refresh cannot reach its endpoint");
    let transport = RefreshError::find(&failed)
        .expect("a refresh error")
        .clone();
    let errors = [
        transport,
        RefreshError::SessionEnded {
            status: StatusCode::UNAUTHORIZED,
        },
        RefreshError::NotSignedIn,
        RefreshError::Server {
            status: StatusCode::BAD_GATEWAY,
        },
        RefreshError::InvalidResponse,
    ];

    let mut printed = vec![
        format!("{auth:?}"),
        format!("{failing:?}"),
        format!("{tokens:?}"),
        format!("{:?}", auth.tokens()),
        format!("{failed:?}"),
        format!("{failed}"),
    ];
    printed.extend(errors.iter().map(|e| format!("{e:?}")));
    printed.extend(errors.iter().map(|e| format!("{e}")));
    let leaked: Vec<_> = printed
        .iter()
        .flat_map(|text| leaks(text, &tokens))
        .collect();

    assert!(leaked.is_empty(), "tokens leaked: {leaked:#?}");
}
