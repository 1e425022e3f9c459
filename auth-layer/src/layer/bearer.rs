//! Reading the bearer token from `Authorization` (RFC 6750, section 2.1).

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// What the `Authorization` header holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Bearer<'a> {
    /// No bearer credentials (no header, or another scheme).
    Missing,
    /// A token in the `b64token` syntax, not yet verified.
    Token(&'a str),
    /// Bearer credentials that cannot be a token (bytes outside `b64token`).
    Invalid,
    /// A request that breaks the header's syntax.
    Malformed(&'static str),
}

pub(crate) fn bearer(headers: &HeaderMap) -> Bearer<'_> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Bearer::Missing;
    };
    if values.next().is_some() {
        return Bearer::Malformed("more than one Authorization header");
    }

    let value = value.as_bytes();
    let (scheme, credentials) = match value.iter().position(|&b| b == b' ') {
        Some(space) => (&value[..space], &value[space + 1..]),
        None => (value, &[][..]),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Bearer::Missing;
    }

    let token = credentials.trim_ascii();
    if token.is_empty() {
        return Bearer::Malformed("the bearer token is empty");
    }
    if is_b64token(token) {
        // `is_b64token` admits ASCII only, so this cannot fail.
        return std::str::from_utf8(token).map_or(Bearer::Invalid, Bearer::Token);
    }
    // A space is not a `b64token` byte, so only a refused token needs this.
    if token.contains(&b' ') {
        return Bearer::Malformed("the Authorization header is malformed");
    }
    Bearer::Invalid
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
fn is_b64token(token: &[u8]) -> bool {
    let end = token.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    // Every request's token passes through here: a fold without early exit
    // over a branch-free test lets the compiler check many bytes at once.
    end > 0
        && token[..end]
            .iter()
            .fold(true, |all, &b| all & is_b64token_byte(b))
}

fn is_b64token_byte(b: u8) -> bool {
    let letter = (b | 0x20).wrapping_sub(b'a') < 26;
    let digit = b.wrapping_sub(b'0') < 10;
    letter
        | digit
        | (b == b'-')
        | (b == b'.')
        | (b == b'_')
        | (b == b'~')
        | (b == b'+')
        | (b == b'/')
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn read(values: &[&[u8]]) -> Bearer<'static> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
        }
        let headers: &'static HeaderMap = Box::leak(Box::new(headers));
        bearer(headers)
    }

    #[test]
    fn no_header_is_missing() {
        assert_eq!(read(&[]), Bearer::Missing);
    }

    #[test]
    fn scheme_is_case_insensitive() {
        assert_eq!(read(&[b"bEaReR abc.def.ghi"]), Bearer::Token("abc.def.ghi"));
    }

    #[test]
    fn other_schemes_are_missing() {
        assert_eq!(read(&[b"Basic dXNlcjpwYXNz"]), Bearer::Missing);
        assert_eq!(read(&[b"Bearerx abc"]), Bearer::Missing);
    }

    #[test]
    fn empty_bearer_is_malformed() {
        assert!(matches!(read(&[b"Bearer"]), Bearer::Malformed(_)));
        assert!(matches!(read(&[b"Bearer    "]), Bearer::Malformed(_)));
    }

    #[test]
    fn two_headers_are_malformed() {
        assert!(matches!(
            read(&[b"Bearer a", b"Bearer b"]),
            Bearer::Malformed(_)
        ));
    }

    #[test]
    fn inner_space_is_malformed() {
        assert!(matches!(read(&[b"Bearer a b"]), Bearer::Malformed(_)));
    }

    #[test]
    fn bytes_outside_b64token_are_invalid() {
        assert_eq!(read(&[b"Bearer a\xffb"]), Bearer::Invalid);
        assert_eq!(read(&[b"Bearer a\"b"]), Bearer::Invalid);
        assert_eq!(read(&[b"Bearer ===="]), Bearer::Invalid);
    }

    #[test]
    fn exactly_the_b64token_bytes_are_accepted() {
        for b in 0..=255u8 {
            let expected =
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
            assert_eq!(is_b64token_byte(b), expected, "byte {b:#04x}");
        }
    }

    #[test]
    fn trailing_padding_is_allowed() {
        assert_eq!(read(&[b"Bearer abc=="]), Bearer::Token("abc=="));
    }
}
