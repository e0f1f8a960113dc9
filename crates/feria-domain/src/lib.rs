//! Pure feria types and rules. Nothing here touches the network, the disk or a clock
//! other than through the functions named for it.

pub mod access;
pub mod coupon;
pub mod currency;
pub mod decimal;
pub mod ids;
pub mod money;
pub mod notify;
pub mod pricing;
pub mod roles;
pub mod time;
