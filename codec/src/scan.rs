//! One pass over a string field, eight bytes at a time: is it plain ASCII without U+0000 (then
//! it is valid UTF-8 and needs no further check), and does it hold a wildcard (`+` or `#`)?

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of the result is set where `w`'s byte is zero (exact for "any").
#[inline(always)]
const fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(LOW) & !w & HIGH
}

/// True if `b` holds only bytes 0x01..=0x7F (then it is UTF-8 without U+0000).
#[inline]
pub(crate) fn plain(b: &[u8]) -> bool {
    let mut odd = 0u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        odd |= (w & HIGH) | zero_bytes(w);
    }
    let w = tail(b);
    odd |= (w & HIGH) | zero_bytes(w);
    odd == 0
}

/// The last `b.len() % 8` bytes of `b` as a word, padded with 0x01 (a plain byte that is not a
/// wildcard). When `b` has at least 8 bytes, this is its last 8 bytes (overlapping bytes already
/// seen, which changes no "any" answer); otherwise the short input itself.
#[inline(always)]
fn tail(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 8 {
        let c = &b[n - 8..];
        return u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
    }
    let mut t = [1u8; 8];
    for (d, &c) in t.iter_mut().zip(b) {
        *d = c;
    }
    u64::from_le_bytes(t)
}

/// The high bit of each byte of the result is set where `w`'s byte is `+` (0x2B) or `#` (0x23)
/// (exact for "any"): the two differ only in bit 3, so setting it maps both, and only them, to
/// 0x2B.
#[inline(always)]
const fn wildcards(w: u64) -> u64 {
    zero_bytes((w | (LOW * 0x08)) ^ (LOW * b'+' as u64))
}

/// What [`scan`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Only bytes 0x01..=0x7F.
    pub(crate) plain: bool,
    /// A `+` or `#` somewhere.
    pub(crate) wildcard: bool,
}

/// True if `b` is plain (see [`plain`]) and free of wildcards: a valid Topic Name as far as its
/// bytes go, the usual case. A branch-free fold over the bytes, which the compiler vectorizes
/// (fewer instructions than [`scan`] on a 32-byte topic).
#[inline(always)]
pub(crate) fn plain_name(b: &[u8]) -> bool {
    b.iter().fold(true, |acc, &c| {
        acc & (c.wrapping_sub(1) < 0x7F) & (c != b'+') & (c != b'#')
    })
}

/// Classifies `b` in one pass.
#[inline(always)]
pub(crate) fn scan(b: &[u8]) -> Scan {
    let mut odd = 0u64;
    let mut wild = 0u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        odd |= (w & HIGH) | zero_bytes(w);
        wild |= wildcards(w);
    }
    let w = tail(b);
    odd |= (w & HIGH) | zero_bytes(w);
    wild |= wildcards(w);
    Scan {
        plain: odd == 0,
        wildcard: wild != 0,
    }
}

/// True if some wildcard in `b` is not a whole level, or something follows `#`: a wildcard
/// needs `/` (or an end) on both sides, and `#` must be last.
#[inline]
pub(crate) fn misplaced_wildcard(b: &[u8]) -> bool {
    // Over every pair of neighbours: a wildcard after something other than `/`, a wildcard
    // before something other than `/`, or anything after `#`. Branch-free over two slices, so
    // the compiler vectorizes it. `+` (0x2B) and `#` (0x23) differ only in bit 3.
    let wild = |c: u8| (c | 0x08) == b'+';
    let (Some(first), Some(rest)) = (b.get(..b.len().saturating_sub(1)), b.get(1..)) else {
        return false;
    };
    first.iter().zip(rest).fold(false, |bad, (&x, &y)| {
        bad | (wild(y) & (x != b'/')) | (wild(x) & (y != b'/')) | (x == b'#')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(b: &[u8]) -> Scan {
        Scan {
            plain: b.iter().all(|&c| (1..=0x7F).contains(&c)),
            wildcard: b.iter().any(|&c| c == b'+' || c == b'#'),
        }
    }

    #[test]
    fn misplaced_wildcards_agree_with_the_level_rules() {
        for f in [
            "a/+/b",
            "+",
            "#",
            "a/#",
            "+/+/#",
            "/+",
            "+/",
            "//",
            "ab",
            "a/b/c/d/e/f/g/h/i/j/k/l/+/#",
        ] {
            assert!(!misplaced_wildcard(f.as_bytes()), "{f}");
        }
        for f in [
            "a+",
            "+a",
            "a#",
            "#/a",
            "##",
            "a/b/c/d/e/f/g/h/i/j/k/l/m+/x",
            "x/#/",
        ] {
            assert!(misplaced_wildcard(f.as_bytes()), "{f}");
        }
    }

    /// The level rules over neighbouring pairs, as the specification states them.
    fn naive_misplaced(b: &[u8]) -> bool {
        let wild = |c: u8| c == b'+' || c == b'#';
        b.windows(2).any(|p| {
            let (x, y) = (p[0], p[1]);
            (wild(y) && x != b'/') || (wild(x) && y != b'/') || x == b'#'
        })
    }

    #[test]
    fn misplaced_wildcards_agree_with_the_naive_rule_on_every_short_filter() {
        // Every string of up to 6 symbols over a small alphabet, at a few offsets so that the
        // words split them differently.
        let alphabet = [b'a', b'/', b'+', b'#', 0x2B ^ 0x80, 0x2A];
        let mut cases: Vec<Vec<u8>> = vec![vec![]];
        let mut last = cases.clone();
        for _ in 0..6 {
            last = last
                .iter()
                .flat_map(|p| {
                    alphabet.iter().map(move |&a| {
                        let mut v = p.clone();
                        v.push(a);
                        v
                    })
                })
                .collect();
            cases.extend(last.iter().cloned());
        }
        for case in &cases {
            for pad in [0usize, 3, 7] {
                let mut b = b"x/".repeat(pad);
                b.truncate(pad);
                b.extend_from_slice(case);
                assert_eq!(misplaced_wildcard(&b), naive_misplaced(&b), "{b:?}");
            }
        }
    }

    #[test]
    fn agrees_with_the_naive_scan() {
        let alphabet = [
            0u8, 1, b'+', b'#', b'/', b'a', 0x7F, 0x80, 0xFF, b'*', b'"', 0x2A, 0x2C, 0x22, 0x24,
        ];
        // Every string of up to 3 symbols, at every offset of a 19-byte window.
        let mut cases = vec![vec![]];
        for len in 1..=3 {
            let mut next = Vec::new();
            for prefix in cases.iter().filter(|c| c.len() == len - 1) {
                for &a in &alphabet {
                    let mut v = prefix.clone();
                    v.push(a);
                    next.push(v);
                }
            }
            cases.extend(next);
        }
        for case in &cases {
            for pad in 0..16 {
                let mut b = vec![b'x'; pad];
                b.extend_from_slice(case);
                b.extend(std::iter::repeat_n(b'y', 19 - b.len().min(19)));
                assert_eq!(scan(&b), naive(&b), "{b:?}");
                assert_eq!(plain(&b), naive(&b).plain, "{b:?}");
                assert_eq!(
                    plain_name(&b),
                    naive(&b).plain && !naive(&b).wildcard,
                    "{b:?}"
                );
                assert_eq!(plain(case), naive(case).plain, "{case:?}");
            }
        }
    }
}
