//! Order errors as API errors.
