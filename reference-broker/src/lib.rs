//! The Touchstone reference broker.
//!
//! Not built yet: this crate is a placeholder in the workspace so that the dependency direction
//! (`codec` <- `reference-broker` <- `conformance`) is fixed from the start.
