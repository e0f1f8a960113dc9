//! A Google service account's credentials (`FIREBASE_SERVICE_ACCOUNT_KEY`) and the RS256
//! assertion it exchanges for an access token (RFC 7523 JWT bearer grant,
//! `shared/protocols/notifications.md` §2.3).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde::{Deserialize, Serialize};

/// Why a service account could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GoogleAuthError {
    #[error("the service account key is not JSON with client_email, private_key, private_key_id, token_uri and project_id")]
    NotAnAccount,
    #[error("the service account's private key is not a PKCS#8 RSA key")]
    BadKey,
}

/// The fields of a service account key file that feria uses.
#[derive(Deserialize)]
struct AccountFile {
    client_email: String,
    private_key: String,
    private_key_id: String,
    token_uri: String,
    project_id: String,
}

/// A service account, its key loaded.
pub struct ServiceAccount {
    pub client_email: String,
    pub key_id: String,
    pub token_uri: String,
    pub project_id: String,
    key: RsaKeyPair,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

/// In the order Google's libraries write them.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

impl ServiceAccount {
    /// Reads a service account key file (JSON).
    pub fn from_json(text: &str) -> Result<ServiceAccount, GoogleAuthError> {
        let file: AccountFile = serde_json::from_str(text).map_err(|_| GoogleAuthError::NotAnAccount)?;
        let body: String = file.private_key.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
        let der = STANDARD.decode(body).map_err(|_| GoogleAuthError::BadKey)?;
        let key = RsaKeyPair::from_pkcs8(&der).map_err(|_| GoogleAuthError::BadKey)?;
        Ok(ServiceAccount {
            client_email: file.client_email,
            key_id: file.private_key_id,
            token_uri: file.token_uri,
            project_id: file.project_id,
            key,
        })
    }

    /// The signed assertion asking for `scope`, issued at `iat` (Unix seconds) for an hour.
    pub fn assertion(&self, scope: &str, iat: i64) -> String {
        let header = Header { alg: "RS256", typ: "JWT", kid: &self.key_id };
        let claims = Claims { iss: &self.client_email, scope, aud: &self.token_uri, iat, exp: iat + 3600 };
        let header = serde_json::to_string(&header).expect("a header serialises");
        let claims = serde_json::to_string(&claims).expect("claims serialise");
        let signed = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims));
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        self.key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signed.as_bytes(), &mut signature).expect("a loaded key signs");
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

#[cfg(test)]
mod tests {
    use ring::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    use super::*;

    /// A key made for these tests only.
    const TEST_KEY: &str = include_str!("../../../tests/api/fixtures/fcm-test-key.pem");

    fn account(private_key: &str) -> String {
        serde_json::json!({
            "type": "service_account",
            "project_id": "my-shop-prod",
            "private_key_id": "0123456789abcdef0123456789abcdef01234567",
            "private_key": private_key,
            "client_email": "fcm-sender@my-shop-prod.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token",
        })
        .to_string()
    }

    #[test]
    fn the_assertion_is_the_documented_one_and_its_signature_verifies() {
        let sa = ServiceAccount::from_json(&account(TEST_KEY)).unwrap();
        let assertion = sa.assertion("https://www.googleapis.com/auth/firebase.messaging", 1_795_435_200);
        let parts: Vec<&str> = assertion.split('.').collect();
        // notifications.md §2.3's worked example.
        assert_eq!(parts[0], "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1NjcifQ");
        assert_eq!(
            parts[1],
            "eyJpc3MiOiJmY20tc2VuZGVyQG15LXNob3AtcHJvZC5pYW0uZ3NlcnZpY2VhY2NvdW50LmNvbSIsInNjb3BlIjoiaHR0cHM6Ly93d3cuZ29vZ2xlYXBpcy5jb20vYXV0aC9maXJlYmFzZS5tZXNzYWdpbmciLCJhdWQiOiJodHRwczovL29hdXRoMi5nb29nbGVhcGlzLmNvbS90b2tlbiIsImlhdCI6MTc5NTQzNTIwMCwiZXhwIjoxNzk1NDM4ODAwfQ"
        );
        assert_eq!(parts[2].len(), 342);
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, sa.key.public_key().as_ref().to_vec());
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert!(public.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature).is_ok());
        assert!(public.verify(b"something else", &signature).is_err());
    }

    #[test]
    fn what_is_not_a_service_account_is_refused() {
        assert_eq!(ServiceAccount::from_json("{}").unwrap_err(), GoogleAuthError::NotAnAccount);
        assert_eq!(
            ServiceAccount::from_json(&account("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")).unwrap_err(),
            GoogleAuthError::BadKey
        );
    }
}
