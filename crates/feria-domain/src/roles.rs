//! User roles, named as seed 001 names them.

use serde::{Deserialize, Serialize};

/// A role a user holds. Serialised with the seed's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    #[serde(rename = "ADMIN_ROLE")]
    Admin,
    #[serde(rename = "USER_ROLE")]
    User,
}

impl Role {
    /// The seed's name of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN_ROLE",
            Role::User => "USER_ROLE",
        }
    }

    /// Parses a seed role name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "ADMIN_ROLE" => Some(Role::Admin),
            "USER_ROLE" => Some(Role::User),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for role in [Role::Admin, Role::User] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("ROOT"), None);
    }
}
