//! The SCRAM-SHA-256 exchange of RFC 7677 section 3, byte for byte, from both sides: user
//! `user`, password `pencil`, client nonce `rOprNGfwEbeRWgbNEkqO`, the server's nonce part,
//! salt and iteration count as the RFC gives them.

use touchstone_sasl::scram::{ScramClient, ScramKeys, ScramServer};

const CLIENT_FIRST: &str = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
const SERVER_FIRST: &str =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
const SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

/// The salt `W22ZaJ0SNY7soEsUEjb6gQ==`, decoded.
const SALT: [u8; 16] = [
    0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e, 0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81,
];

#[test]
fn client_side_matches_rfc_7677() {
    let mut client = ScramClient::new("user", "pencil", "rOprNGfwEbeRWgbNEkqO");
    assert_eq!(client.client_first(), CLIENT_FIRST.as_bytes());
    let last = client.client_final(SERVER_FIRST.as_bytes()).unwrap();
    assert_eq!(String::from_utf8(last).unwrap(), CLIENT_FINAL);
    assert!(client.verify_server(SERVER_FINAL.as_bytes()));
    assert!(!client.verify_server(b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
}

#[test]
fn server_side_matches_rfc_7677() {
    let keys = ScramKeys::derive(b"pencil", &SALT, 4096);
    let lookup = |u: &str| (u == "user").then(|| keys.clone());
    let (server, first) =
        ScramServer::start(CLIENT_FIRST.as_bytes(), lookup, SERVER_NONCE).unwrap();
    assert_eq!(String::from_utf8(first).unwrap(), SERVER_FIRST);
    let (user, last) = server.finish(CLIENT_FINAL.as_bytes()).unwrap();
    assert_eq!(user, "user");
    assert_eq!(String::from_utf8(last).unwrap(), SERVER_FINAL);
}

#[test]
fn server_refuses_the_rfc_exchange_with_one_proof_bit_flipped() {
    let keys = ScramKeys::derive(b"pencil", &SALT, 4096);
    let (server, _) = ScramServer::start(
        CLIENT_FIRST.as_bytes(),
        |_: &str| Some(keys.clone()),
        SERVER_NONCE,
    )
    .unwrap();
    // `...AndVQ=` -> `...AndVR=`: the last proof byte differs.
    let forged = CLIENT_FINAL.replace("AndVQ=", "AndVR=");
    assert!(server.finish(forged.as_bytes()).is_err());
}
