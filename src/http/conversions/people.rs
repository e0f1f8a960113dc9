//! Customer, user and session errors as API errors.
