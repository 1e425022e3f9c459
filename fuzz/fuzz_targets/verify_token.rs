//! Access-token verification: arbitrary strings, mutations of a genuine
//! token, and arbitrary headers or payloads that carry a genuine signature
//! (so that the claims readers behind the signature check are reached).

#![no_main]

use auth_layer::{AccessClaims, AccessVerifier};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

mod common;
use common::*;

fn verifier() -> AccessVerifier {
    ISSUER_AT_NOW.access_verifier()
}

fn good_header() -> Vec<u8> {
    serde_json::to_vec(&json!({"alg": "HS256", "typ": "at+jwt", "kid": "access-1"})).unwrap()
}

fn good_payload() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "user", "iat": NOW, "exp": NOW + 60,
        "jti": "j", "sid": "s",
    }))
    .unwrap()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let verifier = verifier();
    match mode % 5 {
        // Any string: nothing but a genuine token verifies.
        0 => {
            let token = String::from_utf8_lossy(rest);
            assert!(verifier.verify(&token).is_err() || token == *GOOD_ACCESS);
        }
        // A genuine token with bytes overwritten: refused unless unchanged.
        1 => {
            let mut token = GOOD_ACCESS.clone().into_bytes();
            for pair in rest.chunks_exact(2) {
                let at = usize::from(pair[0]) * token.len() / 256;
                token[at] = pair[1];
            }
            let token = String::from_utf8_lossy(&token);
            if token != *GOOD_ACCESS {
                assert!(verifier.verify(&token).is_err(), "{token}");
            }
        }
        // A genuine token with one segment replaced by the input.
        2 => {
            let Some((&which, text)) = rest.split_first() else {
                return;
            };
            let mut parts: Vec<String> = GOOD_ACCESS.split('.').map(str::to_owned).collect();
            parts[usize::from(which) % 3] = String::from_utf8_lossy(text).into_owned();
            let token = parts.join(".");
            if token != *GOOD_ACCESS {
                assert!(verifier.verify(&token).is_err(), "{token}");
            }
        }
        // Any payload, genuinely signed: accepted only when serde_json reads
        // the same claims from it.
        3 => {
            let token = hs256(ACCESS_SECRET.as_bytes(), &good_header(), rest);
            if let Ok(claims) = verifier.verify(&token) {
                let full: AccessClaims = serde_json::from_slice(rest)
                    .expect("a payload serde_json refuses was accepted");
                assert_eq!(claims, full);
            }
        }
        // Any header, genuinely signed: accepted only when it names our key
        // and algorithm and carries no `crit`.
        _ => {
            let token = hs256(ACCESS_SECRET.as_bytes(), rest, &good_payload());
            if verifier.verify(&token).is_ok() {
                let header: Value =
                    serde_json::from_slice(rest).expect("an accepted header is JSON");
                assert_eq!(header["alg"], "HS256");
                assert_eq!(header["kid"], "access-1");
                assert!(header.get("crit").is_none());
                let typ = header["typ"].as_str().expect("a typ").to_ascii_lowercase();
                assert!(typ == "at+jwt" || typ == "application/at+jwt", "{typ}");
            }
        }
    }
});
