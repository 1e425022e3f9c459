//! One refresh for every request that failed with the same token.

use crate::support::{MockApi, counts, middleware, send, send_together, tally, with_middleware};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_requests_with_an_expired_token_share_one_refresh() {
    let api = MockApi::start().await;
    let auth = middleware(&api).build();
    auth.set_tokens(api.issue_tokens());
    api.expire_access_token();
    let client = with_middleware(&auth);

    let outcomes = send_together(&client, &api.data_url(), 100).await;

    assert_eq!(tally(&outcomes), counts(&[("200", 100)]));
    assert_eq!(api.refresh_calls(), 1);
    assert_eq!(auth.refresh_count(), 1);
    // Every request that was turned away came back exactly once.
    assert_eq!(api.protected_calls(), 100 + api.rejections());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_during_a_refresh_retry_with_its_token_and_no_second_refresh() {
    let api = MockApi::start().await;
    let auth = middleware(&api).build();
    auth.set_tokens(api.issue_tokens());
    let client = with_middleware(&auth);
    let slow_url = api.data_url_answered_after_generation(2);
    let slow = tokio::spawn({
        let client = client.clone();
        async move { send_together(&client, &slow_url, 10).await }
    });
    api.wait_for_protected_calls(10).await;

    api.expire_access_token();
    let first = send(&client, &api.data_url())
        .await
        .expect("the first request");
    let slow = slow.await.expect("the slow requests");

    assert_eq!((first.0.as_u16(), first.1.as_str()), (200, "2"));
    assert_eq!(tally(&slow), counts(&[("200", 10)]));
    assert!(
        slow.iter()
            .flatten()
            .all(|(_, generation)| generation == "2")
    );
    assert_eq!(api.refresh_calls(), 1);
    assert_eq!(api.rejections(), 11);
    assert_eq!(api.protected_calls(), 22);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_rejects_fresh_tokens_too_gets_one_refresh_per_request_and_its_401_back() {
    let api = MockApi::start().await;
    let auth = middleware(&api).build();
    auth.set_tokens(api.issue_tokens());
    api.reject_every_request();
    let client = with_middleware(&auth);

    let mut outcomes = Vec::new();
    for _ in 0..3 {
        outcomes.push(send(&client, &api.data_url()).await);
    }

    assert_eq!(tally(&outcomes), counts(&[("401", 3)]));
    assert_eq!(api.refresh_calls(), 3);
    assert_eq!(api.protected_calls(), 6);
    assert_eq!(api.rejections(), 6);
}
