//! City, neighborhood and address errors as API errors.
