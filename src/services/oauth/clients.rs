//! The clients of feria's authorization server: registered dynamically (RFC 7591, ids
//! `dcr_…`) or described by a client id metadata document (the id is the document's HTTPS
//! URL, fetched when first seen and again after an hour).

use std::time::Duration;

use chrono::TimeDelta;
use feria_db::Row;
use feria_domain::time;
use serde_json::{Value, json};

use super::OAuthError;
use crate::app::App;
use crate::crypto::random_token;

/// Largest metadata document read.
const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// How long a fetched document is trusted before it is fetched again.
const DOCUMENT_FRESH: TimeDelta = TimeDelta::hours(1);
/// Most redirect URIs one client registers.
const MAX_REDIRECT_URIS: usize = 10;

/// A client as the server knows it.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    /// Described by a metadata document (its id is a URL) rather than registered.
    pub from_document: bool,
}

impl Client {
    /// Whether `uri` is one of the client's redirect URIs: the same string, or, for a loopback
    /// address (`127.0.0.1`, `[::1]`), the same but for the port (OAuth 2.1 §8.4.2).
    pub fn redirects_to(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|registered| registered == uri || same_but_port(registered, uri))
    }
}

fn same_but_port(registered: &str, uri: &str) -> bool {
    let strip = |u: &str| -> Option<(String, String)> {
        let rest = u.strip_prefix("http://")?;
        let (authority, path) = rest.split_once('/').map_or((rest, String::new()), |(a, p)| (a, format!("/{p}")));
        let host = if authority.starts_with('[') {
            authority.split_once(']').map(|(h, _)| format!("{h}]"))?
        } else {
            authority.split(':').next()?.to_string()
        };
        matches!(host.as_str(), "127.0.0.1" | "[::1]").then_some((host, path))
    };
    matches!((strip(registered), strip(uri)), (Some(a), Some(b)) if a == b)
}

/// Whether `uri` may receive codes: HTTPS, or plain HTTP to a loopback host; no fragment.
pub fn acceptable_redirect(uri: &str) -> bool {
    if uri.contains('#') || uri.len() > 2000 {
        return false;
    }
    let Some(rest) = uri.strip_prefix("https://").or_else(|| uri.strip_prefix("http://")) else { return false };
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = if host.starts_with('[') { host.split_once(']').map_or(host, |(h, _)| h) } else { host.split(':').next().unwrap_or("") };
    !host.is_empty() && (uri.starts_with("https://") || matches!(host.trim_start_matches('['), "127.0.0.1" | "::1" | "localhost"))
}

/// Registers a client from its metadata (RFC 7591): a name, 1–10 acceptable redirect URIs,
/// the authorization code grant (with refresh), and no client secret.
pub async fn register(app: &App, metadata: &Value) -> Result<(Client, Value), OAuthError> {
    let invalid = |m: &str| OAuthError::InvalidClientMetadata(m.to_string());
    let name = match metadata.get("client_name") {
        None | Some(Value::Null) => "Cliente MCP".to_string(),
        Some(Value::String(n)) if !n.trim().is_empty() && n.chars().count() <= 100 => n.trim().to_string(),
        Some(_) => return Err(invalid("client_name must be a text of 1 to 100 characters")),
    };
    let uris = redirect_uris(metadata.get("redirect_uris"))?;
    for (field, allowed) in [("grant_types", &["authorization_code", "refresh_token"][..]), ("response_types", &["code"][..])] {
        if let Some(values) = metadata.get(field) {
            let ok = values.as_array().is_some_and(|list| list.iter().all(|v| v.as_str().is_some_and(|s| allowed.contains(&s))));
            if !ok {
                return Err(invalid(&format!("{field} may only hold {}", allowed.join(", "))));
            }
        }
    }
    match metadata.get("token_endpoint_auth_method").and_then(Value::as_str) {
        None | Some("none") => {}
        Some(_) => return Err(invalid("only public clients (token_endpoint_auth_method none) are registered")),
    }
    let client = Client { id: format!("dcr_{}", random_token()), name, redirect_uris: uris, from_document: false };
    let now = time::now();
    sqlx::query(
        "INSERT INTO oauth_clients (id, name, redirect_uris, kind, created_at, fetched_at) VALUES ($1, $2, $3, 'registered', $4, $4)",
    )
    .bind(&client.id)
    .bind(&client.name)
    .bind(json!(client.redirect_uris).to_string())
    .bind(time::to_db(now))
    .execute(app.db.writer())
    .await?;
    let answer = json!({
        "client_id": client.id,
        "client_id_issued_at": now.timestamp(),
        "client_name": client.name,
        "redirect_uris": client.redirect_uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": metadata.get("application_type").and_then(Value::as_str).unwrap_or("native"),
    });
    Ok((client, answer))
}

fn redirect_uris(value: Option<&Value>) -> Result<Vec<String>, OAuthError> {
    let list = value
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty() && l.len() <= MAX_REDIRECT_URIS)
        .ok_or_else(|| OAuthError::InvalidRedirectUri(format!("redirect_uris must list 1 to {MAX_REDIRECT_URIS} URIs")))?;
    list.iter()
        .map(|v| match v.as_str() {
            Some(uri) if acceptable_redirect(uri) => Ok(uri.to_string()),
            _ => {
                Err(OAuthError::InvalidRedirectUri("each redirect URI must be https, or http to a loopback host, without fragment".into()))
            }
        })
        .collect()
}

/// The client `id`: a registered one, or the metadata document at that URL (fetched with the
/// safeguards of `feria_providers::documents` when not cached or no longer fresh).
pub async fn find(app: &App, id: &str) -> Result<Client, OAuthError> {
    let row = sqlx::query("SELECT id, name, redirect_uris, kind, fetched_at FROM oauth_clients WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *app.db.reader().acquire().await?)
        .await?;
    let fresh_after = time::to_db(time::now() - DOCUMENT_FRESH);
    if let Some(row) = &row {
        let kind: String = row.try_get("kind")?;
        let fetched: String = row.try_get("fetched_at")?;
        if kind == "registered" || fetched > fresh_after {
            let uris: String = row.try_get("redirect_uris")?;
            return Ok(Client {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                redirect_uris: serde_json::from_str(&uris).unwrap_or_default(),
                from_document: kind != "registered",
            });
        }
    }
    if !is_document_id(id) {
        return Err(OAuthError::InvalidClient("unknown client_id".into()));
    }
    fetch_document(app, id, row.is_some()).await
}

/// Whether `id` has the shape of a client id metadata document URL: HTTPS (HTTP to loopback
/// when feria itself runs there), a path, no fragment, credentials or dot segments.
fn is_document_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("https://").or_else(|| id.strip_prefix("http://")) else { return false };
    let Some((authority, path)) = rest.split_once('/') else { return false };
    !path.is_empty() && !authority.contains('@') && !id.contains('#') && !path.split('/').any(|s| s == "." || s == "..") && id.len() <= 500
}

async fn fetch_document(app: &App, id: &str, cached: bool) -> Result<Client, OAuthError> {
    let invalid = |m: String| OAuthError::InvalidClient(format!("client metadata document: {m}"));
    let allow_loopback = app.serves_on_loopback();
    let body = feria_providers::documents::fetch(id, MAX_DOCUMENT_BYTES, Duration::from_secs(5), allow_loopback)
        .await
        .map_err(|e| invalid(e.to_string()))?;
    let document: Value = serde_json::from_slice(&body).map_err(|_| invalid("not JSON".into()))?;
    if document.get("client_id").and_then(Value::as_str) != Some(id) {
        return Err(invalid("its client_id is not its URL".into()));
    }
    if document.get("client_secret").is_some() || document.get("client_secret_expires_at").is_some() {
        return Err(invalid("a public client has no secret".into()));
    }
    if !matches!(document.get("token_endpoint_auth_method").and_then(Value::as_str), None | Some("none")) {
        return Err(invalid("only token_endpoint_auth_method none is accepted".into()));
    }
    let name = document.get("client_name").and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty() && n.chars().count() <= 100);
    let name = name.ok_or_else(|| invalid("client_name is missing".into()))?.to_string();
    let uris = redirect_uris(document.get("redirect_uris")).map_err(|e| invalid(e.to_string()))?;
    let now = time::to_db(time::now());
    let sql = if cached {
        "UPDATE oauth_clients SET name = $2, redirect_uris = $3, fetched_at = $4 WHERE id = $1"
    } else {
        "INSERT INTO oauth_clients (id, name, redirect_uris, kind, created_at, fetched_at) VALUES ($1, $2, $3, 'metadata_document', $4, $4)
         ON CONFLICT (id) DO UPDATE SET name = $2, redirect_uris = $3, fetched_at = $4"
    };
    sqlx::query(sql).bind(id).bind(&name).bind(json!(uris).to_string()).bind(&now).execute(app.db.writer()).await?;
    Ok(Client { id: id.to_string(), name, redirect_uris: uris, from_document: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_match_on_any_port_and_others_exactly() {
        let client = Client {
            id: "x".into(),
            name: "x".into(),
            redirect_uris: vec!["http://127.0.0.1:3000/callback".into(), "https://app.example/cb".into()],
            from_document: false,
        };
        assert!(client.redirects_to("http://127.0.0.1:49152/callback"));
        assert!(!client.redirects_to("http://127.0.0.1:49152/other"));
        assert!(client.redirects_to("https://app.example/cb"));
        assert!(!client.redirects_to("https://app.example:8443/cb"));
        assert!(!client.redirects_to("http://localhost:3000/callback"));
    }

    #[test]
    fn redirects_must_be_https_or_loopback() {
        assert!(acceptable_redirect("https://claude.ai/api/mcp/auth_callback"));
        assert!(acceptable_redirect("http://127.0.0.1:33418/callback"));
        assert!(acceptable_redirect("http://localhost:6274/oauth/callback"));
        assert!(!acceptable_redirect("http://evil.example/cb"));
        assert!(!acceptable_redirect("https://app.example/cb#frag"));
        assert!(!acceptable_redirect("javascript:alert(1)"));
    }

    #[test]
    fn document_ids_are_urls_with_a_path() {
        assert!(is_document_id("https://app.example.com/oauth/client.json"));
        assert!(!is_document_id("https://app.example.com"));
        assert!(!is_document_id("https://user@app.example.com/x"));
        assert!(!is_document_id("https://app.example.com/../x"));
        assert!(!is_document_id("dcr_abc"));
    }
}
