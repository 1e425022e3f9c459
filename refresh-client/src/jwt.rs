//! Reading an access token's lifetime without verifying it: the client only
//! needs to know when to refresh, and the server checks the signature.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

#[derive(Deserialize)]
struct Times {
    exp: Option<i64>,
    iat: Option<i64>,
}

/// The token's lifetime in seconds (`exp - iat`), or, without `iat`, the
/// time left by `now`. `None` for a token that is not a JWT with `exp`.
pub(crate) fn lifetime(token: &str, now: i64) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let times: Times = serde_json::from_slice(&json).ok()?;
    let exp = times.exp?;
    // Without `iat` the time left is judged by the local clock; a token
    // that already looks expired by it says nothing useful about when to
    // refresh, and the server's 401 will tell instead.
    Some(exp.saturating_sub(times.iat.unwrap_or(now))).filter(|&lifetime| lifetime > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(payload: &str) -> String {
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(payload))
    }

    #[test]
    fn the_lifetime_is_measured_by_the_issuer_clock() {
        assert_eq!(
            lifetime(&token(r#"{"iat":100,"exp":160}"#), 5_000),
            Some(60)
        );
        assert_eq!(lifetime(&token(r#"{"exp":160}"#), 100), Some(60));
    }

    #[test]
    fn tokens_without_exp_have_no_known_lifetime() {
        assert_eq!(lifetime(&token(r#"{"iat":100}"#), 100), None);
        assert_eq!(lifetime("opaque-token", 100), None);
        assert_eq!(lifetime("a.!!!.c", 100), None);
    }
}
