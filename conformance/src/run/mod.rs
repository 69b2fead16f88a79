//! Running the catalogue: the [`preflight`] check of a target, [`profile`]s, the [`runner`]
//! and the [`outcome`] of each case, and the [`embedded`] reference broker as the default target.

pub mod discovery;
pub mod embedded;
pub mod outcome;
pub mod preflight;
pub mod profile;
pub mod runner;
