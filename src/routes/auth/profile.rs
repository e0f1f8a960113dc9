//! `GET /api/auth` (seed 001) and `GET`/`PUT /api/auth/profile` (seed 004).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{UserEnvelope, UserView};
use crate::app::AppState;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::validate::Validator;
use crate::services::identity::accounts::{self, PasswordChange, Profile, ProfileChanges};
use crate::services::identity::caller::Caller;

/// The user the access token belongs to.
#[utoipa::path(get, path = "/api/auth", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The current user", body = UserEnvelope),
    ))]
pub async fn me(State(app): State<AppState>, auth: Caller) -> ApiResult<Json<UserEnvelope>> {
    Ok(Json(UserEnvelope { user: accounts::me(&app.db, &auth).await?.into() }))
}

/// The current user with their customer profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileResponse {
    pub user: UserView,
    /// Phone of the customer profile, when set.
    pub phone: Option<String>,
}

impl From<Profile> for ProfileResponse {
    fn from(profile: Profile) -> ProfileResponse {
        ProfileResponse { user: profile.user.into(), phone: profile.phone }
    }
}

/// The current user's profile.
#[utoipa::path(get, path = "/api/auth/profile", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The profile", body = ProfileResponse),
    ))]
pub async fn get_profile(State(app): State<AppState>, auth: Caller) -> ApiResult<Json<ProfileResponse>> {
    Ok(Json(accounts::profile(&app.db, &auth).await?.into()))
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
    let mut v = Validator::new();
    let name = v.optional_text("name", body.name.as_deref(), 2, 100);
    let img = body.img.map(|img| v.optional_text("img", img.as_deref(), 1, 2048));
    let phone = body.phone.map(|phone| v.optional_text("phone", phone.as_deref(), 6, 30));
    let new_password = body.new_password.as_deref().map(|p| v.password("newPassword", Some(p)));
    if new_password.is_some() && body.current_password.is_none() {
        v.add("currentPassword", "Es obligatorio para cambiar la contraseña");
    }
    v.finish()?;
    let password = match (new_password, body.current_password) {
        (Some(new), Some(current)) => Some(PasswordChange { current, new }),
        _ => None,
    };
    let changes = ProfileChanges { name, img, phone, password };
    Ok(Json(accounts::update_profile(&app, &auth, changes).await?.into()))
}
