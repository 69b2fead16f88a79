//! Feeds every malformed MQTT 3.1.1 packet of the catalogue to every 3.1.1 peer decoder and prints
//! a Markdown table of who accepts what.
//!
//! Usage: `cargo run -p touchstone-benches --bin strictness [-- --details]`.
//! `--details` adds, per packet, the hex, the rule, and what each peer decoded or answered.

use touchstone_benches::malformed::{Malformed, CATALOGUE};
use touchstone_benches::peers::{self, judge, DecodeOne, Verdict};
use touchstone_benches::streams::Version;

/// One column of the table.
struct Column {
    name: &'static str,
    decode_one: DecodeOne,
}

fn columns() -> Vec<Column> {
    #[allow(unused_mut)]
    let mut columns: Vec<Column> = peers::for_version(Version::V3_1_1)
        .map(|p| Column {
            name: p.name,
            decode_one: p.decode_one.expect("3.1.1 peers decode single packets"),
        })
        .collect();
    columns.push(Column {
        name: "touchstone",
        decode_one: |packet| {
            let mut buf = bytes::BytesMut::from(packet);
            let dec = touchstone_codec::Decoder::new(touchstone_codec::Protocol::V3_1_1);
            match dec.decode(&mut buf) {
                Ok(Some(p)) => Ok(Some(format!("{p:?}"))),
                Ok(None) => Ok(None),
                Err(e) => Err(format!("{e}")),
            }
        },
    });
    columns
}

fn main() {
    let details = std::env::args().any(|a| a == "--details");
    let columns = columns();

    // Peers that panic are reported as "panics"; keep their panic messages off the terminal.
    std::panic::set_hook(Box::new(|_| {}));
    let verdicts: Vec<Vec<Verdict>> = CATALOGUE
        .iter()
        .map(|m| {
            let bytes = m.bytes();
            columns
                .iter()
                .map(|c| judge(c.decode_one, &bytes))
                .collect()
        })
        .collect();
    let _ = std::panic::take_hook();

    println!(
        "## Strictness of MQTT 3.1.1 decoders on {} malformed packets\n",
        CATALOGUE.len()
    );
    print!("| # | packet | statements |");
    for c in &columns {
        print!(" {} |", c.name);
    }
    println!();
    print!("|---|---|---|");
    for _ in &columns {
        print!("---|");
    }
    println!();
    for (i, (m, row)) in CATALOGUE.iter().zip(&verdicts).enumerate() {
        print!("| {} | `{}` | {} |", i + 1, m.name, m.statement_list());
        for v in row {
            print!(" {} |", v.word());
        }
        println!();
    }
    print!("| | **accepted** | |");
    for col in 0..columns.len() {
        let accepted = verdicts.iter().filter(|row| row[col].accepted()).count();
        print!(" **{accepted} of {}** |", CATALOGUE.len());
    }
    println!();
    println!();
    for (col, c) in columns.iter().enumerate() {
        let panics: Vec<&str> = CATALOGUE
            .iter()
            .zip(&verdicts)
            .filter(|(_, row)| matches!(row[col], Verdict::Panics(_)))
            .map(|(m, _)| m.name)
            .collect();
        if !panics.is_empty() {
            println!("- {} panics on: `{}`.", c.name, panics.join("`, `"));
        }
    }
    // A decoder that asks for more bytes although the whole packet is there would read the next
    // packet's bytes as part of this one: show what it does when a PINGREQ follows.
    for (m, row) in CATALOGUE.iter().zip(&verdicts) {
        for (c, v) in columns.iter().zip(row) {
            if *v == Verdict::Incomplete {
                let mut bytes = m.bytes();
                bytes.extend_from_slice(&[0xC0, 0x00]);
                std::panic::set_hook(Box::new(|_| {}));
                let then = judge(c.decode_one, &bytes);
                let _ = std::panic::take_hook();
                println!(
                    "- {} asks for more bytes on `{}` although the whole packet is there; \
                     followed by a PINGREQ (`C0 00`) it {}: `{}`.",
                    c.name,
                    m.name,
                    then.word(),
                    printable(&detail(&then))
                );
            }
        }
    }

    if details {
        println!("\n## Details\n");
        for (m, row) in CATALOGUE.iter().zip(&verdicts) {
            print_details(m, &columns, row);
        }
    }
}

fn print_details(m: &Malformed, columns: &[Column], row: &[Verdict]) {
    println!("### `{}`\n", m.name);
    println!("- bytes: `{}`", m.hex);
    println!("- valid twin: `{}`", m.valid);
    println!("- rule: {}", m.rule);
    if !m.statements.is_empty() {
        println!("- statements: {}", m.statement_list());
    }
    for (c, v) in columns.iter().zip(row) {
        println!("- {}: {}: `{}`", c.name, v.word(), printable(&detail(v)));
    }
    println!();
}

/// What the decoder returned, decoded or panicked with.
fn detail(v: &Verdict) -> String {
    match v {
        Verdict::Accepts(s) | Verdict::Rejects(s) | Verdict::Panics(s) => s.clone(),
        Verdict::Incomplete => "Ok(None)".to_owned(),
    }
}

/// Escapes control characters (some peers' `Debug` prints topic bytes raw) and backticks.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '`' => "'".to_owned(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}
