//! Identity: users and their accounts, passwords, access tokens, sessions and password resets.

pub mod access;
pub mod accounts;
pub mod api_keys;
pub mod caller;
pub mod password_reset;
pub mod passwords;
pub mod provisioning;
pub mod sessions;
pub mod tokens;
pub mod users;
