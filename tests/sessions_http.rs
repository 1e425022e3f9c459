//! Sessions over real HTTP: login, refresh with rotation, the grace window
//! and reuse detection, logout, the refresh cookie, and a memory store that
//! stays bounded.
//!
//! Every server listens on 127.0.0.1 on a free port. The client keeps no
//! cookies: each test sends exactly the `Cookie` header it means to and
//! reads `Set-Cookie` itself. Time comes from a `ManualClock` only.

mod session_support;

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::json;
use session_support::*;

// Login.

#[tokio::test]
async fn a_login_answers_with_the_pair_as_json() {
    let server = Reference::start().await;

    let login = server.login().await;

    assert_eq!(login.body["tokenType"], "Bearer");
    assert_eq!(login.body["expiresIn"], ACCESS_TTL);
    assert_ne!(login.access_token(), login.refresh_token());
    assert_eq!(login.cache_control.as_deref(), Some("no-store"));
}

#[tokio::test]
async fn a_login_sets_the_refresh_cookie_on_the_auth_paths_only() {
    let server = Reference::start().await;

    let login = server.login().await;

    login.assert_refresh_cookies(login.refresh_token(), REFRESH_TTL);
}

#[tokio::test]
async fn a_login_with_a_wrong_password_is_refused_with_401() {
    let server = Reference::start().await;
    let credentials = json!({"username": "demo", "password": "not-the-password"});

    let reply = server
        .client
        .send(server.client.post("/api/login").json(&credentials))
        .await;

    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["error"], "invalid_credentials");
    assert!(reply.set_cookies.is_empty(), "{:?}", reply.set_cookies);
}

#[tokio::test]
async fn the_access_token_from_a_login_reaches_the_protected_route() {
    let server = Reference::start().await;
    let login = server.login().await;
    let sid = payload(login.access_token())["sid"].clone();

    let me = server.client.me(login.access_token()).await;

    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body, json!({"userId": "demo", "sessionId": sid}));
}

// Refresh with rotation.

#[tokio::test]
async fn a_refresh_with_the_current_token_in_the_body_rotates_the_pair() {
    let server = Reference::start().await;
    let login = server.login().await;

    let refreshed = server.client.refresh_with_body(login.refresh_token()).await;

    assert_eq!(refreshed.status, StatusCode::OK);
    assert_ne!(refreshed.refresh_token(), login.refresh_token());
    assert_ne!(refreshed.access_token(), login.access_token());
    assert_eq!(refreshed.body["tokenType"], "Bearer");
    assert_eq!(refreshed.body["expiresIn"], ACCESS_TTL);
    assert_eq!(refreshed.cache_control.as_deref(), Some("no-store"));
}

#[tokio::test]
async fn a_refresh_body_that_is_not_an_object_with_a_string_token_is_refused_and_spends_nothing() {
    let server = Reference::start().await;
    let login = server.login().await;
    let token = login.refresh_token();
    let bodies = [
        format!(r#"["{token}"]"#),
        format!(r#""{token}""#),
        format!(r#"{{"refreshToken":["{token}"]}}"#),
        format!(r#"{{"refreshToken":"{token}""#),
        format!(r#"{{"refreshToken":"{token}","refreshToken":"{token}"}}"#),
        "refreshToken=x".to_owned(),
    ];

    for body in bodies {
        let request = server
            .client
            .post("/api/refresh")
            .header("content-type", "application/json")
            .body(body.clone());
        let reply = server.client.send(request).await;

        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.body["error"], "invalid_grant", "{body}");
    }
    let refreshed = server.client.refresh_with_body(token).await;
    assert_eq!(refreshed.status, StatusCode::OK);
}

#[tokio::test]
async fn a_rotated_access_token_belongs_to_the_same_session() {
    let server = Reference::start().await;
    let (login, refreshed) = server.login_and_refresh().await;

    let me = server.client.me(refreshed.access_token()).await;

    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["sessionId"], payload(login.access_token())["sid"]);
}

#[tokio::test]
async fn a_refresh_sets_the_cookie_to_the_new_refresh_token() {
    let server = Reference::start().await;
    let login = server.login().await;

    let refreshed = server.client.refresh_with_body(login.refresh_token()).await;

    refreshed.assert_refresh_cookies(refreshed.refresh_token(), REFRESH_TTL);
}

#[tokio::test]
async fn a_refresh_with_the_cookie_rotates_the_pair_and_the_cookie() {
    let server = Reference::start().await;
    let login = server.login().await;

    let refreshed = server
        .client
        .refresh_with_cookie(login.refresh_token())
        .await;

    assert_eq!(refreshed.status, StatusCode::OK);
    assert_ne!(refreshed.refresh_token(), login.refresh_token());
    refreshed.assert_refresh_cookies(refreshed.refresh_token(), REFRESH_TTL);
}

#[tokio::test]
async fn a_refresh_without_any_token_is_refused_with_invalid_grant() {
    let server = Reference::start().await;

    let reply = server.client.send(server.client.post("/api/refresh")).await;

    reply.assert_invalid_grant();
}

#[tokio::test]
async fn a_get_on_the_refresh_endpoint_is_405() {
    let server = Reference::start().await;

    let reply = server.client.send(server.client.get("/api/refresh")).await;

    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
}

// The grace window and reuse detection.

#[tokio::test]
async fn a_refresh_with_the_previous_token_inside_the_grace_window_returns_the_same_pair() {
    let server = Reference::start().await;
    let (login, first) = server.login_and_refresh().await;
    advance(&server.clock, GRACE / 2);

    let again = server.client.refresh_with_body(login.refresh_token()).await;

    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.text, first.text);
}

#[tokio::test]
async fn a_replay_inside_the_grace_window_sets_the_cookie_to_the_new_token() {
    let server = Reference::start().await;
    let (login, first) = server.login_and_refresh().await;
    advance(&server.clock, GRACE / 2);

    let again = server
        .client
        .refresh_with_cookie(login.refresh_token())
        .await;

    assert_eq!(again.status, StatusCode::OK);
    again.assert_refresh_cookies(first.refresh_token(), REFRESH_TTL - GRACE / 2);
}

#[tokio::test]
async fn a_replay_inside_the_grace_window_leaves_the_new_token_current() {
    let server = Reference::start().await;
    let (login, first) = server.login_and_refresh().await;
    let again = server.client.refresh_with_body(login.refresh_token()).await;
    assert_eq!(again.status, StatusCode::OK);

    let next = server.client.refresh_with_body(first.refresh_token()).await;

    assert_eq!(next.status, StatusCode::OK);
    assert_ne!(next.refresh_token(), first.refresh_token());
}

#[tokio::test]
async fn the_previous_token_after_the_grace_window_is_refused_with_invalid_grant() {
    let server = Reference::start().await;
    let (login, _) = server.login_and_refresh().await;
    advance(&server.clock, GRACE + 1);

    let reused = server.client.refresh_with_body(login.refresh_token()).await;

    reused.assert_invalid_grant();
}

#[tokio::test]
async fn reuse_after_the_grace_window_kills_the_newest_refresh_token_too() {
    let server = Reference::start().await;
    let (login, newest) = server.login_and_refresh().await;
    advance(&server.clock, GRACE + 1);
    let reused = server.client.refresh_with_body(login.refresh_token()).await;
    reused.assert_invalid_grant();

    let after = server
        .client
        .refresh_with_body(newest.refresh_token())
        .await;

    after.assert_invalid_grant();
}

#[tokio::test]
async fn reuse_after_the_grace_window_revokes_the_sessions_access_tokens_at_once() {
    let server = Reference::start().await;
    let (login, newest) = server.login_and_refresh().await;
    advance(&server.clock, GRACE + 1);

    let reused = server.client.refresh_with_body(login.refresh_token()).await;

    reused.assert_invalid_grant();
    for access in [login.access_token(), newest.access_token()] {
        server.client.me(access).await.assert_invalid_token(REVOKED);
    }
}

#[tokio::test]
async fn a_token_two_rotations_old_is_refused_even_inside_the_grace_window() {
    let server = Reference::start().await;
    let (login, second) = server.login_and_refresh().await;
    let third = server
        .client
        .refresh_with_body(second.refresh_token())
        .await;
    assert_eq!(third.status, StatusCode::OK);

    let reused = server.client.refresh_with_body(login.refresh_token()).await;

    reused.assert_invalid_grant();
}

#[tokio::test]
async fn a_token_two_rotations_old_revokes_the_whole_session() {
    let server = Reference::start().await;
    let (login, second) = server.login_and_refresh().await;
    let third = server
        .client
        .refresh_with_body(second.refresh_token())
        .await;
    assert_eq!(third.status, StatusCode::OK);

    let reused = server.client.refresh_with_body(login.refresh_token()).await;

    reused.assert_invalid_grant();
    let newest = server.client.refresh_with_body(third.refresh_token()).await;
    newest.assert_invalid_grant();
    server
        .client
        .me(third.access_token())
        .await
        .assert_invalid_token(REVOKED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_refreshes_with_one_token_get_the_same_pair() {
    let server = Reference::start().await;
    let login = server.login().await;
    let refresh = login.refresh_token();

    let (a, b) = tokio::join!(
        server.client.refresh_with_body(refresh),
        server.client.refresh_with_body(refresh),
    );

    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(b.status, StatusCode::OK);
    assert_eq!(a.text, b.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_refreshes_with_one_token_rotate_exactly_once() {
    let server = Reference::start().await;
    let login = server.login().await;
    let refresh = login.refresh_token().to_owned();

    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = server.client.clone();
            let refresh = refresh.clone();
            tokio::spawn(async move { client.refresh_with_body(&refresh).await })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.expect("a refresh task"));
    }

    assert!(
        replies.iter().all(|r| r.status == StatusCode::OK),
        "{replies:?}"
    );
    let bodies: BTreeSet<&str> = replies.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(bodies.len(), 1, "the refreshes got different answers");
    let new_tokens: BTreeSet<&str> = replies.iter().map(|r| r.refresh_token()).collect();
    assert_eq!(new_tokens.len(), 1, "more than one rotation happened");
    let new_token = replies[0].refresh_token();
    let replay = server.client.refresh_with_body(&refresh).await;
    assert_eq!(
        replay.text, replies[0].text,
        "the old token no longer replays"
    );
    let next = server.client.refresh_with_body(new_token).await;
    assert_eq!(next.status, StatusCode::OK, "the new token is not current");
    assert_ne!(next.refresh_token(), new_token);
}

// Failed refreshes and the cookie.

#[tokio::test]
async fn a_failed_refresh_with_the_cookie_clears_the_cookie() {
    let server = Reference::start().await;
    let (login, _) = server.login_and_refresh().await;
    advance(&server.clock, GRACE + 1);

    let reused = server
        .client
        .refresh_with_cookie(login.refresh_token())
        .await;

    reused.assert_invalid_grant();
    reused.assert_cookies_cleared();
}

#[tokio::test]
async fn a_garbage_refresh_cookie_is_refused_and_cleared() {
    let server = Reference::start().await;

    let reply = server.client.refresh_with_cookie("not-a-token").await;

    reply.assert_invalid_grant();
    reply.assert_cookies_cleared();
}

#[tokio::test]
async fn a_cookie_refresh_from_another_origin_is_forbidden() {
    let server = Reference::start().await;
    let login = server.login().await;
    let request = with_cookie(server.client.post("/api/refresh"), login.refresh_token())
        .header("origin", "https://evil.example");

    let reply = server.client.send(request).await;

    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body["error"], "invalid_request");
}

#[tokio::test]
async fn a_cookie_refresh_marked_cross_site_by_fetch_metadata_is_forbidden() {
    let server = Reference::start().await;
    let login = server.login().await;
    let request = with_cookie(server.client.post("/api/refresh"), login.refresh_token())
        .header("sec-fetch-site", "cross-site");

    let reply = server.client.send(request).await;

    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body["error"], "invalid_request");
}

#[tokio::test]
async fn a_forbidden_cross_site_refresh_does_not_spend_the_token() {
    let server = Reference::start().await;
    let login = server.login().await;
    let request = with_cookie(server.client.post("/api/refresh"), login.refresh_token())
        .header("origin", "https://evil.example");
    let forbidden = server.client.send(request).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

    let refreshed = server
        .client
        .refresh_with_cookie(login.refresh_token())
        .await;

    assert_eq!(refreshed.status, StatusCode::OK);
    assert_ne!(refreshed.refresh_token(), login.refresh_token());
}

#[tokio::test]
async fn a_cookie_refresh_from_the_servers_own_origin_is_allowed() {
    let server = Reference::start().await;
    let login = server.login().await;
    let origin = server.client.origin().to_owned();
    let request = with_cookie(server.client.post("/api/refresh"), login.refresh_token())
        .header("origin", origin)
        .header("sec-fetch-site", "same-origin");

    let reply = server.client.send(request).await;

    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn a_body_refresh_from_another_origin_is_allowed() {
    let server = Reference::start().await;
    let login = server.login().await;
    let body = json!({ "refreshToken": login.refresh_token() });
    let request = server
        .client
        .post("/api/refresh")
        .header("origin", "https://other.example")
        .json(&body);

    let reply = server.client.send(request).await;

    assert_eq!(reply.status, StatusCode::OK);
}

// Tokens in the wrong place, and expiry.

#[tokio::test]
async fn an_access_token_presented_as_a_refresh_token_is_refused_with_invalid_grant() {
    let server = Reference::start().await;
    let login = server.login().await;

    let reply = server.client.refresh_with_body(login.access_token()).await;

    reply.assert_invalid_grant();
}

#[tokio::test]
async fn a_refresh_token_presented_as_an_access_token_is_refused_with_401() {
    let server = Reference::start().await;
    let login = server.login().await;

    let reply = server.client.me(login.refresh_token()).await;

    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["error"], "invalid_token");
}

#[tokio::test]
async fn an_access_token_past_its_lifetime_and_the_leeway_is_refused_as_expired() {
    let server = Reference::start().await;
    let login = server.login().await;
    advance(&server.clock, ACCESS_TTL + LEEWAY + 1);

    let reply = server.client.me(login.access_token()).await;

    reply.assert_invalid_token(EXPIRED);
}

#[tokio::test]
async fn after_the_access_token_expires_a_refresh_gets_one_that_works() {
    let server = Reference::start().await;
    let login = server.login().await;
    advance(&server.clock, ACCESS_TTL + LEEWAY + 1);

    let refreshed = server.client.refresh_with_body(login.refresh_token()).await;

    assert_eq!(refreshed.status, StatusCode::OK);
    let me = server.client.me(refreshed.access_token()).await;
    assert_eq!(me.status, StatusCode::OK);
}

// Logout.

#[tokio::test]
async fn a_logout_with_the_bearer_token_answers_204_and_clears_the_cookie() {
    let server = Reference::start().await;
    let login = server.login().await;

    let reply = server.client.logout_with_bearer(login.access_token()).await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    reply.assert_cookies_cleared();
}

#[tokio::test]
async fn after_logout_the_sessions_access_token_is_refused_at_once() {
    let server = Reference::start().await;
    let login = server.login().await;

    let reply = server.client.logout_with_bearer(login.access_token()).await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    server
        .client
        .me(login.access_token())
        .await
        .assert_invalid_token(REVOKED);
}

#[tokio::test]
async fn after_logout_the_sessions_refresh_token_is_refused() {
    let server = Reference::start().await;
    let login = server.login().await;

    let reply = server.client.logout_with_bearer(login.access_token()).await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let refresh = server.client.refresh_with_body(login.refresh_token()).await;
    refresh.assert_invalid_grant();
}

#[tokio::test]
async fn a_logout_with_only_the_refresh_cookie_revokes_the_session() {
    let server = Reference::start().await;
    let login = server.login().await;
    let request = with_cookie(server.client.post("/api/logout"), login.refresh_token());

    let reply = server.client.send(request).await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    reply.assert_cookies_cleared();
    server
        .client
        .me(login.access_token())
        .await
        .assert_invalid_token(REVOKED);
}

#[tokio::test]
async fn a_logout_with_the_refresh_token_in_the_body_revokes_the_session() {
    let server = Reference::start().await;
    let login = server.login().await;
    let body = json!({ "refreshToken": login.refresh_token() });

    let reply = server
        .client
        .send(server.client.post("/api/logout").json(&body))
        .await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let refresh = server.client.refresh_with_body(login.refresh_token()).await;
    refresh.assert_invalid_grant();
}

#[tokio::test]
async fn a_cookie_logout_from_another_origin_is_forbidden_and_keeps_the_session() {
    let server = Reference::start().await;
    let login = server.login().await;
    let request = with_cookie(server.client.post("/api/logout"), login.refresh_token())
        .header("origin", "https://evil.example");

    let reply = server.client.send(request).await;

    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body["error"], "invalid_request");
    assert_eq!(
        server.client.me(login.access_token()).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_logout_leaves_the_users_other_sessions_alone() {
    let server = Reference::start().await;
    let leaving = server.login().await;
    let staying = server.login().await;

    let reply = server
        .client
        .logout_with_bearer(leaving.access_token())
        .await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.client.me(staying.access_token()).await.status,
        StatusCode::OK
    );
    let refresh = server
        .client
        .refresh_with_body(staying.refresh_token())
        .await;
    assert_eq!(refresh.status, StatusCode::OK);
}

#[tokio::test]
async fn logging_out_everywhere_revokes_every_session_of_the_user() {
    let server = Reference::start().await;
    let first = server.login().await;
    let second = server.login().await;

    let reply = server.client.logout_all(first.access_token()).await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    for session in [&first, &second] {
        server
            .client
            .me(session.access_token())
            .await
            .assert_invalid_token(REVOKED);
        let refresh = server
            .client
            .refresh_with_body(session.refresh_token())
            .await;
        refresh.assert_invalid_grant();
    }
}

#[tokio::test]
async fn logging_out_everywhere_without_a_bearer_token_is_401() {
    let server = Reference::start().await;

    let reply = server
        .client
        .send(server.client.post("/api/logout-all"))
        .await;

    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let challenge = reply.www_authenticate.unwrap_or_default();
    assert!(challenge.starts_with("Bearer realm="), "{challenge:?}");
}

#[tokio::test]
async fn a_revoked_access_token_cannot_log_out_everywhere() {
    let server = Reference::start().await;
    let revoked = server.login().await;
    let other = server.login().await;
    let logout = server
        .client
        .logout_with_bearer(revoked.access_token())
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);

    let reply = server.client.logout_all(revoked.access_token()).await;

    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    assert_eq!(reply.body["error"], "invalid_token");
    let survivor = server.client.me(other.access_token()).await;
    assert_eq!(survivor.status, StatusCode::OK, "another session was ended");
}

// Revoking a single access token.

#[tokio::test]
async fn revoking_one_access_token_leaves_the_sessions_other_access_tokens_working() {
    let server = Reference::start().await;
    let (login, refreshed) = server.login_and_refresh().await;
    let claims = payload(login.access_token());
    let jti = claims["jti"].as_str().expect("a jti");
    let exp = claims["exp"].as_i64().expect("an exp");

    server
        .server
        .sessions()
        .revoke_access_token(jti, exp)
        .await
        .expect("a revocation");

    server
        .client
        .me(login.access_token())
        .await
        .assert_invalid_token(REVOKED);
    let other = server.client.me(refreshed.access_token()).await;
    assert_eq!(other.status, StatusCode::OK);
}

// Without rotation.

#[tokio::test]
async fn without_rotation_a_refresh_answers_with_an_access_token_only() {
    let server = NonRotating::start().await;
    let (_, refresh) = server.login().await;

    let reply = server.client.refresh_with_body(&refresh).await;

    assert_eq!(reply.status, StatusCode::OK);
    let fields: BTreeSet<&str> = reply
        .body
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from(["accessToken", "expiresIn", "tokenType"])
    );
    assert_eq!(reply.body["tokenType"], "Bearer");
    assert_eq!(reply.body["expiresIn"], ACCESS_TTL);
}

#[tokio::test]
async fn without_rotation_one_refresh_token_serves_three_refresh_cycles() {
    let server = NonRotating::start().await;
    let (mut access, refresh) = server.login().await;

    for cycle in 1..=3 {
        advance(&server.clock, ACCESS_TTL + LEEWAY + 1);
        server
            .client
            .me(&access)
            .await
            .assert_invalid_token(EXPIRED);

        let reply = server.client.refresh_with_body(&refresh).await;

        assert_eq!(reply.status, StatusCode::OK, "cycle {cycle}: {reply:?}");
        access = reply.access_token().to_owned();
        let me = server.client.me(&access).await;
        assert_eq!(me.status, StatusCode::OK, "cycle {cycle}: {me:?}");
        assert_eq!(me.body["userId"], "demo");
    }
}

// The memory store stays bounded.

#[tokio::test]
async fn the_memory_store_shrinks_back_after_many_logins_and_logouts_expire() {
    let server = Reference::start_with_refresh_ttl("120s").await;
    let sessions = server.server.sessions();
    for _ in 0..2_000 {
        let (access, _) = server.login_directly().await;
        sessions
            .logout(Some(&access), None)
            .await
            .expect("a logout");
    }
    assert!(
        server.store.len() >= 2_000,
        "{} entries",
        server.store.len()
    );
    advance(&server.clock, 120 + ACCESS_TTL + LEEWAY + 1);

    server.login().await;
    server.store.purge_expired();

    assert!(
        server.store.len() <= 1,
        "{} entries left",
        server.store.len()
    );
}

#[tokio::test]
async fn a_repeated_logout_does_not_keep_its_revocation_forever() {
    let server = Reference::start_with_refresh_ttl("120s").await;
    let login = server.login().await;
    let held = ACCESS_TTL + LEEWAY;
    let first = server.client.logout_with_bearer(login.access_token()).await;
    assert_eq!(first.status, StatusCode::NO_CONTENT);
    advance(&server.clock, 30);
    let retried = server.client.logout_with_bearer(login.access_token()).await;
    assert_eq!(retried.status, StatusCode::NO_CONTENT);
    // A sweep after the first revocation's end but before the retried one's.
    advance(&server.clock, held - 30 + 5);
    server.store.purge_expired();

    advance(&server.clock, 2 * 120);
    server.store.purge_expired();

    assert_eq!(server.store.len(), 0, "{:?}", server.store);
}
