//! Grants, codes and tokens: what a member approves on the consent page becomes an API key of
//! the store bound to the client; its code is exchanged once (PKCE S256) for an access token
//! bound to the MCP resource and a refresh token that rotates on every use.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use feria_db::Row;
use feria_domain::access::Scope;
use feria_domain::ids::new_id;
use feria_domain::time;
use sha2::{Digest, Sha256};

use super::clients::Client;
use super::{ACCESS_TTL, CODE_TTL, OAuthError, REFRESH_TTL};
use crate::app::App;
use crate::crypto::{random_token, sha256_hex};
use crate::services::catalog::stores::Store;
use crate::services::identity::api_keys::MAX_KEYS_PER_STORE;
use crate::services::identity::caller::{Caller, KeyGrant};

/// A token answer (RFC 6749 §5.1).
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub scopes: Vec<Scope>,
}

/// What the member approved: the client, the store's MCP endpoint, the scopes.
pub struct Approval<'a> {
    pub client: &'a Client,
    pub store: &'a Store,
    pub resource: &'a str,
    pub scopes: &'a [Scope],
    pub redirect_uri: &'a str,
    pub code_challenge: &'a str,
}

/// Records `member`'s approval as the client's grant in the store (one per client and member:
/// approving again replaces its scopes) and returns a code for it. Only scopes the member holds
/// now and that keys may hold are granted; none left is a refusal.
pub async fn approve(app: &App, member: &Caller, approval: Approval<'_>) -> Result<String, OAuthError> {
    let store_id = &approval.store.id;
    let scopes: Vec<Scope> = approval.scopes.iter().copied().filter(|s| s.grantable_to_keys() && member.may(store_id, *s)).collect();
    if scopes.is_empty() {
        return Err(OAuthError::AccessDenied("no tenés en esta tienda ninguno de los permisos pedidos".into()));
    }
    let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    let names = serde_json::to_string(&names).expect("scope names serialise");
    let now = time::to_db(time::now());
    let mut tx = app.db.begin().await?;
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT id FROM api_keys WHERE oauth_client_id = $1 AND created_by = $2 AND store_id = $3 AND revoked_at IS NULL",
    )
    .bind(&approval.client.id)
    .bind(&member.id)
    .bind(store_id)
    .fetch_optional(&mut *tx)
    .await?;
    let key_id = match existing {
        Some(id) => {
            sqlx::query("UPDATE api_keys SET scopes = $1, name = $2 WHERE id = $3")
                .bind(&names)
                .bind(key_name(approval.client))
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            id
        }
        None => {
            let held: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE store_id = $1").bind(store_id).fetch_one(&mut *tx).await?;
            if held >= MAX_KEYS_PER_STORE {
                return Err(OAuthError::AccessDenied("la tienda llegó al máximo de claves de API".into()));
            }
            let id = new_id();
            let never_presented = random_token();
            sqlx::query(
                "INSERT INTO api_keys (id, store_id, name, prefix, key_hash, scopes, created_by, expires_at, created_at, oauth_client_id)
                 VALUES ($1, $2, $3, 'oauth', $4, $5, $6, NULL, $7, $8)",
            )
            .bind(&id)
            .bind(store_id)
            .bind(key_name(approval.client))
            .bind(sha256_hex(&never_presented))
            .bind(&names)
            .bind(&member.id)
            .bind(&now)
            .bind(&approval.client.id)
            .execute(&mut *tx)
            .await?;
            id
        }
    };
    let code = format!("fo_code_{}", random_token());
    sqlx::query(
        "INSERT INTO oauth_codes (code_hash, client_id, user_id, key_id, resource, redirect_uri, code_challenge, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(sha256_hex(&code))
    .bind(&approval.client.id)
    .bind(&member.id)
    .bind(&key_id)
    .bind(approval.resource)
    .bind(approval.redirect_uri)
    .bind(approval.code_challenge)
    .bind(time::to_db(time::now() + CODE_TTL))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(code)
}

fn key_name(client: &Client) -> String {
    format!("{} (OAuth)", client.name.chars().take(90).collect::<String>())
}

/// What the token request sent with a code.
pub struct CodeExchange<'a> {
    pub client_id: &'a str,
    pub code: &'a str,
    pub code_verifier: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub resource: Option<&'a str>,
}

/// Exchanges a code once for tokens. A code presented again revokes what it gave.
pub async fn exchange(app: &App, request: CodeExchange<'_>) -> Result<Tokens, OAuthError> {
    let invalid = |m: &str| OAuthError::InvalidGrant(m.to_string());
    let hash = sha256_hex(request.code);
    let row = sqlx::query(
        "SELECT client_id, key_id, resource, redirect_uri, code_challenge, expires_at, used_at FROM oauth_codes WHERE code_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(app.db.writer())
    .await?
    .ok_or_else(|| invalid("unknown code"))?;
    let key_id: String = row.try_get("key_id")?;
    if row.try_get::<Option<String>, _>("used_at")?.is_some() {
        revoke_grant(app, &key_id).await?;
        return Err(invalid("code already used; what it gave is revoked"));
    }
    let resource: String = row.try_get("resource")?;
    if row.try_get::<String, _>("client_id")? != request.client_id {
        return Err(invalid("code issued to another client"));
    }
    if row.try_get::<String, _>("expires_at")? <= time::to_db(time::now()) {
        return Err(invalid("code expired"));
    }
    if request.redirect_uri.is_some_and(|uri| uri != row.try_get::<String, _>("redirect_uri").unwrap_or_default()) {
        return Err(invalid("redirect_uri differs from the authorization request's"));
    }
    if request.resource.is_some_and(|r| r.trim_end_matches('/') != resource) {
        return Err(OAuthError::InvalidTarget);
    }
    let verifier = request.code_verifier;
    let verifier_ok = (43..=128).contains(&verifier.len()) && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if !verifier_ok || challenge != row.try_get::<String, _>("code_challenge")? {
        return Err(invalid("code_verifier does not match the code_challenge"));
    }
    let claimed = sqlx::query("UPDATE oauth_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL")
        .bind(time::to_db(time::now()))
        .bind(&hash)
        .execute(app.db.writer())
        .await?;
    if claimed.rows_affected() == 0 {
        revoke_grant(app, &key_id).await?;
        return Err(invalid("code already used; what it gave is revoked"));
    }
    issue(app, &key_id, &resource).await
}

/// Exchanges a refresh token for a new pair (the old one stops working). A refresh token
/// presented after it was rotated means it leaked: the whole grant is revoked.
pub async fn refresh(app: &App, client_id: &str, token: &str, resource: Option<&str>) -> Result<Tokens, OAuthError> {
    let invalid = |m: &str| OAuthError::InvalidGrant(m.to_string());
    let hash = sha256_hex(token);
    let row = sqlx::query(
        "SELECT t.key_id, t.resource, t.expires_at, t.rotated_at, k.oauth_client_id, k.revoked_at
         FROM oauth_tokens t JOIN api_keys k ON k.id = t.key_id WHERE t.token_hash = $1 AND t.kind = 'refresh'",
    )
    .bind(&hash)
    .fetch_optional(app.db.writer())
    .await?
    .ok_or_else(|| invalid("unknown refresh token"))?;
    let key_id: String = row.try_get("key_id")?;
    let stored_resource: String = row.try_get("resource")?;
    if row.try_get::<Option<String>, _>("oauth_client_id")?.as_deref() != Some(client_id) {
        return Err(invalid("refresh token issued to another client"));
    }
    if row.try_get::<Option<String>, _>("revoked_at")?.is_some() {
        return Err(invalid("the grant was revoked"));
    }
    if row.try_get::<Option<String>, _>("rotated_at")?.is_some() {
        revoke_grant(app, &key_id).await?;
        return Err(invalid("refresh token reuse detected"));
    }
    if row.try_get::<String, _>("expires_at")? <= time::to_db(time::now()) {
        return Err(invalid("refresh token expired"));
    }
    if resource.is_some_and(|r| r.trim_end_matches('/') != stored_resource) {
        return Err(OAuthError::InvalidTarget);
    }
    let rotated = sqlx::query("UPDATE oauth_tokens SET rotated_at = $1 WHERE token_hash = $2 AND rotated_at IS NULL")
        .bind(time::to_db(time::now()))
        .bind(&hash)
        .execute(app.db.writer())
        .await?;
    if rotated.rows_affected() == 0 {
        revoke_grant(app, &key_id).await?;
        return Err(invalid("refresh token reuse detected"));
    }
    issue(app, &key_id, &stored_resource).await
}

/// A new access and refresh token for the grant `key_id`.
async fn issue(app: &App, key_id: &str, resource: &str) -> Result<Tokens, OAuthError> {
    let scopes: String = sqlx::query_scalar("SELECT scopes FROM api_keys WHERE id = $1 AND revoked_at IS NULL")
        .bind(key_id)
        .fetch_optional(app.db.writer())
        .await?
        .ok_or_else(|| OAuthError::InvalidGrant("the grant was revoked".into()))?;
    let names: Vec<String> = serde_json::from_str(&scopes).unwrap_or_default();
    let (access, refresh) = (format!("fo_at_{}", random_token()), format!("fo_rt_{}", random_token()));
    let now = time::now();
    let mut tx = app.db.begin().await?;
    for (token, kind, expires) in [(&access, "access", now + ACCESS_TTL), (&refresh, "refresh", now + REFRESH_TTL)] {
        sqlx::query(
            "INSERT INTO oauth_tokens (token_hash, key_id, kind, resource, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(sha256_hex(token))
        .bind(key_id)
        .bind(kind)
        .bind(resource)
        .bind(time::to_db(expires))
        .bind(time::to_db(now))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Tokens {
        access_token: access,
        refresh_token: refresh,
        expires_in: ACCESS_TTL.num_seconds(),
        scopes: names.iter().filter_map(|n| Scope::parse(n)).collect(),
    })
}

/// Revokes the grant `key_id`: the key and every token it issued.
async fn revoke_grant(app: &App, key_id: &str) -> Result<(), sqlx::Error> {
    let mut tx = app.db.begin().await?;
    sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(time::to_db(time::now()))
        .bind(key_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM oauth_tokens WHERE key_id = $1").bind(key_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether an access token was refused, and why (for `WWW-Authenticate`).
#[derive(Debug)]
pub enum TokenRefusal {
    Unknown,
    Expired,
    /// Issued for another resource (another store's endpoint).
    OtherResource,
    Revoked,
}

/// The caller an access token stands for on `resource`: the grant's store, with its scopes
/// as far as the member who approved it still holds them.
pub async fn authenticate(app: &App, token: &str, resource: &str) -> Result<Result<Caller, TokenRefusal>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT t.resource, t.expires_at, k.id, k.store_id, k.scopes, k.created_by, k.revoked_at
         FROM oauth_tokens t JOIN api_keys k ON k.id = t.key_id WHERE t.token_hash = $1 AND t.kind = 'access'",
    )
    .bind(sha256_hex(token))
    .fetch_optional(&mut *app.db.reader().acquire().await?)
    .await?;
    let Some(row) = row else { return Ok(Err(TokenRefusal::Unknown)) };
    if row.try_get::<Option<String>, _>("revoked_at")?.is_some() {
        return Ok(Err(TokenRefusal::Revoked));
    }
    if row.try_get::<String, _>("expires_at")? <= time::to_db(time::now()) {
        return Ok(Err(TokenRefusal::Expired));
    }
    if row.try_get::<String, _>("resource")? != resource {
        return Ok(Err(TokenRefusal::OtherResource));
    }
    let store_id: String = row.try_get("store_id")?;
    let member_id: Option<String> = row.try_get("created_by")?;
    let Some(access) = (match &member_id {
        Some(id) => app.access.current(&app.db, id).await?,
        None => None,
    }) else {
        return Ok(Err(TokenRefusal::Revoked));
    };
    let member = Caller::user(member_id.unwrap_or_default(), access);
    let names: String = row.try_get("scopes")?;
    let names: Vec<String> = serde_json::from_str(&names).unwrap_or_default();
    let scopes = names.iter().filter_map(|n| Scope::parse(n)).filter(|s| member.may(&store_id, *s)).collect();
    Ok(Ok(Caller { id: row.try_get("id")?, roles: Vec::new(), memberships: Vec::new(), key: Some(KeyGrant { store_id, scopes }) }))
}
