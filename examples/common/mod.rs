//! Helpers shared by the examples (`mod common;` in each; not an example itself): the
//! `say!` and `check!` lines every example prints, and a watchdog so none can hang.
#![allow(dead_code, unused_macros)]

use std::time::{Duration, Instant};

/// Print one event: `say!("task", "got it after {} ms", 51)` prints `[task]      got it after 51 ms`.
macro_rules! say {
    ($who:expr, $($msg:tt)+) => {
        println!("   {:<12}{}", format!("[{}]", $who), format_args!($($msg)+))
    };
}

/// Assert a fact and print it as an `ok:` line.
macro_rules! check {
    ($fact:expr, $($msg:tt)+) => {{
        assert!($fact, $($msg)+);
        println!("   ok: {}", format_args!($($msg)+));
    }};
}

/// Milliseconds since `start`.
pub fn ms(start: Instant) -> u128 {
    start.elapsed().as_millis()
}

/// An example must never hang: stop it, failed, if it runs past `limit`.
pub fn watchdog(limit: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        let name = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "the example".into());
        eprintln!("{name} ran longer than {limit:?}: something is stuck");
        std::process::exit(1);
    });
}
