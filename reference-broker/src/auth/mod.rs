//! Authentication and authorization: the password file ([`Passwords`]), topic access rules
//! ([`Acl`]) and SCRAM-SHA-256 ([`scram`], from the neutral `touchstone-sasl` crate the
//! conformance cases also use), the enhanced authentication method (5.0 section 4.12) the broker
//! implements.

mod acl;
mod passwords;
pub use touchstone_sasl::scram;

pub use acl::{filter_covers, Acl, AclRule};
pub use passwords::{PasswordError, Passwords};
pub use touchstone_sasl::scram::ScramKeys;
