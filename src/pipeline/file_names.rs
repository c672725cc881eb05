//! The file name an action's log and directory are made under: `check`
//! accepts any action name upstream accepts (`../x`, `a/b`, 300 characters,
//! control bytes), so `run` maps every name to one safe path component.
//!
//! Ordinary names stay as they are (`generate_cohort` →
//! `generate_cohort`). Every byte of the name that is not a portable
//! file-name character (`A-Z a-z 0-9 _ - .`) becomes `%XX` (its value in
//! upper-case hex; `%` itself becomes `%25`), as does a `.` that does not
//! follow a letter, digit, `_` or `-`. So the result is never `.`, `..` or
//! hidden, never holds `..`, `/`, `\`, NUL or control bytes, and decodes
//! back to the name: two names never share a file. A name whose mapped form
//! is empty or longer than [`MAX_LEN`] bytes keeps a readable start and ends
//! with `~` and 32 hex digits of the SHA-256 of the whole name (`~` is never
//! produced by the escaping, so these cannot meet an unshortened name).

use sha2::Digest;

/// The longest file name [`file_name`] returns, in bytes: room is left for
/// `.log`, a work directory's random suffix and an atomic write's
/// temporary name within the usual 255-byte limit.
pub const MAX_LEN: usize = 200;

/// Hex digits of the hash that ends a shortened name.
const HASH_DIGITS: usize = 32;

/// The safe, unique, readable file name (one path component, no
/// extension) for `action`'s files.
pub fn file_name(action: &str) -> String {
    let units = escaped_units(action);
    let len: usize = units.iter().map(|u| u.len()).sum();
    if len > 0 && len <= MAX_LEN {
        return units.concat();
    }
    let room = MAX_LEN - 1 - HASH_DIGITS;
    let mut name = String::with_capacity(MAX_LEN);
    for unit in units {
        if name.len() + unit.len() > room {
            break;
        }
        name.push_str(&unit);
    }
    name.push('~');
    let hash = sha2::Sha256::digest(action.as_bytes());
    for byte in &hash[..HASH_DIGITS / 2] {
        name.push_str(&format!("{byte:02x}"));
    }
    name
}

/// The name's bytes one by one, each kept or escaped as `%XX`, so that a
/// shortened name never cuts an escape in two.
fn escaped_units(action: &str) -> Vec<String> {
    let mut after_word = false;
    action
        .bytes()
        .map(|b| {
            let word = b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
            let keep = word || (b == b'.' && after_word);
            after_word = word;
            if keep {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The name an unshortened file name was made from.
    fn decode(file: &str) -> String {
        let bytes = file.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    /// A single normal path component, safe everywhere a log goes.
    fn assert_safe(action: &str, file: &str) {
        assert!(!file.is_empty(), "{action:?}");
        assert!(file.len() <= MAX_LEN, "{action:?} -> {file:?}");
        assert!(file.len() + ".log".len() <= 255);
        assert!(!file.starts_with('.'), "{action:?} -> {file:?}");
        assert!(!file.contains(".."), "{action:?} -> {file:?}");
        assert!(
            file.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.%~".contains(&b)),
            "{action:?} -> {file:?}"
        );
        let mut components = std::path::Path::new(file).components();
        assert!(
            matches!(components.next(), Some(std::path::Component::Normal(_))),
            "{action:?} -> {file:?}"
        );
        assert!(components.next().is_none(), "{action:?} -> {file:?}");
    }

    #[test]
    fn ordinary_names_stay_as_written() {
        for name in [
            "generate_cohort",
            "generate_study_population_1",
            "join-cohorts",
            "report.v2",
            "A1",
        ] {
            assert_eq!(file_name(name), name);
        }
    }

    #[test]
    fn paths_dots_and_odd_bytes_are_escaped() {
        assert_eq!(file_name("../../victim"), "%2E%2E%2F%2E%2E%2Fvictim");
        assert_eq!(file_name("/etc/x"), "%2Fetc%2Fx");
        assert_eq!(file_name("a/b"), "a%2Fb");
        assert_eq!(file_name("a\\b"), "a%5Cb");
        assert_eq!(file_name("."), "%2E");
        assert_eq!(file_name(".."), "%2E%2E");
        assert_eq!(file_name(".hidden"), "%2Ehidden");
        assert_eq!(file_name("a..b"), "a.%2Eb");
        assert_eq!(file_name("a/.b"), "a%2F%2Eb");
        assert_eq!(file_name("a\tb"), "a%09b");
        assert_eq!(file_name("a\0b"), "a%00b");
        assert_eq!(file_name("a b"), "a%20b");
        assert_eq!(file_name("café"), "caf%C3%A9");
        // A name holding what looks like an escape keeps its own file.
        assert_eq!(file_name("a%2Fb"), "a%252Fb");
        assert_ne!(file_name("a%2Fb"), file_name("a/b"));
    }

    #[test]
    fn long_and_empty_names_are_shortened_with_a_hash() {
        let long = "x".repeat(300);
        let file = file_name(&long);
        assert_eq!(file.len(), MAX_LEN);
        assert!(file.starts_with(&"x".repeat(167)), "{file}");
        assert_eq!(file.as_bytes()[167], b'~');
        // Stable: the same name always gives the same file.
        assert_eq!(file_name(&long), file);
        assert_ne!(file_name(&"x".repeat(301)), file);
        // An escape is never cut in two.
        let slashes = file_name(&"/".repeat(100));
        assert_eq!(slashes.split('~').next().unwrap(), "%2F".repeat(55));
        // The longest name kept whole.
        assert_eq!(file_name(&"y".repeat(MAX_LEN)), "y".repeat(MAX_LEN));
        let empty = file_name("");
        assert!(empty.starts_with('~') && empty.len() == 1 + HASH_DIGITS);
        for name in [long.as_str(), &"/".repeat(100), ""] {
            assert_safe(name, &file_name(name));
        }
    }

    proptest! {
        /// Any name gives one normal path component that decodes back to the
        /// name (or is shortened with a hash of it).
        #[test]
        fn every_name_gives_one_safe_component(
            name in prop_oneof![any::<String>(), "[./\\\\%a\t\0é~]{0,12}", ".{150,260}"]
        ) {
            let file = file_name(&name);
            assert_safe(&name, &file);
            if !file.contains('~') {
                prop_assert_eq!(decode(&file), name);
            }
        }

        /// Distinct names give distinct files.
        #[test]
        fn distinct_names_give_distinct_files(
            a in prop_oneof![any::<String>(), "[./\\\\%2Fa\t]{0,8}", "x{195,205}"],
            b in prop_oneof![any::<String>(), "[./\\\\%2Fa\t]{0,8}", "x{195,205}"],
        ) {
            prop_assume!(a != b);
            prop_assert_ne!(file_name(&a), file_name(&b));
        }
    }
}
