//! Seeding and sampling. Every random stream is derived from the user's seed
//! and the names of what it is for (file, chunk, column) with a hash fixed
//! here, so the same arguments give the same bytes on every machine and
//! whatever the number of threads.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// The generator behind every random stream.
pub type Stream = Pcg64Mcg;

/// SplitMix64's finaliser: a fixed, well-mixing bijection on `u64`.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Combines words into one well-mixed key, order-sensitively.
pub fn combine(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x6A09_E667_F3BC_C908, |acc, &p| mix(acc ^ mix(p)))
}

/// A stable 64-bit hash of text (FNV-1a, then mixed).
pub fn hash_text(text: &str) -> u64 {
    let fnv = text.bytes().fold(0xCBF2_9CE4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    });
    mix(fnv)
}

/// A random stream keyed by `parts`.
pub fn stream(parts: &[u64]) -> Stream {
    let key = combine(parts);
    Stream::seed_from_u64(key)
}

/// Marks exactly `count` of `mask.len()` positions, chosen uniformly
/// (Knuth's selection sampling: one draw per position, in order).
pub fn choose_exactly(rng: &mut Stream, count: usize, mask: &mut [bool]) {
    let total = mask.len();
    let mut needed = count.min(total);
    for (i, slot) in mask.iter_mut().enumerate() {
        let left = (total - i) as u64;
        *slot = needed > 0 && rng.random_range(0..left) < needed as u64;
        if *slot {
            needed -= 1;
        }
    }
}

/// How many of the `total` rows' `missing` fall in rows `start..end`, so that
/// chunks drawn independently add up to exactly `missing`.
pub fn share(missing: u64, total: u64, start: u64, end: u64) -> usize {
    if total == 0 {
        return 0;
    }
    let upto = |row: u64| (u128::from(missing) * u128::from(row) / u128::from(total)) as u64;
    (upto(end) - upto(start)) as usize
}

/// A discrete distribution over indices by cumulative weights.
#[derive(Clone, Debug)]
pub struct Discrete {
    cumulative: Vec<f64>,
}

impl Discrete {
    /// From non-negative weights (need not sum to 1).
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Discrete {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Discrete { cumulative }
    }

    /// Draws an index.
    pub fn sample(&self, rng: &mut Stream) -> usize {
        let total = *self.cumulative.last().expect("at least one weight");
        let u = rng.random::<f64>() * total;
        self.cumulative
            .partition_point(|&c| c <= u)
            .min(self.cumulative.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_exactly_whatever_the_chunking() {
        for (missing, total) in [(199, 1000), (0, 10), (10, 10), (49_999, 100_000)] {
            for chunk in [1, 7, 64, 1000] {
                let sum: usize = (0..total)
                    .step_by(chunk)
                    .map(|s| share(missing, total, s, (s + chunk as u64).min(total)))
                    .sum();
                assert_eq!(sum as u64, missing, "{missing}/{total} by {chunk}");
            }
        }
    }

    #[test]
    fn exactly_the_requested_count_is_chosen() {
        let mut rng = stream(&[1]);
        for count in [0, 1, 50, 99, 100, 150] {
            let mut mask = vec![false; 100];
            choose_exactly(&mut rng, count, &mut mask);
            assert_eq!(mask.iter().filter(|&&m| m).count(), count.min(100));
        }
    }

    #[test]
    fn selection_is_uniform_over_positions() {
        let mut rng = stream(&[2]);
        let mut hits = [0u32; 10];
        for _ in 0..20_000 {
            let mut mask = [false; 10];
            choose_exactly(&mut rng, 3, &mut mask);
            for (h, m) in hits.iter_mut().zip(mask) {
                *h += u32::from(m);
            }
        }
        // Each position is chosen 3/10 of the time: 6,000 expected, sd ~65.
        for h in hits {
            assert!((5_700..6_300).contains(&h), "{hits:?}");
        }
    }

    #[test]
    fn discrete_draws_follow_the_weights() {
        let dist = Discrete::new([0.5, 0.0, 0.25, 0.25]);
        let mut rng = stream(&[3]);
        let mut counts = [0u32; 4];
        for _ in 0..40_000 {
            counts[dist.sample(&mut rng)] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((19_400..20_600).contains(&counts[0]), "{counts:?}");
        assert!((9_500..10_500).contains(&counts[2]), "{counts:?}");
    }

    #[test]
    fn streams_depend_on_every_part() {
        let draw = |parts: &[u64]| stream(parts).random::<u64>();
        assert_eq!(draw(&[1, 2]), draw(&[1, 2]));
        assert_ne!(draw(&[1, 2]), draw(&[2, 1]));
        assert_ne!(draw(&[1, 2]), draw(&[1, 3]));
        assert_ne!(hash_text("a"), hash_text("b"));
    }
}
