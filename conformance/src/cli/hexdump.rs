//! Hex dumps as protocol tools print them: `xxd` (`00000000: 1029 0004  .)..`), `hexdump -C`
//! and `od`-style dumps (`00000000  10 29 00 04 ...  |.)..|`, with `*` for repeated lines and
//! a last line holding only the length), and Wireshark's "Copy as Hex Dump" (`0000   10 29 ...
//! .)..`). Each line starts with the offset of its first byte; the bytes follow; an ASCII
//! column may end the line.
//!
//! A text is read as a dump only when its first line starts with offset zero followed by `:`
//! or two spaces (plain hex never does: no MQTT stream starts with two zero bytes), and then
//! every line must be a dump line whose offset continues the bytes so far; otherwise it is an
//! error that says which line and why, never a silent misreading.

/// Reads `text` as a hex dump: `None` if it is not one (plain hex), else its bytes or why the
/// dump cannot be read.
pub fn read(text: &str) -> Option<Result<Vec<u8>, String>> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let first = lines.first()?;
    match offset_of(first) {
        Some((0, _)) => Some(read_lines(&lines)),
        _ => None,
    }
}

/// The offset at the start of a dump line and where the rest of the line begins.
fn offset_of(line: &str) -> Option<(usize, usize)> {
    let start = line.len() - line.trim_start().len();
    let digits = line[start..]
        .bytes()
        .take_while(u8::is_ascii_hexdigit)
        .count();
    if !(4..=16).contains(&digits) {
        return None;
    }
    let after = start + digits;
    let rest = &line[after..];
    let sep = if rest.starts_with(':') {
        1
    } else if rest.starts_with("  ") || rest.starts_with('\t') {
        0
    } else if rest.is_empty() {
        // A last line with only the length (hexdump -C, od).
        0
    } else {
        return None;
    };
    let offset = usize::from_str_radix(&line[start..after], 16).ok()?;
    Some((offset, after + sep))
}

/// The hex byte tokens at the start of `area` (tokens of an even number of hex digits,
/// separated by single spaces), up to `limit` bytes; stops at anything else (two spaces, `|`,
/// the ASCII column).
fn bytes_of(area: &str, limit: Option<usize>) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let area = area.trim_start();
    // The ASCII column follows the hex after a run of at least two spaces, or a `|`.
    let mut hex_part = area;
    if let Some(bar) = hex_part.find('|') {
        hex_part = &hex_part[..bar];
    }
    for (i, token) in hex_part.split(' ').enumerate() {
        if token.is_empty() {
            // Two spaces in a row: the ASCII column may follow, or (hexdump -C) the second
            // half of the bytes. With a known count, go on while bytes are missing.
            match limit {
                Some(n) if out.len() < n => continue,
                _ => break,
            }
        }
        if limit.is_some_and(|n| out.len() >= n) {
            break;
        }
        let token = token.trim();
        if token.len() % 2 != 0 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            if i == 0 {
                return Err(format!("`{token}` is not hex bytes"));
            }
            break;
        }
        for pair in token.as_bytes().chunks(2) {
            let s = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
            out.push(u8::from_str_radix(s, 16).map_err(|e| e.to_string())?);
        }
    }
    if let Some(n) = limit {
        if out.len() < n {
            return Err(format!(
                "{} bytes where the next offset says {n}",
                out.len()
            ));
        }
        out.truncate(n);
    }
    Ok(out)
}

fn read_lines(lines: &[&str]) -> Result<Vec<u8>, String> {
    let mut out: Vec<u8> = Vec::new();
    let mut previous: Vec<u8> = Vec::new();
    let mut repeat = false;
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        if line.trim() == "*" {
            repeat = true;
            continue;
        }
        let Some((offset, rest)) = offset_of(line) else {
            return Err(format!(
                "line {n} does not start with an offset like the lines before it: {:?}",
                line.trim()
            ));
        };
        if repeat {
            // `*`: the previous line repeats up to this offset.
            if previous.is_empty()
                || offset < out.len()
                || (offset - out.len()) % previous.len() != 0
            {
                return Err(format!(
                    "line {n}: offset {offset:#x} does not continue the repeated line before it"
                ));
            }
            while out.len() < offset {
                out.extend_from_slice(&previous);
            }
            repeat = false;
        }
        if offset != out.len() {
            return Err(format!(
                "line {n}: offset {offset:#x}, but the lines before it hold {:#x} bytes",
                out.len()
            ));
        }
        // How many bytes this line holds: up to the next line's offset, when there is one.
        let next = lines[i + 1..]
            .iter()
            .find(|l| l.trim() != "*")
            .and_then(|l| offset_of(l))
            .map(|(o, _)| o);
        let repeated = lines.get(i + 1).is_some_and(|l| l.trim() == "*");
        let limit = match next {
            Some(o) if !repeated => Some(
                o.checked_sub(offset)
                    .ok_or_else(|| format!("line {}: the offset goes backwards", n + 1))?,
            ),
            _ => None,
        };
        let bytes = bytes_of(&line[rest..], limit).map_err(|e| format!("line {n}: {e}"))?;
        out.extend_from_slice(&bytes);
        previous = bytes;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONNECT: &[u8] = &[
        0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00, 0xc0,
        0x00, 0xd0, 0x00,
    ];

    #[test]
    fn xxd() {
        let dump = "00000000: 100c 0004 4d51 5454 0402 003c 0000 c000  ....MQTT...<....\n\
                    00000010: d000                                     ..\n";
        assert_eq!(read(dump), Some(Ok(CONNECT.to_vec())));
    }

    #[test]
    fn hexdump_c_with_a_repeat_and_the_length_line() {
        let dump =
            "00000000  10 0c 00 04 4d 51 54 54  04 02 00 3c 00 00 c0 00  |....MQTT...<....|\n\
                    00000010  d0 00                                             |..|\n\
                    00000012\n";
        assert_eq!(read(dump), Some(Ok(CONNECT.to_vec())));
        let zeros =
            "00000000  c0 00 c0 00 c0 00 c0 00  c0 00 c0 00 c0 00 c0 00  |................|\n\
                     *\n\
                     00000030  d0 00                                             |..|\n\
                     00000032\n";
        let b = read(zeros).unwrap().unwrap();
        assert_eq!(b.len(), 0x32);
        assert_eq!(&b[0x2e..], &[0xc0, 0x00, 0xd0, 0x00]);
    }

    #[test]
    fn wireshark_copy_as_hex_dump() {
        let dump = "0000   10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00 c0 00   ....MQTT...<....\n\
                    0010   d0 00                                             ..\n";
        assert_eq!(read(dump), Some(Ok(CONNECT.to_vec())));
    }

    #[test]
    fn ascii_that_looks_like_hex_is_not_read_as_bytes() {
        // One line, xxd: the ASCII column "abcd" follows two spaces.
        assert_eq!(
            read("00000000: 6162 6364  abcd\n"),
            Some(Ok(vec![0x61, 0x62, 0x63, 0x64]))
        );
    }

    #[test]
    fn plain_hex_is_not_a_dump() {
        assert_eq!(read("100c 0004 4d51"), None);
        assert_eq!(read("c000\nd000"), None);
        assert_eq!(read("  \n"), None);
    }

    #[test]
    fn broken_dumps_say_where() {
        let e = read("00000000  c0 00 d0 00\n00000010  c0 00\n")
            .unwrap()
            .unwrap_err();
        assert!(
            e.contains("line 1: 4 bytes where the next offset says 16"),
            "{e}"
        );
        let e = read("00000000: c000\nc000 d000\n").unwrap().unwrap_err();
        assert!(e.contains("line 2 does not start with an offset"), "{e}");
    }
}
