//! HS256 access tokens (JWT) carrying the user id and roles.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

/// What an access token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// Role names (`ADMIN_ROLE`, `USER_ROLE`) when it was issued.
    pub roles: Vec<String>,
    /// The user's token version when it was issued (see `users.token_version`).
    #[serde(default)]
    pub ver: i64,
    pub iat: i64,
    pub exp: i64,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
}

/// Signs and checks access tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl TokenKeys {
    pub fn new(secret: &str, ttl: Duration) -> TokenKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            ttl,
        }
    }

    /// A token for `user_id` with `roles` at token `version`, valid for the configured time.
    pub fn issue(&self, user_id: &str, roles: &[String], version: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims =
            Claims { sub: user_id.to_string(), roles: roles.to_vec(), ver: version, iat: now, exp: now + self.ttl.as_secs() as i64 };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of serialisable claims cannot fail")
    }

    /// The claims of a well-signed, unexpired token.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map(|data| data.claims).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_verify_and_reject() {
        let keys = TokenKeys::new("k".repeat(32).as_str(), Duration::from_secs(60));
        let token = keys.issue("u1", &["USER_ROLE".into()], 0);
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.roles.as_slice()), ("u1", ["USER_ROLE".to_string()].as_slice()));
        let other = TokenKeys::new("x".repeat(32).as_str(), Duration::from_secs(60));
        assert_eq!(other.verify(&token).unwrap_err(), TokenError::Invalid);
        assert_eq!(keys.verify("garbage").unwrap_err(), TokenError::Invalid);
    }
}
