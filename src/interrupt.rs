//! Interrupts (Ctrl-C, SIGTERM, SIGHUP): whether one came, and how the
//! program stops.
//!
//! Outside a pipeline run the program stops at once: it removes its
//! unfinished outputs and exits with 128 + the signal. A run takes
//! interrupts over while it lasts ([`RunInterrupts`]): the handler stops the
//! run's actions (SIGTERM, then SIGKILL after a grace period) and leaves
//! the ending to the run, which marks them cancelled, starts nothing more,
//! prints its summary and releases its lock; native actions meet
//! [`check`] as an error at their next write. A second signal, or a run
//! still going [`RUN_GRACE`] after its actions were told to stop, ends the
//! program at once.

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::time::Duration;

/// How long actions have to stop after SIGTERM, before SIGKILL.
pub const ACTION_GRACE: Duration = Duration::from_secs(5);

/// How long a run has to end after its actions were told to stop.
pub const RUN_GRACE: Duration = Duration::from_secs(15);

/// What the handler calls, given by the front end (this module stands
/// below the tools that do these things).
#[derive(Debug, Clone, Copy)]
pub struct Stoppers {
    /// Stops every running action: SIGTERM, then SIGKILL to what is left
    /// after the given grace.
    pub stop_actions: fn(Duration),
    /// Removes the outputs still being written; returns how many.
    pub remove_unfinished: fn() -> usize,
}

/// The signal that interrupted the program, 0 for none.
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Runs in progress, which end the program themselves when interrupted.
static RUNS: AtomicUsize = AtomicUsize::new(0);

/// The signal that interrupted the program, if one did.
pub fn signal() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// An error once the program was interrupted: writers call it so that an
/// interrupted action stops at its next write.
pub fn check() -> std::io::Result<()> {
    match signal() {
        None => Ok(()),
        // Not `ErrorKind::Interrupted`, which `write_all` retries.
        Some(signal) => Err(std::io::Error::other(format!(
            "stopped: the program was interrupted (signal {signal})"
        ))),
    }
}

/// While held, an interrupt leaves the ending to the pipeline run that
/// holds it.
#[derive(Debug)]
pub struct RunInterrupts(());

impl RunInterrupts {
    /// Takes interrupts over until dropped.
    pub fn take() -> RunInterrupts {
        RUNS.fetch_add(1, Ordering::SeqCst);
        RunInterrupts(())
    }
}

impl Drop for RunInterrupts {
    fn drop(&mut self) {
        RUNS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Handles Ctrl-C, SIGTERM and SIGHUP as the module says, for the rest of
/// the program.
pub fn install(stoppers: Stoppers) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        let mut signals = signals.forever();
        let Some(first) = signals.next() else {
            return;
        };
        SIGNAL.store(first, Ordering::SeqCst);
        if RUNS.load(Ordering::SeqCst) == 0 {
            exit_now(first, stoppers);
        }
        eprintln!("interrupted: stopping the running actions (interrupt again to quit at once)");
        std::thread::spawn(move || {
            (stoppers.stop_actions)(ACTION_GRACE);
            std::thread::sleep(RUN_GRACE);
            exit_now(first, stoppers);
        });
        if signals.next().is_some() {
            exit_now(first, stoppers);
        }
    });
}

/// Stops what is left at once and exits with 128 + `signal`.
fn exit_now(signal: i32, stoppers: Stoppers) -> ! {
    (stoppers.stop_actions)(Duration::ZERO);
    match (stoppers.remove_unfinished)() {
        0 => eprintln!("interrupted"),
        n => eprintln!("interrupted: {n} unfinished output(s) removed"),
    }
    std::process::exit(128 + signal)
}
