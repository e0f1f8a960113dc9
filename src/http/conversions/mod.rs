//! How each service's errors become API errors: one `From` impl per error type, grouped by
//! area, so a handler writes `?` and every entry point answers the same refusal the same way.

mod access;
mod assistant;
pub mod catalog;
mod notifications;
mod orders;
mod payments;
mod people;
mod places;
mod settings;
