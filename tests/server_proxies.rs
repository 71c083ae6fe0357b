//! Client addresses behind a reverse proxy: measured before, 140 logins
//! through one proxy with distinct `X-Forwarded-For` headers got 120 × 200
//! and 20 × 429, since every request counted against the proxy's address.
#![cfg(feature = "server")]

mod server;

use miniauth::protocol::ApiErrorCode as Code;
use serde_json::json;
use server::TestServer;

/// `logins` logins, each from a distinct forwarded address: how many were
/// answered, and how many refused as rate limited.
async fn logins_with_forwarded_addresses(s: &TestServer, logins: u32) -> (usize, usize) {
    let mut answered = 0;
    let mut limited = 0;
    for i in 0..logins {
        let code = s.wx_code(&format!("o_behind_proxy_{i}")).await;
        let forwarded = format!("198.51.{}.{}, 127.0.0.1", i / 250, i % 250 + 1);
        let request = s
            .http
            .client
            .post(s.http.url("/v1/login/wechat"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({ "code": code }));
        let answer = s.http.send(request).await;
        match answer.status {
            200 => answered += 1,
            _ => {
                answer.expect_error(429, Code::RateLimited);
                limited += 1;
            }
        }
    }
    (answered, limited)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_client_has_its_own_budget() {
    let s = TestServer::start_with(|c| {
        c.rate_limit_ip = 120;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    assert_eq!(logins_with_forwarded_addresses(&s, 500).await, (500, 0));
    // One client behind the proxy still meets its own limit.
    let mut statuses = Vec::new();
    for i in 0..121 {
        let code = s.wx_code(&format!("o_one_client_{i}")).await;
        let request = s
            .http
            .client
            .post(s.http.url("/v1/login/wechat"))
            .header("x-forwarded-for", "203.0.113.50")
            .json(&json!({ "code": code }));
        statuses.push(s.http.send(request).await.status);
    }
    assert_eq!(statuses.iter().filter(|&&status| status == 429).count(), 1, "the 121st");
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_trusted_proxies_forged_headers_change_nothing() {
    let s = TestServer::start_with(|c| c.rate_limit_ip = 120).await;
    assert_eq!(logins_with_forwarded_addresses(&s, 140).await, (120, 20));
    s.http.check_answers().await;
}
