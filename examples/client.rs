//! A small command-line client that stays signed in through refreshes.
//!
//! ```text
//! cargo run --release --example client -- --base-url http://127.0.0.1:3000 \
//!     --username demo --password demo-password --calls 10 --interval-ms 1000
//! ```
//!
//! It logs in at `/api/login`, calls `/api/me` `--calls` times,
//! `--interval-ms` apart, through the refresh middleware, prints each
//! call's status and whether a refresh happened, and ends with
//! `N calls, K refreshes, F failed`. It exits 0 only when no call failed.

use std::process::ExitCode;
use std::time::Duration;

use refresh_client::{RefreshError, RefreshMiddleware};

struct Args {
    base_url: String,
    username: String,
    password: String,
    calls: u32,
    interval: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        base_url: "http://127.0.0.1:3000".into(),
        username: "demo".into(),
        password: "demo-password".into(),
        calls: 10,
        interval: Duration::from_millis(1000),
    };
    let mut words = std::env::args().skip(1);
    while let Some(flag) = words.next() {
        let value = words
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: `{v}` is not a number"))
        };
        match flag.as_str() {
            "--base-url" => args.base_url = value.trim_end_matches('/').to_owned(),
            "--username" => args.username = value,
            "--password" => args.password = value,
            "--calls" => args.calls = number(&value)? as u32,
            "--interval-ms" => args.interval = Duration::from_millis(number(&value)?),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(err) => {
            eprintln!(
                "{err}\nusage: client [--base-url URL] [--username U] [--password P] \
                 [--calls N] [--interval-ms M]"
            );
            return ExitCode::from(2);
        }
    };
    match run(&args).await {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the calls and returns how many failed.
async fn run(args: &Args) -> Result<u32, Box<dyn std::error::Error>> {
    let base = &args.base_url;
    let auth = RefreshMiddleware::builder(&format!("{base}/api/refresh"))?
        .on_session_expired(|| eprintln!("session ended: sign in again"))
        .build();
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(auth.clone())
        .build();

    let login = reqwest::Client::new()
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({ "username": args.username, "password": args.password }))
        .send()
        .await?;
    if !login.status().is_success() {
        return Err(format!("login failed: {}", login.status()).into());
    }
    if !auth.set_tokens_from_json(&login.bytes().await?) {
        return Err("the login response carried no access token".into());
    }

    let mut failed = 0;
    for call in 1..=args.calls {
        if call > 1 {
            tokio::time::sleep(args.interval).await;
        }
        let before = auth.refresh_count();
        let outcome = client.get(format!("{base}/api/me")).send().await;
        let refreshed = if auth.refresh_count() > before {
            ", refreshed"
        } else {
            ""
        };
        match outcome {
            Ok(response) if response.status().is_success() => {
                println!("call {call}: {}{refreshed}", response.status());
            }
            Ok(response) => {
                failed += 1;
                println!("call {call}: {}{refreshed} (failed)", response.status());
            }
            Err(err) => {
                failed += 1;
                let why =
                    RefreshError::find(&err).map_or_else(|| err.to_string(), ToString::to_string);
                println!("call {call}: error: {why}{refreshed}");
            }
        }
    }
    println!(
        "{} calls, {} refreshes, {failed} failed",
        args.calls,
        auth.refresh_count()
    );
    Ok(failed)
}
