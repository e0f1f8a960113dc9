//! Identity: users, passwords, access tokens, refresh sessions and password resets.

pub mod access;
pub mod caller;
pub mod password_reset;
pub mod passwords;
pub mod provisioning;
pub mod sessions;
pub mod tokens;
pub mod users;
