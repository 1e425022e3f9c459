use jsonwebtoken::jwk::JwkSet;

use super::{Key, KeyError};

/// One signing key and any number of verify-only keys.
///
/// Tokens are signed with the signing key and carry its `kid`; a token
/// verifies only against the key its `kid` names. A set built with
/// [`KeySet::verify_only`] has no signing key, which is what a resource
/// server that only checks tokens needs.
#[derive(Clone, Debug)]
pub struct KeySet {
    /// The signing key, when there is one, is always first.
    keys: Vec<Key>,
    signs: bool,
}

impl KeySet {
    /// A set whose signing key is `signing`.
    ///
    /// # Errors
    ///
    /// [`KeyError::NotASigningKey`] when `signing` holds only public
    /// material.
    pub fn new(signing: Key) -> Result<Self, KeyError> {
        if !signing.can_sign() {
            return Err(KeyError::NotASigningKey(signing.kid().to_owned()));
        }
        Ok(Self {
            keys: vec![signing],
            signs: true,
        })
    }

    /// A set that verifies with `keys` and cannot sign.
    ///
    /// # Errors
    ///
    /// [`KeyError::DuplicateKid`] when two keys share an id.
    pub fn verify_only(keys: impl IntoIterator<Item = Key>) -> Result<Self, KeyError> {
        let mut set = Self {
            keys: Vec::new(),
            signs: false,
        };
        for key in keys {
            set = set.with_verify_key(key)?;
        }
        Ok(set)
    }

    /// Adds a key that verifies but never signs, such as the previous
    /// signing key during a rotation.
    ///
    /// # Errors
    ///
    /// [`KeyError::DuplicateKid`] when the set already has a key with the
    /// same id.
    pub fn with_verify_key(mut self, key: Key) -> Result<Self, KeyError> {
        if self.find(key.kid()).is_some() {
            return Err(KeyError::DuplicateKid(key.kid().to_owned()));
        }
        self.keys.push(key.verify_only());
        Ok(self)
    }

    /// The key new tokens are signed with, if the set has one.
    pub fn signing_key(&self) -> Option<&Key> {
        self.keys.first().filter(|_| self.signs)
    }

    /// The key with id `kid`.
    pub fn find(&self, kid: &str) -> Option<&Key> {
        self.keys.iter().find(|key| key.kid() == kid)
    }

    /// Every key in the set, the signing key first.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter()
    }

    /// The public keys as a JWKS document (RFC 7517), for resource servers
    /// that verify with public keys alone. HMAC secrets are left out.
    ///
    /// # Example
    ///
    /// ```
    /// use auth_layer::{Algorithm, Key, KeySet};
    ///
    /// let pem = "-----BEGIN PRIVATE KEY-----
    /// MC4CAQAwBQYDK2VwBCIEIGEEoAzqhXwkQM5k4OdifOYtYihdKcpzX93ucd+BQ9yd
    /// -----END PRIVATE KEY-----";
    /// let keys = KeySet::new(Key::from_pem("ed-1", Algorithm::EdDSA, pem)?)?;
    /// let json = serde_json::to_string(&keys.jwks()).unwrap();
    /// assert!(json.contains(r#""kid":"ed-1""#));
    /// assert!(json.contains(r#""crv":"Ed25519""#));
    /// # Ok::<(), auth_layer::KeyError>(())
    /// ```
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.keys.iter().filter_map(Key::public_jwk).collect(),
        }
    }
}
