//! A fast, non-cryptographic hasher for the broker's internal integer keys (connection and
//! session ids), which no peer chooses, and for the fuzz model's maps.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The Fx hash (as used by rustc): one multiply per word.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    /// A word at a time (client ids and topics are hashed as bytes).
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut a = [0u8; 8];
            a.copy_from_slice(w);
            self.write_u64(u64::from_le_bytes(a));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut a = [0u8; 8];
            a[..rest.len()].copy_from_slice(rest);
            // The length keeps "a" and "a\0" apart.
            self.write_u64(u64::from_le_bytes(a) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(SEED);
    }
}

/// A `HashMap` keyed by internal ids.
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A `HashMap` keyed by strings a peer chooses (client ids, topic names, filters, filter
/// levels): SipHash with a per-process random key, against collision flooding. In fuzzing
/// builds (`--cfg fuzzing`, as cargo-fuzz sets it) the Fx hash instead: no peer is hostile there,
/// the iteration order is the same on every run (a crash replays exactly), and it is several
/// times cheaper (the `broker_core` target's speed).
#[cfg(not(fuzzing))]
pub(crate) type PeerKeyMap<K, V> = HashMap<K, V, std::collections::hash_map::RandomState>;
/// See the other definition: fuzzing builds hash peer-chosen keys with Fx.
#[cfg(fuzzing)]
pub(crate) type PeerKeyMap<K, V> = FxHashMap<K, V>;

/// A `HashSet` of internal ids.
#[cfg_attr(not(feature = "fuzzing"), allow(dead_code))]
pub(crate) type FxHashSet<K> = std::collections::HashSet<K, BuildHasherDefault<FxHasher>>;
