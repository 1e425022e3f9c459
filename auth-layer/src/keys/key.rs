use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType,
    PublicKeyUse, RSAKeyParameters, RSAKeyType,
};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha2::Sha256;

use super::{Algorithm, KeyError};
use crate::token::jws::{Kind, encoded_header};

/// The shortest HS256 secret accepted, in bytes (RFC 7518, section 3.2).
pub(crate) const MIN_SECRET_LEN: usize = 32;

/// A secret needs at least this many distinct byte values to pass as random.
const MIN_DISTINCT_SECRET_BYTES: usize = 8;

/// One key with its id: a shared HMAC secret, or an asymmetric key pair or
/// public key.
///
/// `Debug` shows the key id, the algorithm and whether the key can sign;
/// never key material.
///
/// # Example
///
/// ```
/// use auth_layer::{Algorithm, Key};
///
/// let key = Key::hs256("k1", b"0123456789abcdefghijklmnopqrstuv")?;
/// assert_eq!(key.algorithm(), Algorithm::HS256);
/// assert!(Key::hs256("k2", b"too short").is_err());
/// # Ok::<(), auth_layer::KeyError>(())
/// ```
#[derive(Clone)]
pub struct Key {
    kid: String,
    alg: Algorithm,
    can_sign: bool,
    material: Material,
    /// The encoded headers of access and refresh tokens signed by this key.
    headers: [String; 2],
}

#[derive(Clone)]
enum Material {
    /// The HMAC state is keyed once here and cloned per token, so the key's
    /// inner and outer pads are not recomputed on every call.
    Hmac(Hmac<Sha256>),
    Ed25519 {
        signing: Option<Box<ed25519_dalek::SigningKey>>,
        verifying: ed25519_dalek::VerifyingKey,
    },
    Pkix(Box<Pkix>),
}

#[derive(Clone)]
struct Pkix {
    signing: Option<EncodingKey>,
    verifying: DecodingKey,
    jwk: AlgorithmParameters,
}

impl Key {
    /// An HS256 key from a shared secret.
    ///
    /// # Errors
    ///
    /// [`KeyError::SecretTooShort`] for a secret under 32 bytes,
    /// [`KeyError::WeakSecret`] for one with fewer than 8 distinct byte
    /// values, and [`KeyError::InvalidKid`] for an empty or overlong `kid`.
    pub fn hs256(kid: impl Into<String>, secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let kid = checked_kid(kid.into())?;
        let secret = secret.as_ref();
        if secret.len() < MIN_SECRET_LEN {
            return Err(KeyError::SecretTooShort {
                kid,
                len: secret.len(),
                min: MIN_SECRET_LEN,
            });
        }
        if distinct_bytes(secret) < MIN_DISTINCT_SECRET_BYTES {
            return Err(KeyError::WeakSecret { kid });
        }

        let mac = Hmac::<Sha256>::new_from_slice(secret)
            .map_err(|_| KeyError::WeakSecret { kid: kid.clone() })?;
        Ok(Self::assemble(
            kid,
            Algorithm::HS256,
            true,
            Material::Hmac(mac),
        ))
    }

    /// A key from PEM text: a private key (PKCS#8 `PRIVATE KEY`, or for RSA
    /// also `RSA PRIVATE KEY`) signs and verifies, a public key
    /// (`PUBLIC KEY`) only verifies.
    ///
    /// `alg` must be [`Algorithm::EdDSA`], [`Algorithm::ES256`] or
    /// [`Algorithm::RS256`]; HS256 keys come from [`Key::hs256`].
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidPem`] when the text is not a key for `alg`.
    pub fn from_pem(
        kid: impl Into<String>,
        alg: Algorithm,
        pem: impl AsRef<[u8]>,
    ) -> Result<Self, KeyError> {
        let kid = checked_kid(kid.into())?;
        let pem = pem.as_ref();
        let private = contains(pem, b"PRIVATE KEY");
        let invalid = || KeyError::InvalidPem {
            kid: kid.clone(),
            alg,
        };

        let material = match (alg, private) {
            (Algorithm::EdDSA, true) => {
                let der = EncodingKey::from_ed_pem(pem).map_err(|_| invalid())?;
                let signing = ed25519_dalek::SigningKey::from_pkcs8_der(der.as_bytes())
                    .map_err(|_| invalid())?;
                Material::Ed25519 {
                    verifying: signing.verifying_key(),
                    signing: Some(Box::new(signing)),
                }
            }
            (Algorithm::EdDSA, false) => {
                let public = DecodingKey::from_ed_pem(pem).map_err(|_| invalid())?;
                let bytes = public.try_get_as_bytes().map_err(|_| invalid())?;
                let bytes: &[u8; 32] = bytes.try_into().map_err(|_| invalid())?;
                let verifying =
                    ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| invalid())?;
                Material::Ed25519 {
                    signing: None,
                    verifying,
                }
            }
            (Algorithm::ES256 | Algorithm::RS256, _) => {
                pkix_material(alg, pem, private).ok_or_else(invalid)?
            }
            (Algorithm::HS256, _) => return Err(invalid()),
        };

        Ok(Self::assemble(kid, alg, private, material))
    }

    fn assemble(kid: String, alg: Algorithm, can_sign: bool, material: Material) -> Self {
        let mut key = Self {
            kid,
            alg,
            can_sign,
            material,
            headers: Default::default(),
        };
        key.headers = [Kind::Access, Kind::Refresh].map(|kind| encoded_header(&key, kind));
        key
    }

    /// The encoded header of tokens of `kind` signed by this key.
    pub(crate) fn encoded_header(&self, kind: Kind) -> &str {
        &self.headers[kind as usize]
    }

    /// The same key, stripped of the right to sign: what a key set keeps
    /// for a retired key whose tokens must still verify.
    pub fn verify_only(&self) -> Self {
        let mut key = self.clone();
        key.can_sign = false;
        match &mut key.material {
            Material::Hmac(_) => {}
            Material::Ed25519 { signing, .. } => *signing = None,
            Material::Pkix(pkix) => pkix.signing = None,
        }
        key
    }

    /// The key id, carried in every token's `kid` header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs and verifies with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Whether this key holds private material and may sign.
    pub fn can_sign(&self) -> bool {
        self.can_sign
    }

    /// The public half as a JWK, or `None` for an HMAC secret, which must
    /// never be published.
    pub fn public_jwk(&self) -> Option<Jwk> {
        let algorithm = match &self.material {
            Material::Hmac(_) => return None,
            Material::Ed25519 { verifying, .. } => {
                AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                    key_type: OctetKeyPairType::OctetKeyPair,
                    curve: EllipticCurve::Ed25519,
                    x: URL_SAFE_NO_PAD.encode(verifying.as_bytes()),
                })
            }
            Material::Pkix(pkix) => pkix.jwk.clone(),
        };
        let key_algorithm = match self.alg {
            Algorithm::EdDSA => KeyAlgorithm::EdDSA,
            Algorithm::ES256 => KeyAlgorithm::ES256,
            _ => KeyAlgorithm::RS256,
        };
        Some(Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(key_algorithm),
                key_id: Some(self.kid.clone()),
                ..CommonParameters::default()
            },
            algorithm,
        })
    }

    /// Signs `message` and returns the raw signature.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let failed = || KeyError::SigningFailed(self.kid.clone());
        if !self.can_sign {
            return Err(KeyError::NotASigningKey(self.kid.clone()));
        }
        match &self.material {
            Material::Hmac(mac) => {
                let mut mac = mac.clone();
                mac.update(message);
                Ok(mac.finalize().into_bytes().to_vec())
            }
            Material::Ed25519 { signing, .. } => {
                use ed25519_dalek::Signer;
                let signing = signing.as_ref().ok_or_else(failed)?;
                Ok(signing.sign(message).to_bytes().to_vec())
            }
            Material::Pkix(pkix) => {
                let signing = pkix.signing.as_ref().ok_or_else(failed)?;
                let signer = (DEFAULT_PROVIDER.signer_factory)(&self.alg.to_jwt(), signing)
                    .map_err(|_| failed())?;
                signer.try_sign(message).map_err(|_| failed())
            }
        }
    }

    /// Checks `signature` over `message` with this key's own algorithm.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.material {
            Material::Hmac(mac) => {
                let mut mac = mac.clone();
                mac.update(message);
                mac.verify_slice(signature).is_ok()
            }
            Material::Ed25519 { verifying, .. } => {
                let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
                    return false;
                };
                verifying.verify_strict(message, &signature).is_ok()
            }
            Material::Pkix(pkix) => {
                let alg = self.alg.to_jwt();
                let Ok(verifier) = (DEFAULT_PROVIDER.verifier_factory)(&alg, &pkix.verifying)
                else {
                    return false;
                };
                verifier.verify(message, &signature.to_vec()).is_ok()
            }
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("can_sign", &self.can_sign)
            .finish_non_exhaustive()
    }
}

/// ES256 and RS256 keys: parsed by jsonwebtoken, public components taken out
/// once for the verifier and the JWK, and the pair checked by a test
/// signature so that a key for the wrong curve fails here, not per request.
fn pkix_material(alg: Algorithm, pem: &[u8], private: bool) -> Option<Material> {
    let utils = &DEFAULT_PROVIDER.key_utils;
    let (signing, verifying, jwk) = match (alg, private) {
        (Algorithm::ES256, true) => {
            let signing = EncodingKey::from_ec_pem(pem).ok()?;
            let (curve, x, y) =
                (utils.ec_pub_components_from_private_key)(signing.as_bytes(), alg.to_jwt())
                    .ok()?;
            (Some(signing), ec_public(curve, &x, &y)?, ec_jwk(&x, &y))
        }
        (Algorithm::ES256, false) => {
            let public = DecodingKey::from_ec_pem(pem).ok()?;
            let point = public.try_get_as_bytes().ok()?;
            if point.len() != 65 || point[0] != 4 {
                return None;
            }
            let (x, y) = point[1..].split_at(32);
            (None, ec_public(EllipticCurve::P256, x, y)?, ec_jwk(x, y))
        }
        (Algorithm::RS256, true) => {
            let signing = EncodingKey::from_rsa_pem(pem).ok()?;
            let (n, e) = (utils.rsa_pub_components_from_private_key)(signing.as_bytes()).ok()?;
            let verifying = DecodingKey::from_rsa_raw_components(&n, &e);
            (Some(signing), verifying, rsa_jwk(&n, &e))
        }
        (Algorithm::RS256, false) => {
            let public = DecodingKey::from_rsa_pem(pem).ok()?;
            let der = public.try_get_as_bytes().ok()?;
            let (n, e) = (utils.rsa_pub_components_from_public_key)(der).ok()?;
            let verifying = DecodingKey::from_rsa_raw_components(&n, &e);
            (None, verifying, rsa_jwk(&n, &e))
        }
        _ => return None,
    };

    (DEFAULT_PROVIDER.verifier_factory)(&alg.to_jwt(), &verifying).ok()?;
    if let Some(signing) = &signing {
        (DEFAULT_PROVIDER.signer_factory)(&alg.to_jwt(), signing).ok()?;
    }
    Some(Material::Pkix(Box::new(Pkix {
        signing,
        verifying,
        jwk,
    })))
}

fn ec_public(curve: EllipticCurve, x: &[u8], y: &[u8]) -> Option<DecodingKey> {
    if curve != EllipticCurve::P256 || x.len() != 32 || y.len() != 32 {
        return None;
    }
    DecodingKey::from_ec_components(&URL_SAFE_NO_PAD.encode(x), &URL_SAFE_NO_PAD.encode(y)).ok()
}

fn ec_jwk(x: &[u8], y: &[u8]) -> AlgorithmParameters {
    AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
        key_type: EllipticCurveKeyType::EC,
        curve: EllipticCurve::P256,
        x: URL_SAFE_NO_PAD.encode(x),
        y: URL_SAFE_NO_PAD.encode(y),
    })
}

fn rsa_jwk(n: &[u8], e: &[u8]) -> AlgorithmParameters {
    AlgorithmParameters::RSA(RSAKeyParameters {
        key_type: RSAKeyType::RSA,
        n: URL_SAFE_NO_PAD.encode(n),
        e: URL_SAFE_NO_PAD.encode(e),
    })
}

fn checked_kid(kid: String) -> Result<String, KeyError> {
    if kid.is_empty() || kid.len() > 256 {
        return Err(KeyError::InvalidKid);
    }
    Ok(kid)
}

fn distinct_bytes(bytes: &[u8]) -> usize {
    let mut seen = [false; 256];
    bytes.iter().for_each(|&b| seen[b as usize] = true);
    seen.iter().filter(|&&s| s).count()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = include_str!("../../tests/keys/ed25519.pem");
    const ED25519_PUB: &str = include_str!("../../tests/keys/ed25519.pub.pem");
    const ES256: &str = include_str!("../../tests/keys/es256.pem");
    const ES256_PUB: &str = include_str!("../../tests/keys/es256.pub.pem");
    const ES384: &str = include_str!("../../tests/keys/es384.pem");
    const RS256: &str = include_str!("../../tests/keys/rs256.pem");
    const RS256_PUB: &str = include_str!("../../tests/keys/rs256.pub.pem");

    #[test]
    fn a_secret_under_32_bytes_is_refused_with_its_length() {
        let err = Key::hs256("k", [7u8; 31]).unwrap_err();
        assert!(matches!(
            err,
            KeyError::SecretTooShort {
                len: 31,
                min: 32,
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "HS256 secret for key `k` is 31 bytes long; at least 32 bytes are required"
        );
    }

    #[test]
    fn a_repetitive_secret_is_refused() {
        let err = Key::hs256("k", "ab".repeat(32)).unwrap_err();
        assert!(matches!(err, KeyError::WeakSecret { .. }));
    }

    #[test]
    fn an_empty_kid_is_refused() {
        assert!(matches!(
            Key::hs256("", b"0123456789abcdefghijklmnopqrstuv"),
            Err(KeyError::InvalidKid)
        ));
    }

    #[test]
    fn every_asymmetric_private_key_signs_and_its_public_key_verifies() {
        for (alg, private, public) in [
            (Algorithm::EdDSA, ED25519, ED25519_PUB),
            (Algorithm::ES256, ES256, ES256_PUB),
            (Algorithm::RS256, RS256, RS256_PUB),
        ] {
            let signer = Key::from_pem("s", alg, private).unwrap();
            let verifier = Key::from_pem("v", alg, public).unwrap();
            assert!(signer.can_sign() && !verifier.can_sign(), "{alg}");

            let signature = signer.sign(b"message").unwrap();
            assert!(verifier.verify(b"message", &signature), "{alg}");
            assert!(!verifier.verify(b"massage", &signature), "{alg}");
            assert!(verifier.sign(b"message").is_err(), "{alg}");
        }
    }

    #[test]
    fn a_pem_for_another_algorithm_is_refused() {
        assert!(Key::from_pem("k", Algorithm::ES256, ES384).is_err());
        assert!(Key::from_pem("k", Algorithm::ES256, RS256).is_err());
        assert!(Key::from_pem("k", Algorithm::EdDSA, ES256).is_err());
        assert!(Key::from_pem("k", Algorithm::RS256, "not a pem").is_err());
        assert!(Key::from_pem("k", Algorithm::HS256, ED25519).is_err());
    }

    #[test]
    fn an_all_zero_ecdsa_signature_does_not_verify() {
        let key = Key::from_pem("k", Algorithm::ES256, ES256_PUB).unwrap();
        assert!(!key.verify(b"message", &[0u8; 64]));
    }

    #[test]
    fn hmac_keys_have_no_public_jwk() {
        let key = Key::hs256("k", b"0123456789abcdefghijklmnopqrstuv").unwrap();
        assert!(key.public_jwk().is_none());
    }

    #[test]
    fn public_jwks_carry_kid_and_algorithm() {
        for (alg, pem, kty) in [
            (Algorithm::EdDSA, ED25519_PUB, "OKP"),
            (Algorithm::ES256, ES256, "EC"),
            (Algorithm::RS256, RS256_PUB, "RSA"),
        ] {
            let jwk = Key::from_pem("kid-1", alg, pem)
                .unwrap()
                .public_jwk()
                .unwrap();
            let json = serde_json::to_value(&jwk).unwrap();
            assert_eq!(json["kid"], "kid-1");
            assert_eq!(json["alg"], alg.as_str());
            assert_eq!(json["kty"], kty);
            assert_eq!(json["use"], "sig");
            assert!(json.get("d").is_none(), "private material leaked for {alg}");
        }
    }

    #[test]
    fn debug_shows_no_key_material() {
        let secret = "a secret that must not be printed!!";
        let key = Key::hs256("k", secret).unwrap();
        let debug = format!("{key:?}");
        assert!(!debug.contains(secret));
        assert!(debug.contains("kid: \"k\""));
    }
}
