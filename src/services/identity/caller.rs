//! Who asks a use case to act. Handlers, and later MCP tools and chat channels, establish the
//! caller; services decide from it what the caller may do.

use feria_domain::roles::Role;

/// A signed-in user with their current roles.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: String,
    pub roles: Vec<String>,
}

impl Caller {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|r| r == role.as_str())
    }

    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }
}
