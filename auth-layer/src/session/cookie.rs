//! Writing and reading the refresh cookie, and telling cross-site requests.

use http::header::{COOKIE, HOST, ORIGIN};
use http::{HeaderMap, HeaderValue};

use super::CookieConfig;

/// `Set-Cookie` values that store `token` until `max_age` seconds from now,
/// one per configured path.
pub(crate) fn set_cookies(config: &CookieConfig, token: &str, max_age: i64) -> Vec<HeaderValue> {
    cookies(config, token, max_age.max(0))
}

/// `Set-Cookie` values that delete the cookie on every configured path.
pub(crate) fn clear_cookies(config: &CookieConfig) -> Vec<HeaderValue> {
    cookies(config, "", 0)
}

fn cookies(config: &CookieConfig, value: &str, max_age: i64) -> Vec<HeaderValue> {
    config
        .paths
        .iter()
        .filter_map(|path| {
            let mut cookie = format!(
                "{}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict",
                config.name
            );
            if config.secure {
                cookie.push_str("; Secure");
            }
            if let Some(domain) = &config.domain {
                cookie.push_str("; Domain=");
                cookie.push_str(domain);
            }
            HeaderValue::try_from(cookie).ok()
        })
        .collect()
}

/// The value of cookie `name`, if the request carries it.
pub(crate) fn read_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// Whether a browser sent this request from another site: `Sec-Fetch-Site:
/// cross-site`, or an `Origin` that is neither the request's own host nor
/// one of `allowed`. Requests without either header (from non-browser
/// clients) are not cross-site.
pub(crate) fn is_cross_site(headers: &HeaderMap, allowed: &[String]) -> bool {
    if let Some(site) = headers.get("sec-fetch-site")
        && site.as_bytes().eq_ignore_ascii_case(b"cross-site")
    {
        return true;
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return true;
    };
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) {
        return false;
    }
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    match (authority, host) {
        (Some(authority), Some(host)) => !authority.eq_ignore_ascii_case(host),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn the_cookie_is_http_only_secure_strict_and_path_bound() {
        let set = set_cookies(&CookieConfig::default(), "tok", 60);
        assert_eq!(set.len(), 2);
        assert_eq!(
            set[0],
            "refresh_token=tok; Path=/api/refresh; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(set[1].to_str().unwrap().contains("Path=/api/logout;"));
        assert!(
            clear_cookies(&CookieConfig::default())[0]
                .to_str()
                .unwrap()
                .starts_with("refresh_token=; Path=/api/refresh; Max-Age=0;")
        );
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; refresh_token=xyz ; b=2")]);
        assert_eq!(read_cookie(&h, "refresh_token"), Some("xyz"));
        assert_eq!(read_cookie(&h, "refresh"), None);
    }

    #[test]
    fn same_origin_and_non_browser_requests_are_not_cross_site() {
        assert!(!is_cross_site(&headers(&[]), &[]));
        let same = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
        ]);
        assert!(!is_cross_site(&same, &[]));
        assert!(!is_cross_site(
            &headers(&[("sec-fetch-site", "same-origin")]),
            &[]
        ));
    }

    #[test]
    fn other_origins_are_cross_site_unless_allowed() {
        let other = headers(&[("host", "127.0.0.1:3000"), ("origin", "http://evil.test")]);
        assert!(is_cross_site(&other, &[]));
        assert!(!is_cross_site(&other, &["http://evil.test".to_owned()]));
        assert!(is_cross_site(&headers(&[("origin", "null")]), &[]));
        assert!(is_cross_site(
            &headers(&[("sec-fetch-site", "cross-site")]),
            &[]
        ));
    }
}
