use super::Algorithm;

/// Why a key or key set could not be built, or a token could not be signed.
///
/// Messages name the key id and the algorithm, never key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// An HMAC secret shorter than 32 bytes.
    #[error("HS256 secret for key `{kid}` is {len} bytes long; at least {min} bytes are required")]
    SecretTooShort {
        /// The key id.
        kid: String,
        /// The length of the secret that was given.
        len: usize,
        /// The minimum length.
        min: usize,
    },
    /// An HMAC secret long enough but made of too few distinct bytes to be
    /// random (for example the same character repeated).
    #[error(
        "HS256 secret for key `{kid}` is too repetitive to be random; use at least 32 random bytes"
    )]
    WeakSecret {
        /// The key id.
        kid: String,
    },
    /// The key id is empty or longer than 256 bytes.
    #[error("a key id must be 1 to 256 bytes long")]
    InvalidKid,
    /// The PEM text is not a key of the expected kind.
    #[error("the PEM text for key `{kid}` is not a valid {alg} key")]
    InvalidPem {
        /// The key id.
        kid: String,
        /// The algorithm the key was meant for.
        alg: Algorithm,
    },
    /// Two keys in one set share a key id.
    #[error("key id `{0}` appears twice in the key set")]
    DuplicateKid(String),
    /// A key set was asked to sign with a key that has only public material.
    #[error("key `{0}` can only verify; a signing key needs private material")]
    NotASigningKey(String),
    /// The key set has no signing key.
    #[error("the key set has no signing key")]
    NoSigningKey,
    /// The crypto backend refused to sign.
    #[error("signing with key `{0}` failed")]
    SigningFailed(String),
}
