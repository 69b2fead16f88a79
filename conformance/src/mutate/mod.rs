//! Mutation testing of the catalogue: how hard its verdicts check the rules they cite.
//!
//! A mutation proxy ([`proxy`]) stands in front of the reference broker and breaks one thing
//! on the wire: one operator ([`mutant::Operator`]: drop, duplicate, delay, reorder, flip a
//! flag, change a packet id, QoS, topic level, payload, reason code or property, inject a
//! DISCONNECT or PINGRESP) applied to one packet type going one way. Each such mutant is a
//! broker (or a network) that is wrong in one way; the catalogue should notice. [`score`] runs
//! the cases that meet each mutant and reports it killed, survived or argued equivalent
//! (`mutation/equivalent.toml`, [`equivalent`]). `touchstone mutate` is the command.

pub mod edit;
pub mod equivalent;
pub mod mutant;
pub mod proxy;
pub mod score;
