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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str) -> Key {
        Key::hs256(kid, format!("{kid}: a secret of thirty-two bytes or more")).unwrap()
    }

    #[test]
    fn the_signing_key_comes_first_and_old_keys_only_verify() {
        let set = KeySet::new(key("new"))
            .unwrap()
            .with_verify_key(key("old"))
            .unwrap();
        assert_eq!(set.signing_key().unwrap().kid(), "new");
        assert!(!set.find("old").unwrap().can_sign());
    }

    #[test]
    fn duplicate_kids_are_refused() {
        let set = KeySet::new(key("a")).unwrap();
        assert!(matches!(
            set.with_verify_key(key("a")),
            Err(KeyError::DuplicateKid(_))
        ));
    }

    #[test]
    fn a_verify_only_set_cannot_sign() {
        let set = KeySet::verify_only([key("a"), key("b")]).unwrap();
        assert!(set.signing_key().is_none());
        assert!(KeySet::new(key("a").verify_only()).is_err());
    }

    #[test]
    fn jwks_leaves_hmac_secrets_out() {
        let ed = Key::from_pem(
            "ed",
            crate::Algorithm::EdDSA,
            include_str!("../../tests/keys/ed25519.pem"),
        )
        .unwrap();
        let set = KeySet::new(ed)
            .unwrap()
            .with_verify_key(key("hmac"))
            .unwrap();
        let jwks = set.jwks();
        assert_eq!(jwks.keys.len(), 1);
        assert_eq!(jwks.keys[0].common.key_id.as_deref(), Some("ed"));
    }
}
