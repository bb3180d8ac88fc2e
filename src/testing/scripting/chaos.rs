//! Seeded chance: a rule that fires on some of its matches, chosen by a
//! seeded random source, so that two runs with the same seed (and the same
//! order of commands) fail the same ones. Service mode's chaos routes
//! (Mailpit's `PUT /api/v1/chaos`) are built on it.
//!
//! The source is counter-based: the n-th draw of a chance is a hash of
//! (seed, stream, n) (SplitMix64's finaliser), not a step of a shared
//! generator. A draw therefore depends only on how many draws that chance
//! made before, never on what other rules or connections drew.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Fires `percent` % of the time, reproducibly for a given seed.
#[derive(Debug)]
pub(crate) struct SeededChance {
    /// The seed mixed with the stream, so that two chances made from one
    /// seed (the sender's and the recipient's) draw independently.
    key: u64,
    seed: u64,
    percent: u8,
    draws: AtomicU64,
}

impl SeededChance {
    /// A chance of `percent` (at most 100) % drawn from `seed`; `stream`
    /// names what it decides, so that chances made from one seed differ.
    pub(crate) fn new(seed: u64, stream: &str, percent: u8) -> SeededChance {
        let stream_hash = stream.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        SeededChance {
            key: mix(seed ^ mix(stream_hash)),
            seed,
            percent: percent.min(100),
            draws: AtomicU64::new(0),
        }
    }

    /// The next draw: whether the rule fires this time.
    pub(crate) fn fires(&self) -> bool {
        let n = self.draws.fetch_add(1, Ordering::SeqCst);
        // 0..=99, as Mailpit's rand.Int(100) < probability.
        mix(self.key.wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15))) % 100 < u64::from(self.percent)
    }
}

impl fmt::Display for SeededChance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}% of the time (seed {})", self.percent, self.seed)
    }
}

/// SplitMix64's finaliser: a bijection of u64 that scatters every input
/// bit over the output.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::SeededChance;

    fn draws(seed: u64, stream: &str, percent: u8, count: usize) -> Vec<bool> {
        let chance = SeededChance::new(seed, stream, percent);
        (0..count).map(|_| chance.fires()).collect()
    }

    #[test]
    fn the_same_seed_fires_on_the_same_draws() {
        assert_eq!(draws(42, "sender", 30, 200), draws(42, "sender", 30, 200));
        assert_ne!(draws(42, "sender", 30, 200), draws(43, "sender", 30, 200));
        assert_ne!(draws(42, "sender", 30, 200), draws(42, "recipient", 30, 200));
    }

    #[test]
    fn the_rate_is_near_the_percentage() {
        assert!(draws(7, "x", 0, 1000).iter().all(|fired| !fired));
        assert!(draws(7, "x", 100, 1000).iter().all(|fired| *fired));
        let fired = draws(7, "x", 25, 10_000).iter().filter(|f| **f).count();
        // 25 % of 10 000 draws; a fair source lands within +-2 % (4.6 sigma).
        assert!((2_300..=2_700).contains(&fired), "{fired}");
    }
}
