//! Running the catalogue: the [`preflight`] check of a target, [`discovery`], [`profile`]s, the
//! [`plan`] of a run, the [`runner`] that executes it and the [`outcome`] of each case, and the [`embedded`] reference broker as the default target.

pub mod discovery;
pub mod embedded;
pub mod outcome;
pub mod plan;
pub mod preflight;
pub mod profile;
pub mod runner;
