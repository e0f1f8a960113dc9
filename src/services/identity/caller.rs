//! Who asks a use case to act. Handlers, and later MCP tools and chat channels, establish the
//! caller; services decide from it what the caller may do.

use feria_domain::access::{Scope, StoreRole};
use feria_domain::roles::Role;

/// A signed-in user with their current platform roles and store memberships, or a store's API
/// key (then `id` is the key's id and `key` says what it may do).
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: String,
    pub roles: Vec<String>,
    pub memberships: Vec<Membership>,
    pub key: Option<KeyGrant>,
}

/// A user's role in one store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub store_id: String,
    pub role: StoreRole,
}

/// What an API key may do: its scopes, in its store only.
#[derive(Debug, Clone)]
pub struct KeyGrant {
    pub store_id: String,
    pub scopes: Vec<Scope>,
}

/// A user's current access: token version, platform roles, store memberships.
#[derive(Debug, Clone)]
pub struct UserAccess {
    pub version: i64,
    pub roles: Vec<String>,
    pub memberships: Vec<Membership>,
}

impl Caller {
    /// A signed-in user acting with `access`.
    pub fn user(id: String, access: UserAccess) -> Caller {
        Caller { id, roles: access.roles, memberships: access.memberships, key: None }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|r| r == role.as_str())
    }

    /// The platform admin (`ADMIN_ROLE`): every store, every scope.
    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }

    /// The signed-in user's id; `None` for an API key.
    pub fn user_id(&self) -> Option<&str> {
        self.key.is_none().then_some(self.id.as_str())
    }

    /// The caller's role in the store, if a member.
    pub fn role_in(&self, store_id: &str) -> Option<StoreRole> {
        self.memberships.iter().find(|m| m.store_id == store_id).map(|m| m.role)
    }

    /// Whether the caller may do `scope` in the store: the platform admin anywhere, a member as
    /// their role allows, an API key in its own store within its scopes.
    pub fn may(&self, store_id: &str, scope: Scope) -> bool {
        match &self.key {
            Some(key) => key.store_id == store_id && key.scopes.contains(&scope),
            None => self.is_admin() || self.role_in(store_id).is_some_and(|role| role.allows(scope)),
        }
    }
}
