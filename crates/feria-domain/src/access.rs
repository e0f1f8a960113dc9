//! What a store's members and API keys may do. A member's role grants a fixed set of scopes; an
//! API key carries the scopes it was created with. The platform admin (`ADMIN_ROLE`) may do
//! everything in every store.

/// One thing that can be done in a store: a resource and an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    CatalogRead,
    CatalogWrite,
    /// Setting prices: products' prices (creating a product sets one), coupons, bulk imports.
    PricesWrite,
    OrdersRead,
    OrdersWrite,
    PaymentsRead,
    PaymentsRefund,
    CustomersRead,
    CustomersWrite,
    /// Order workflow, payment methods, cities and neighborhoods.
    SettingsWrite,
    AuditRead,
    MembersManage,
    KeysManage,
}

impl Scope {
    pub const ALL: [Scope; 13] = [
        Scope::CatalogRead,
        Scope::CatalogWrite,
        Scope::PricesWrite,
        Scope::OrdersRead,
        Scope::OrdersWrite,
        Scope::PaymentsRead,
        Scope::PaymentsRefund,
        Scope::CustomersRead,
        Scope::CustomersWrite,
        Scope::SettingsWrite,
        Scope::AuditRead,
        Scope::MembersManage,
        Scope::KeysManage,
    ];

    /// The scope's name, `resource:action`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::CatalogRead => "catalog:read",
            Scope::CatalogWrite => "catalog:write",
            Scope::PricesWrite => "prices:write",
            Scope::OrdersRead => "orders:read",
            Scope::OrdersWrite => "orders:write",
            Scope::PaymentsRead => "payments:read",
            Scope::PaymentsRefund => "payments:refund",
            Scope::CustomersRead => "customers:read",
            Scope::CustomersWrite => "customers:write",
            Scope::SettingsWrite => "settings:write",
            Scope::AuditRead => "audit:read",
            Scope::MembersManage => "members:manage",
            Scope::KeysManage => "keys:manage",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    /// Whether an API key may carry it: keys never manage members or keys.
    pub fn grantable_to_keys(self) -> bool {
        !matches!(self, Scope::MembersManage | Scope::KeysManage)
    }
}

/// A member's role in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreRole {
    /// Everything, members and keys included.
    Owner,
    /// Everything but members and keys.
    Manager,
    /// Day-to-day work: no prices, refunds, audit log, members or keys.
    Staff,
}

impl StoreRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreRole::Owner => "owner",
            StoreRole::Manager => "manager",
            StoreRole::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<StoreRole> {
        [StoreRole::Owner, StoreRole::Manager, StoreRole::Staff].into_iter().find(|role| role.as_str() == s)
    }

    pub fn allows(self, scope: Scope) -> bool {
        match self {
            StoreRole::Owner => true,
            StoreRole::Manager => !matches!(scope, Scope::MembersManage | Scope::KeysManage),
            StoreRole::Staff => {
                !matches!(scope, Scope::PricesWrite | Scope::PaymentsRefund | Scope::AuditRead | Scope::MembersManage | Scope::KeysManage)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("catalog:delete"), None);
        assert_eq!(StoreRole::parse("manager"), Some(StoreRole::Manager));
        assert_eq!(StoreRole::parse("admin"), None);
    }

    #[test]
    fn roles_grant_what_the_issue_says() {
        let denied = |role: StoreRole| Scope::ALL.into_iter().filter(|s| !role.allows(*s)).collect::<Vec<_>>();
        assert!(denied(StoreRole::Owner).is_empty());
        assert_eq!(denied(StoreRole::Manager), [Scope::MembersManage, Scope::KeysManage]);
        assert_eq!(
            denied(StoreRole::Staff),
            [Scope::PricesWrite, Scope::PaymentsRefund, Scope::AuditRead, Scope::MembersManage, Scope::KeysManage]
        );
    }
}
