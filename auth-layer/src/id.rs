//! Random identifiers for sessions and tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A new random identifier: 128 bits from the operating system's generator,
/// base64url-encoded (22 characters).
///
/// # Panics
///
/// Panics if the operating system's random number generator fails, since no
/// safe identifier can be made without it.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}
