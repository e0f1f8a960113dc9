//! `/authorize`: the authorization request checked, then the sign-in page, then the consent
//! page listing what the host asks for; the member's answer goes back to the host's redirect
//! URI with a code (or `access_denied`), the state and the issuer.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use feria_domain::access::Scope;
use minijinja::context;

use super::{error_page, render};
use crate::app::AppState;
use crate::crypto::sha256_hex;
use crate::http::auth::ClientIp;
use crate::routes::auth::limit_credentials;
use crate::services::catalog::stores::Store;
use crate::services::identity::caller::Caller;
use crate::services::identity::users;
use crate::services::oauth::clients::{self, Client};
use crate::services::oauth::{self, OAuthError, grants, logins};

/// The cookie that holds the consent page's sign-in.
const COOKIE: &str = "feria_oauth";

/// An authorization request that passed every check.
struct Request {
    client: Client,
    redirect_uri: String,
    state: Option<String>,
    store: Arc<Store>,
    resource: String,
    scopes: Vec<Scope>,
    code_challenge: String,
}

/// Checks the request in `query`. Until the client and its redirect URI are known, a problem
/// is shown on feria's own page; after, it goes back to the client as an OAuth error.
async fn check(app: &AppState, query: &str) -> Result<Request, Box<Response>> {
    let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let param = |name: &str| params.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let Some(client_id) = param("client_id") else { return Err(Box::new(error_page("Falta client_id en el pedido de autorización."))) };
    let client = match clients::find(app, client_id).await {
        Ok(client) => client,
        Err(OAuthError::Database(e)) => {
            tracing::error!(error = %e, "OAuth client lookup failed");
            return Err(Box::new(error_page("No se pudo leer la aplicación; probá de nuevo.")));
        }
        Err(e) => return Err(Box::new(error_page(&format!("La aplicación no es válida: {e}.")))),
    };
    let Some(redirect_uri) = param("redirect_uri").filter(|uri| client.redirects_to(uri)) else {
        return Err(Box::new(error_page("La dirección de retorno (redirect_uri) no es una de las registradas por la aplicación.")));
    };
    let state = param("state").map(str::to_string);
    let back = |error: OAuthError| Err(Box::new(redirect_error(app, redirect_uri, state.as_deref(), &error)));
    if param("response_type") != Some("code") {
        return back(OAuthError::InvalidRequest("response_type must be code".into()));
    }
    let (Some(code_challenge), Some("S256")) = (param("code_challenge"), param("code_challenge_method")) else {
        return back(OAuthError::InvalidRequest("PKCE with code_challenge_method S256 is required".into()));
    };
    let store = match param("resource") {
        None => oauth::store_of_resource(app, &format!("{}/mcp", oauth::issuer(app))).await,
        Some(resource) => oauth::store_of_resource(app, resource).await,
    };
    let store = match store {
        Ok(Some(store)) => store,
        Ok(None) => return back(OAuthError::InvalidTarget),
        Err(e) => return back(OAuthError::Database(e)),
    };
    let scopes = match oauth::parse_scopes(param("scope")) {
        Ok(scopes) => scopes,
        Err(e) => return back(e),
    };
    Ok(Request {
        resource: oauth::resource_of(app, &store),
        client,
        redirect_uri: redirect_uri.to_string(),
        state,
        store,
        scopes,
        code_challenge: code_challenge.to_string(),
    })
}

/// The client's redirect URI with `params`, the state and the issuer (RFC 9207).
fn back_to_client(app: &AppState, redirect_uri: &str, state: Option<&str>, params: &[(&str, &str)]) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    if let Some(state) = state {
        query.append_pair("state", state);
    }
    query.append_pair("iss", &oauth::issuer(app));
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{redirect_uri}{separator}{}", query.finish())).into_response()
}

fn redirect_error(app: &AppState, redirect_uri: &str, state: Option<&str>, error: &OAuthError) -> Response {
    if let OAuthError::Database(e) = error {
        tracing::error!(error = %e, "OAuth authorization failed");
    }
    let description = match error {
        OAuthError::Database(_) => "internal error".to_string(),
        other => other.to_string(),
    };
    back_to_client(app, redirect_uri, state, &[("error", error.code()), ("error_description", &description)])
}

/// The sign-in cookie's value, if sent.
fn cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty()).then(|| value.to_string())
    })
}

/// The anti-forgery token of the consent form: bound to the sign-in and to the request.
fn csrf(login: &str, query: &str) -> String {
    sha256_hex(&format!("consent:{login}:{query}"))
}

fn login_page(status: StatusCode, request: &Request, query: &str, email: &str, error: Option<&str>) -> Response {
    render(status, "login.html", context! { client_name => &request.client.name, store_name => &request.store.name, query, email, error })
}

async fn consent_page(app: &AppState, request: &Request, query: &str, member: &Caller, login: &str) -> Response {
    let email = match app.db.reader().acquire().await {
        Ok(mut conn) => users::find_by_id(&mut conn, &member.id).await.ok().flatten().map(|u| u.email).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let (granted, dropped): (Vec<Scope>, Vec<Scope>) =
        request.scopes.iter().partition(|s| s.grantable_to_keys() && member.may(&request.store.id, **s));
    if granted.is_empty() {
        let error = OAuthError::AccessDenied("no tenés en esta tienda ninguno de los permisos pedidos".into());
        return redirect_error(app, &request.redirect_uri, request.state.as_deref(), &error);
    }
    let scopes: Vec<_> = granted.iter().map(|s| context! { name => s.as_str(), text => oauth::describe(*s) }).collect();
    let dropped: Vec<&str> = dropped.iter().map(|s| s.as_str()).collect();
    let redirect_host = host_of(&request.redirect_uri);
    let loopback = matches!(redirect_host.as_str(), "127.0.0.1" | "[::1]" | "localhost");
    render(
        StatusCode::OK,
        "consent.html",
        context! {
            client_name => &request.client.name,
            client_id => &request.client.id,
            client_host => request.client.from_document.then(|| host_of(&request.client.id)),
            store_name => &request.store.name,
            user_email => email,
            scopes,
            dropped => dropped.join(", "),
            redirect_host,
            loopback,
            query,
            csrf => csrf(login, query),
        },
    )
}

/// The host of a URL (`127.0.0.1`, `claude.ai`).
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if authority.starts_with('[') {
        authority.split_once(']').map_or(authority.to_string(), |(h, _)| format!("{h}]"))
    } else {
        authority.split(':').next().unwrap_or("").to_string()
    };
    host.to_lowercase()
}

/// `GET /authorize`: the sign-in page, or the consent page for whoever is signed in.
pub async fn show(State(app): State<AppState>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let query = query.unwrap_or_default();
    let request = match check(&app, &query).await {
        Ok(request) => request,
        Err(refused) => return *refused,
    };
    let Some(login) = cookie(&headers) else { return login_page(StatusCode::OK, &request, &query, "", None) };
    match logins::signed_in(&app, &login).await {
        Ok(Some(member)) => consent_page(&app, &request, &query, &member, &login).await,
        Ok(None) => login_page(StatusCode::OK, &request, &query, "", None),
        Err(e) => redirect_error(&app, &request.redirect_uri, request.state.as_deref(), &OAuthError::Database(e)),
    }
}

/// `POST /authorize/login` (`email`, `password`, `query`): signs in and goes back to the consent page.
pub async fn login(State(app): State<AppState>, ip: ClientIp, body: Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let query = form.get("query").cloned().unwrap_or_default();
    let request = match check(&app, &query).await {
        Ok(request) => request,
        Err(refused) => return *refused,
    };
    let email = form.get("email").map(|e| e.trim().to_lowercase()).unwrap_or_default();
    if let Err(limited) = limit_credentials(&app, "oauth-login", &ip.0, Some(&email)).await {
        return login_page(limited.status, &request, &query, &email, Some("Demasiados intentos; esperá unos minutos."));
    }
    let password = form.get("password").cloned().unwrap_or_default();
    match logins::sign_in(&app, &email, password).await {
        Ok(login) => {
            let secure = if oauth::issuer(&app).starts_with("https://") { "; Secure" } else { "" };
            let cookie =
                format!("{COOKIE}={login}; Path=/authorize; HttpOnly; SameSite=Lax; Max-Age={}{secure}", oauth::LOGIN_TTL.num_seconds());
            let mut response = Redirect::to(&format!("/authorize?{query}")).into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(_) => login_page(StatusCode::UNAUTHORIZED, &request, &query, &email, Some("Email o contraseña incorrectos.")),
    }
}

/// `POST /authorize/consent` (`query`, `csrf`, `decision`): the member's answer, back to the client.
pub async fn consent(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let query = form.get("query").cloned().unwrap_or_default();
    let request = match check(&app, &query).await {
        Ok(request) => request,
        Err(refused) => return *refused,
    };
    let member = match cookie(&headers) {
        Some(login) if form.get("csrf").is_some_and(|sent| *sent == csrf(&login, &query)) => logins::signed_in(&app, &login).await,
        Some(_) => return error_page("El formulario venció o no es de esta sesión; volvé a la aplicación y empezá de nuevo."),
        None => Ok(None),
    };
    let member = match member {
        Ok(Some(member)) => member,
        Ok(None) => return login_page(StatusCode::UNAUTHORIZED, &request, &query, "", Some("Tu sesión venció; iniciá sesión de nuevo.")),
        Err(e) => return redirect_error(&app, &request.redirect_uri, request.state.as_deref(), &OAuthError::Database(e)),
    };
    if form.get("decision").map(String::as_str) != Some("approve") {
        let denied = OAuthError::AccessDenied("el usuario no autorizó la aplicación".into());
        return redirect_error(&app, &request.redirect_uri, request.state.as_deref(), &denied);
    }
    let approval = grants::Approval {
        client: &request.client,
        store: &request.store,
        resource: &request.resource,
        scopes: &request.scopes,
        redirect_uri: &request.redirect_uri,
        code_challenge: &request.code_challenge,
    };
    match grants::approve(&app, &member, approval).await {
        Ok(code) => back_to_client(&app, &request.redirect_uri, request.state.as_deref(), &[("code", &code)]),
        Err(e) => redirect_error(&app, &request.redirect_uri, request.state.as_deref(), &e),
    }
}
