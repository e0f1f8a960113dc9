//! Payment and refund errors as API errors.
