//! Authentication mechanisms that both sides of MQTT 5.0 enhanced authentication (5.0 section
//! 4.12) need, in one neutral crate: the reference broker uses the server side, and the
//! conformance cases use the client side, so that the tester does not run the tested system's
//! code. Today: SCRAM-SHA-256 ([`scram`]), checked against the test vector of RFC 7677.

pub mod scram;
