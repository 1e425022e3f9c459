//! Signing and verification keys.
//!
//! A [`Key`] pairs a key id (`kid`) with key material for one
//! [`Algorithm`]. A [`KeySet`] holds one signing key and any number of
//! verify-only keys, so a key can be rotated without signing anyone out: the
//! new key signs, the old one keeps verifying until its tokens have expired.
//!
//! The algorithm used to verify a token is always the one its key was made
//! for; the token's own `alg` header must merely agree with it.
//!
//! # Example
//!
//! ```
//! use auth_layer::{Key, KeySet};
//!
//! let old = Key::hs256("2026-11", b"an old secret of at least 32 bytes!!")?;
//! let new = Key::hs256("2026-12", b"the new secret, also 32 bytes or more")?;
//! let keys = KeySet::new(new)?.with_verify_key(old.verify_only())?;
//! assert_eq!(keys.signing_key().unwrap().kid(), "2026-12");
//! assert!(keys.find("2026-11").is_some());
//! # Ok::<(), auth_layer::KeyError>(())
//! ```

mod algorithm;
mod error;
mod key;
mod set;

pub use algorithm::Algorithm;
pub use error::KeyError;
pub use key::Key;
pub use set::KeySet;
