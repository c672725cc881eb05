//! Patient ids: one seeded universe shared by every extract of a study, so
//! that dummy extracts join, or upstream's independent draws.
//!
//! A population of N is N *slots*. Upstream-like, ids are distinct integers
//! from `[0, 10 N)`, made by a keyed permutation of that range, so they look
//! random and never repeat within a file. So N is at most
//! [`MAX_POPULATION`]: the ids then fit the 64-bit signed integers of Arrow,
//! Parquet and Stata files.
//!
//! - A file without an index date (the end-of-study extract) holds each
//!   slot's current patient: ids `perm(slot)`.
//! - A file for index date D holds the same patients, except in the
//!   [`CHURN`] share of slots whose patients come and go: there, each
//!   patient stays [`TENURE_DAYS`] (staggered per slot) and the slot cycles
//!   through nine earlier patients, `perm(g N + slot)` for g in 1..=9, who
//!   are not in the end extract.
//!
//! So every weekly extract has about 96 % of its patients in the end
//! extract, and consecutive weeks share about 99.8 % of their patients.
//! `--independent-ids` instead draws each file's ids afresh (upstream).

use super::random::{combine, mix};

/// The largest population ids can be drawn for: `10 N` fits an `i64`.
pub const MAX_POPULATION: u64 = i64::MAX as u64 / 10;

/// Share of slots whose patient changes over time.
pub const CHURN: f64 = 0.04;

/// Days a churning slot keeps its patient.
pub const TENURE_DAYS: i64 = 182;

/// Earlier patients a churning slot cycles through.
const GENERATIONS: u64 = 9;

/// How ids are assigned to the rows of one file.
#[derive(Clone, Debug)]
pub struct Ids {
    permutation: Permutation,
    population: u64,
    /// The file's index date (days since 1970), for the shared universe.
    date: Option<i64>,
    shared: bool,
    seed: u64,
}

impl Ids {
    /// Ids from the universe of `seed` for a file of `population` rows
    /// (at most [`MAX_POPULATION`]) at index date `date` (days since 1970;
    /// `None` for an undated file).
    pub fn shared(seed: u64, population: u64, date: Option<i64>) -> Ids {
        Ids {
            permutation: Permutation::new(population * 10, combine(&[seed, 0x1D5])),
            population,
            date,
            shared: true,
            seed,
        }
    }

    /// Upstream's ids: `population` (at most [`MAX_POPULATION`]) distinct
    /// integers from `[0, 10 N)`, drawn afresh for each `file` key.
    pub fn independent(seed: u64, population: u64, file: u64) -> Ids {
        Ids {
            permutation: Permutation::new(population * 10, combine(&[seed, 0x1D6, file])),
            population,
            date: None,
            shared: false,
            seed,
        }
    }

    /// The patient id of row `row` (`row < population`).
    pub fn id(&self, row: u64) -> u64 {
        let generation = match (self.shared, self.date) {
            (true, Some(date)) => self.generation(row, date),
            _ => 0,
        };
        self.permutation.apply(generation * self.population + row)
    }

    /// Which of its patients a slot holds on `date`: 0 for the current one.
    fn generation(&self, slot: u64, date: i64) -> u64 {
        let key = combine(&[self.seed, 0xC4, slot]);
        if (key >> 11) as f64 >= CHURN * (1u64 << 53) as f64 {
            return 0;
        }
        let phase = (mix(key) % TENURE_DAYS as u64) as i64;
        let period = (date + phase).div_euclid(TENURE_DAYS);
        1 + period.rem_euclid(GENERATIONS as i64) as u64
    }
}

/// A keyed pseudo-random permutation of `[0, size)`: a balanced Feistel
/// network on the smallest even number of bits covering `size`, with cycle
/// walking to stay in range.
#[derive(Clone, Debug)]
pub struct Permutation {
    size: u64,
    half_bits: u32,
    keys: [u64; 4],
}

impl Permutation {
    /// The permutation of `[0, size)` chosen by `key`.
    pub fn new(size: u64, key: u64) -> Permutation {
        let bits = 64 - size.saturating_sub(1).leading_zeros();
        let half_bits = bits.div_ceil(2).max(1);
        let keys = [1, 2, 3, 4].map(|round| combine(&[key, round]));
        Permutation {
            size,
            half_bits,
            keys,
        }
    }

    /// The image of `x` (`x < size`).
    pub fn apply(&self, x: u64) -> u64 {
        let mut y = self.round_trip(x);
        while y >= self.size {
            y = self.round_trip(y);
        }
        y
    }

    fn round_trip(&self, x: u64) -> u64 {
        let mask = (1u64 << self.half_bits) - 1;
        let (mut left, mut right) = (x >> self.half_bits, x & mask);
        for key in self.keys {
            let next = left ^ (mix(right ^ key) & mask);
            left = right;
            right = next;
        }
        (left << self.half_bits) | right
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn permutations_are_bijections() {
        for size in [1, 2, 3, 10, 1000, 4097] {
            let p = Permutation::new(size, 7);
            let image: HashSet<u64> = (0..size).map(|x| p.apply(x)).collect();
            assert_eq!(image.len() as u64, size);
            assert!(image.iter().all(|&y| y < size));
        }
    }

    #[test]
    fn ids_are_distinct_and_in_upstream_range() {
        let n = 5000;
        for ids in [
            Ids::shared(1, n, Some(18_322)),
            Ids::shared(1, n, None),
            Ids::independent(1, n, 9),
        ] {
            let set: HashSet<u64> = (0..n).map(|r| ids.id(r)).collect();
            assert_eq!(set.len() as u64, n);
            assert!(set.iter().all(|&id| id < 10 * n));
        }
    }

    fn overlap(a: &Ids, b: &Ids, n: u64) -> f64 {
        let left: HashSet<u64> = (0..n).map(|r| a.id(r)).collect();
        (0..n).filter(|&r| left.contains(&b.id(r))).count() as f64 / n as f64
    }

    #[test]
    fn weekly_files_join_the_end_file_and_each_other() {
        let n = 20_000;
        let end = Ids::shared(3, n, None);
        let week = |d: i64| Ids::shared(3, n, Some(d));
        // 2020-03-01 and the week after.
        let joinable = overlap(&week(18_322), &end, n);
        assert!((0.95..0.97).contains(&joinable), "{joinable}");
        let consecutive = overlap(&week(18_322), &week(18_329), n);
        assert!(consecutive > 0.995, "{consecutive}");
        let upstream = overlap(&Ids::independent(3, n, 1), &Ids::independent(3, n, 2), n);
        assert!((0.08..0.12).contains(&upstream), "{upstream}");
    }
}
