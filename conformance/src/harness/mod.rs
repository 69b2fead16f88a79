//! What a case is written with: the scripted [`client`] and its [`expect`] patterns, the
//! [`transcript`] of every packet (secrets masked by [`redact`]), the [`case`] model and the
//! [`context`] a case body scripts with, the [`capability`] a case may require, and the
//! [`steps`] several cases share.

pub mod capability;
pub mod case;
pub mod client;
pub mod context;
pub mod expect;
pub mod redact;
pub mod steps;
pub mod summary;
pub mod test;
pub mod transcript;
pub mod verdict;
