//! `GET /api/auth` (seed 001) and `GET`/`PUT /api/auth/profile` (seed 004).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::register::email_conflict;
use super::{UserEnvelope, UserView};
use crate::app::{App, AppState};
use crate::services::identity::caller::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::http::json::ApiJson;
use crate::http::validate::Validator;
use crate::services::identity::sessions;
use crate::services::identity::users::{self, User, UserChanges};

async fn current_user(app: &App, auth: &Caller) -> ApiResult<User> {
    users::find_by_id(&mut *app.db.reader().acquire().await?, &auth.id)
        .await?
        .ok_or_else(|| ApiError::unauthorized(codes::INVALID_TOKEN, "El usuario del token ya no existe"))
}

/// The user the access token belongs to.
#[utoipa::path(get, path = "/api/auth", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The current user", body = UserEnvelope),
    ))]
pub async fn me(State(app): State<AppState>, auth: Caller) -> ApiResult<Json<UserEnvelope>> {
    Ok(Json(UserEnvelope { user: current_user(&app, &auth).await?.into() }))
}

/// The current user with their customer profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileResponse {
    pub user: UserView,
    /// Phone of the customer profile, when set.
    pub phone: Option<String>,
}

async fn profile_of(app: &App, user: User) -> ApiResult<ProfileResponse> {
    let phone = users::customer_phone(&mut *app.db.reader().acquire().await?, &user.id).await?;
    Ok(ProfileResponse { user: user.into(), phone })
}

/// The current user's profile.
#[utoipa::path(get, path = "/api/auth/profile", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The profile", body = ProfileResponse),
    ))]
pub async fn get_profile(State(app): State<AppState>, auth: Caller) -> ApiResult<Json<ProfileResponse>> {
    let user = current_user(&app, &auth).await?;
    Ok(Json(profile_of(&app, user).await?))
}

/// Changes to one's own profile. A new password needs the current one and ends other sessions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProfileRequest {
    pub name: Option<String>,
    /// Avatar URL; `null` removes it.
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    #[schema(value_type = Option<String>)]
    pub img: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    pub current_password: Option<String>,
    pub new_password: Option<String>,
}

/// Updates the current user's name, avatar, phone or password.
#[utoipa::path(put, path = "/api/auth/profile", tag = "auth", security(("bearer" = [])), request_body = UpdateProfileRequest,
    responses(
        (status = 200, description = "Updated profile", body = ProfileResponse),
        (status = 422, description = "Invalid fields or wrong current password", body = ErrorBody),
    ))]
pub async fn update_profile(
    State(app): State<AppState>,
    auth: Caller,
    ApiJson(body): ApiJson<UpdateProfileRequest>,
) -> ApiResult<Json<ProfileResponse>> {
    let user = current_user(&app, &auth).await?;
    let mut v = Validator::new();
    let name = v.optional_text("name", body.name.as_deref(), 2, 100);
    let img = body.img.map(|img| v.optional_text("img", img.as_deref(), 1, 2048));
    let phone = body.phone.map(|phone| v.optional_text("phone", phone.as_deref(), 6, 30));
    let new_password = body.new_password.as_deref().map(|p| v.password("newPassword", Some(p)));
    if new_password.is_some() && body.current_password.is_none() {
        v.add("currentPassword", "Es obligatorio para cambiar la contraseña");
    }
    v.finish()?;
    let password_hash = match (new_password, body.current_password) {
        (Some(new_password), Some(current)) => {
            if !app.passwords.verify(current, Some(user.password_hash.clone())).await {
                return Err(ApiError::field("currentPassword", "La contraseña actual no es correcta"));
            }
            Some(app.passwords.hash(new_password).await.map_err(ApiError::internal)?)
        }
        _ => None,
    };
    let changing_password = password_hash.is_some();
    let mut tx = app.db.begin().await?;
    let updated = users::update(&mut tx, &user.id, UserChanges { name, img, password_hash, ..Default::default() })
        .await
        .map_err(email_conflict)?
        .ok_or_else(|| ApiError::unauthorized(codes::INVALID_TOKEN, "El usuario del token ya no existe"))?;
    if let Some(phone) = &phone {
        users::set_customer_phone(&mut tx, &user.id, phone.as_deref()).await?;
    }
    if changing_password {
        sessions::end_all(&mut tx, &user.id).await?;
    }
    tx.commit().await?;
    app.access.forget(&user.id);
    Ok(Json(profile_of(&app, updated).await?))
}
