//! Deterministic noise: the same (pod uid, instant, purpose) always gives the same number, so logs, usage and
//! metrics can be asked for twice and answer the same, without storing anything.

/// A 64-bit hash of the parts (FNV-1a over each part with a separator, then a splitmix64 finaliser).
pub(crate) fn hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// splitmix64's finaliser: spreads every input bit over the output.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A reproducible stream of pseudo-random numbers, seeded from a hash.
pub(crate) struct Noise {
    state: u64,
}

impl Noise {
    /// A stream seeded by `seed` (usually from [`hash`]).
    pub(crate) fn new(seed: u64) -> Self {
        Noise { state: seed }
    }

    /// A stream seeded by pod uid, a time bucket (second, minute, …) and a purpose tag.
    pub(crate) fn at(uid: &str, bucket: i64, purpose: &str) -> Self {
        Noise::new(hash(&[
            uid.as_bytes(),
            &bucket.to_le_bytes(),
            purpose.as_bytes(),
        ]))
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.state)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in [lo, hi] (hi >= lo).
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next_u64() % items.len() as u64) as usize]
    }

    /// A multiplicative jitter factor in [1 - spread, 1 + spread].
    pub(crate) fn jitter(&mut self, spread: f64) -> f64 {
        1.0 + spread * (2.0 * self.unit() - 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut n = Noise::at("uid-1", 42, "log");
                move |_| n.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..5)
            .map({
                let mut n = Noise::at("uid-1", 42, "log");
                move |_| n.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(Noise::at("uid-1", 43, "log").next_u64(), a[0]);
    }

    #[test]
    fn unit_and_range_stay_in_bounds() {
        let mut n = Noise::new(7);
        for _ in 0..1000 {
            let u = n.unit();
            assert!((0.0..1.0).contains(&u));
            let r = n.range(3, 5);
            assert!((3..=5).contains(&r));
        }
    }
}
