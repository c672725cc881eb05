//! Hash maps that need no random source: ahash with fixed seeds. The keys
//! come from files the user chose, so hash flooding is no threat worth a
//! random source, and a static binary in an empty root (no `/dev/urandom`)
//! then reports and joins as anywhere else, the same way every run.

use std::collections::HashMap;
use std::hash::BuildHasher;

/// Builds ahash hashers with fixed seeds.
#[derive(Debug, Clone, Copy, Default)]
pub struct FixedState;

impl BuildHasher for FixedState {
    type Hasher = ahash::AHasher;

    fn build_hasher(&self) -> ahash::AHasher {
        ahash::RandomState::with_seeds(
            0x243f_6a88_85a3_08d3,
            0x1319_8a2e_0370_7344,
            0xa409_3822_299f_31d0,
            0x082e_fa98_ec4e_6c89,
        )
        .build_hasher()
    }
}

/// A hash map with [`FixedState`] (make one with `Map::default()`).
pub type Map<K, V> = HashMap<K, V, FixedState>;
