//! Panics of third-party decoders, contained at the reader boundary.
//!
//! arrow-ipc and parquet check most of what they read, but not all: on some
//! malformed files they panic (an index out of range, an `unwrap`). No
//! input file may crash a command, so every call into them runs through
//! [`decode`], which turns a panic into a [`TableError`] naming the file and
//! saying that it is corrupt or unsupported.
//!
//! The panic hook. While a contained call runs on a thread, the process's
//! panic hook is not told of a panic on that thread: the hook installed here
//! (once, around whichever hook was installed before) keeps the panic's
//! message and place for the error instead of printing "thread panicked"
//! over the clean error, and passes every other panic to the previous hook.
//! Under cargo-fuzz the previous hook is libfuzzer-sys's, which aborts: so a
//! contained panic is an error there, as in the product, and any other
//! panic is still a crash. A contained call must not panic on another
//! thread (the decoders called here do not start threads).

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;

use super::TableError;

thread_local! {
    /// How many contained calls are running on this thread.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The last contained panic on this thread: its place and message.
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `decoder` (reading `path`, a `what` such as "Parquet file"); a
/// panic in it becomes an error saying the file is corrupt or unsupported.
pub fn decode<T>(
    path: &Path,
    what: &str,
    decoder: impl FnOnce() -> Result<T, TableError>,
) -> Result<T, TableError> {
    install_hook();
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = panic::catch_unwind(AssertUnwindSafe(decoder));
    DEPTH.with(|d| d.set(d.get() - 1));
    result.unwrap_or_else(|_| {
        let panic = LAST.with(|l| l.borrow_mut().take()).unwrap_or_default();
        Err(TableError::invalid(
            path,
            None,
            format!(
                "cannot read this {what}: it is corrupt, or uses a feature cohortkit's reader \
                 does not support (the decoder failed{panic}); re-create the file, or save it \
                 again with pandas or pyarrow"
            ),
        ))
    })
}

/// An iterator whose every step runs through [`decode`]; it ends after the
/// first error, as a decoder that panicked may be left in any state.
pub fn decode_each<T, I: Iterator<Item = Result<T, TableError>>>(
    path: &Path,
    what: &'static str,
    mut steps: I,
) -> impl Iterator<Item = Result<T, TableError>> + use<T, I> {
    let path = path.to_path_buf();
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let step = decode(&path, what, || Ok(steps.next())).unwrap_or_else(|e| Some(Err(e)));
        failed = matches!(step, Some(Err(_)));
        step
    })
}

fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if DEPTH.try_with(Cell::get).unwrap_or(0) == 0 {
                return previous(info);
            }
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("a panic");
            let place = info
                .location()
                .map(|l| format!(" at {}:{}", crate_relative(l.file()), l.line()))
                .unwrap_or_default();
            let _ = LAST.try_with(|l| *l.borrow_mut() = Some(format!("{place}: {message}")));
        }));
    });
}

/// A source file's path from its crate's directory on (`parquet-60.1.0/src/…`),
/// without the registry path before it.
fn crate_relative(file: &str) -> &str {
    match file.find("/registry/src/") {
        Some(at) => {
            let index = &file[at + "/registry/src/".len()..];
            index.split_once('/').map_or(index, |(_, rest)| rest)
        }
        None => file,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_naming_the_file() {
        let path = Path::new("week.parquet");
        let error = decode::<()>(path, "Parquet file", || panic!("index 9 out of range"))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("week.parquet: cannot read this Parquet file: it is corrupt"),
            "{error}"
        );
        assert!(error.contains("contain.rs"), "{error}");
        assert!(error.contains(": index 9 out of range)"), "{error}");
        assert_eq!(decode(path, "Parquet file", || Ok(3)).unwrap(), 3);
    }

    #[test]
    fn steps_stop_after_a_panic() {
        let steps = (0..5).map(|i| match i {
            2 => panic!("bad batch"),
            i => Ok(i),
        });
        let got: Vec<_> = decode_each(Path::new("a.arrow"), "Arrow IPC file", steps).collect();
        assert_eq!(got.len(), 3);
        assert!(matches!(got[..2], [Ok(0), Ok(1)]));
        assert!(
            got[2]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("bad batch")
        );
    }

    #[test]
    fn registry_paths_are_shortened() {
        assert_eq!(
            crate_relative(
                "/root/.cargo/registry/src/index.crates.io-1949/parquet-60.1.0/src/a.rs"
            ),
            "parquet-60.1.0/src/a.rs"
        );
        assert_eq!(crate_relative("src/table/a.rs"), "src/table/a.rs");
    }
}
