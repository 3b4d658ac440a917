//! The excepthook and the start hook, and panics injected everywhere user code runs: a
//! Thread target, a Timer function, the excepthook itself and the start hook
//! (CONFORMANCE section 14, T-24, TM-9).
//!
//! Both hooks are global to the process: every test here holds [`SERIAL`] through a
//! [`Hooks`] guard, which puts the default hooks back when it drops, also when a check
//! fails. The default hook's output goes to the process's stderr, which a test cannot
//! read in-process: [`default_hook_output_seen_from_a_child_process`] runs this binary
//! again as a child, in the mode [`child_process_body`], and reads the child's stderr.

// conformance: X-3
// X-3 (SystemExit, N/A): Python's SystemExit raised in a thread is dropped silently. Rust
// has no exception that means "exit this thread quietly": a target ends by returning, and
// every panic is reported. There is nothing to test.

mod common;
use common::{assert_quick, join_thread, mt_runtime, LATE, WATCHDOG};

use std::any::Any;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use threading::{blocking, ExceptHookArgs, JoinError, Thread};

/// Serializes the tests of this file: the hooks are global.
static SERIAL: Mutex<()> = Mutex::new(());

/// Holds [`SERIAL`]; on drop, puts the default excepthook back and clears the start hook.
struct Hooks {
    _serial: MutexGuard<'static, ()>,
}

impl Drop for Hooks {
    fn drop(&mut self) {
        threading::set_excepthook(threading::excepthook);
        threading::clear_start_hook();
    }
}

/// Take the hooks for one test, starting from the defaults.
fn hooks() -> Hooks {
    let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    threading::set_excepthook(threading::excepthook);
    threading::clear_start_hook();
    Hooks { _serial: serial }
}

/// What a recording excepthook saw in one call.
#[derive(Clone, Debug)]
struct Call {
    thread: Option<Thread>,
    message: Option<String>,
    code: Option<u32>,
    /// `current_thread()` inside the hook.
    current: Thread,
}

type Calls = Arc<Mutex<Vec<Call>>>;

/// Install an excepthook that records every call.
fn record_excepthook() -> Calls {
    let calls = Calls::default();
    let c = calls.clone();
    threading::set_excepthook(move |args| {
        c.lock().unwrap().push(Call {
            thread: args.thread().cloned(),
            message: args.message().map(str::to_owned),
            code: args.payload().downcast_ref::<u32>().copied(),
            current: threading::current_thread(),
        });
    });
    calls
}

/// The calls that named thread `t`.
fn calls_for<T>(calls: &Calls, t: &Thread<T>) -> Vec<Call> {
    calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.thread.as_ref().is_some_and(|x| x == t))
        .cloned()
        .collect()
}

/// The hook saw one call for `t`, in `t` itself, with this message.
#[track_caller]
fn assert_reported<T>(calls: &Calls, t: &Thread<T>, message: Option<&str>) {
    let seen = calls_for(calls, t);
    assert_eq!(seen.len(), 1, "calls for {t:?}: {seen:?}");
    assert_eq!(seen[0].message.as_deref(), message);
    assert!(
        &seen[0].current == t,
        "the hook ran in {:?}",
        seen[0].current
    );
}

/// A join that reports the target's panic.
#[track_caller]
fn assert_panicked<T: std::fmt::Debug>(
    r: Result<Option<T>, JoinError>,
    name: &str,
    message: Option<&str>,
) {
    match r {
        Err(JoinError::Panicked(p)) => {
            assert_eq!(p.thread_name(), name);
            assert_eq!(p.message(), message);
        }
        other => panic!("expected the panic of {name}, got {other:?}"),
    }
}

/// A thread that has ended is no longer alive nor listed.
#[track_caller]
fn assert_gone<T>(t: &Thread<T>) {
    assert!(!t.is_alive());
    assert!(!threading::enumerate().iter().any(|x| x == t), "{t:?}");
    assert!(format!("{t:?}").contains(", stopped"), "{t:?}");
}

// conformance
// The default hook can be called directly, with a thread or with none, and with any
// payload, without panicking. Its output is checked in the child process test.
#[test]
fn the_default_hook_can_be_called_directly() {
    let _hooks = hooks();
    let me = threading::current_thread();
    let text: Box<dyn Any + Send> = Box::new("direct call");
    let owned: Box<dyn Any + Send> = Box::new(String::from("owned message"));
    let other: Box<dyn Any + Send> = Box::new(42_u32);
    for payload in [&text, &owned, &other] {
        threading::excepthook(&ExceptHookArgs::new(&**payload, Some(&me)));
        blocking::excepthook(&ExceptHookArgs::new(&**payload, None));
    }
    let args = ExceptHookArgs::new(&*owned, Some(&me));
    assert_eq!(args.message(), Some("owned message"));
    assert!(args.thread() == Some(&me));
    assert!(format!("{args:?}").contains("owned message"));
    let args = ExceptHookArgs::new(&*other, None);
    assert_eq!(args.message(), None);
    assert_eq!(args.payload().downcast_ref::<u32>(), Some(&42));
    assert!(args.thread().is_none());
}

/// The environment variable that makes [`child_process_body`] run.
const CHILD: &str = "THREADING_EXCEPTHOOK_TEST_CHILD";

/// Not a test of its own: the body of the child process that
/// [`default_hook_output_seen_from_a_child_process`] starts. Without [`CHILD`] set it
/// returns at once. It writes markers to stderr between the scenarios.
#[test]
fn child_process_body() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let _hooks = hooks();
    eprintln!("[x1]");
    let t = blocking::Thread::builder()
        .name("x1-os")
        .target(|| -> u8 { panic!("x1 os boom") });
    t.start().unwrap();
    assert_panicked(t.join(), "x1-os", Some("x1 os boom"));
    mt_runtime().block_on(async {
        let t = Thread::builder().name("x1-task").target(|| async {
            let n = 2;
            panic!("x1 task boom {n}")
        });
        t.start().unwrap();
        assert_panicked(t.join().await, "x1-task", Some("x1 task boom 2"));
    });
    let t = blocking::Thread::builder()
        .name("x1-any")
        .target(|| std::panic::panic_any(42_u32));
    t.start().unwrap();
    assert_panicked(t.join(), "x1-any", None);

    eprintln!("[x4 ident={}]", threading::get_ident());
    let payload: Box<dyn Any + Send> = Box::new("x4 boom");
    threading::excepthook(&ExceptHookArgs::new(&*payload, None));

    eprintln!("[x5]");
    threading::set_excepthook(|_| panic!("x5 hook boom"));
    let t = blocking::Thread::builder()
        .name("x5-os")
        .target(|| -> u8 { panic!("x5 boom") });
    t.start().unwrap();
    assert_panicked(t.join(), "x5-os", Some("x5 boom"));

    eprintln!("[x6]");
    threading::set_excepthook(|args| {
        let name = args.thread().map(|t| t.name()).unwrap_or_default();
        eprintln!("custom hook: {name}: {}", args.message().unwrap_or("?"));
    });
    let t = blocking::Thread::builder()
        .name("x6-custom")
        .target(|| -> u8 { panic!("x6 one") });
    t.start().unwrap();
    assert_panicked(t.join(), "x6-custom", Some("x6 one"));
    threading::set_excepthook(threading::excepthook);
    let t = blocking::Thread::builder()
        .name("x6-default")
        .target(|| -> u8 { panic!("x6 two") });
    t.start().unwrap();
    assert_panicked(t.join(), "x6-default", Some("x6 two"));
    eprintln!("[end]");
}

/// The part of `text` between two markers.
fn section<'a>(text: &'a str, from: &str, to: &str) -> &'a str {
    let start = text
        .find(from)
        .unwrap_or_else(|| panic!("no {from:?} in:\n{text}"));
    let rest = &text[start + from.len()..];
    let end = rest
        .find(to)
        .unwrap_or_else(|| panic!("no {to:?} in:\n{text}"));
    &rest[..end]
}

/// Python's report, as the default hook writes it.
fn report(name: &str, message: &str) -> String {
    format!("Exception in thread {name}:\npanic: {message}\n")
}

// conformance
// This binary, run again as a child in the mode `child_process_body`: its stderr shows the
// default hook's report for OS and task threads, the calling thread's ident when
// no thread is given, the report of a hook that panics, and a custom hook's
// output in place of the default until the default is set back, which then writes the
// same report as at first.
#[test]
fn default_hook_output_seen_from_a_child_process() {
    let _hooks = hooks();
    let (_, stderr) = run_child("child_process_body");

    // the default report, for an OS thread and a task-thread; a payload that is not
    // a string is still reported.
    let x1 = section(&stderr, "[x1]\n", "[x4 ident=");
    assert!(x1.contains(&report("x1-os", "x1 os boom")), "{x1}");
    assert!(x1.contains(&report("x1-task", "x1 task boom 2")), "{x1}");
    let any = section(x1, "Exception in thread x1-any:\n", "\n");
    assert!(any.starts_with("panic: "), "{x1}");
    assert!(!stderr.contains("Unhandled exception"), "{stderr}");

    // with no thread, the calling thread's ident stands in for the name.
    let ident = section(&stderr, "[x4 ident=", "]\n");
    assert!(ident.parse::<u64>().is_ok_and(|i| i != 0), "{ident:?}");
    let x4 = section(&stderr, "]\n", "[x5]");
    assert!(x4.contains(&report(ident, "x4 boom")), "{x4}");

    // the hook's own panic is reported; the default report is not written.
    let x5 = section(&stderr, "[x5]\n", "[x6]");
    assert!(
        x5.contains("Exception in threading.excepthook:\npanic: x5 hook boom\n"),
        "{x5}"
    );
    assert!(!x5.contains("Exception in thread x5-os:"), "{x5}");

    // the custom hook's output replaces the default; the default set back writes
    // its report exactly as before.
    let x6 = section(&stderr, "[x6]\n", "[end]");
    assert!(x6.contains("custom hook: x6-custom: x6 one\n"), "{x6}");
    assert!(!x6.contains("Exception in thread x6-custom"), "{x6}");
    assert!(x6.contains(&report("x6-default", "x6 two")), "{x6}");
    assert!(!x6.contains("custom hook: x6-default"), "{x6}");
}

/// Run this binary again as a child, in [`CHILD`] mode, running only the test `body`;
/// kill it if it runs longer than `WATCHDOG`. Checks that it ran `body` and passed, and
/// returns its stdout and stderr.
fn run_child(body: &str) -> (String, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", body, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).unwrap();
        s
    });
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).unwrap();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child process hung for {WATCHDOG:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (stdout, stderr) = (join_thread(stdout), join_thread(stderr));
    assert!(status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("test {body} ... ok")) && stdout.contains("1 passed"),
        "the child did not run its body:\n{stdout}"
    );
    (stdout, stderr)
}

/// What a hook owns in the test of old hooks' drops: its `Drop` calls back into the
/// process-wide settings (the stack size, and both hooks' setters), as user code may.
struct CallsBackOnDrop {
    drops: Arc<AtomicUsize>,
}

impl Drop for CallsBackOnDrop {
    fn drop(&mut self) {
        let size = threading::stack_size();
        threading::set_stack_size(size).unwrap();
        threading::set_excepthook(threading::excepthook);
        threading::set_start_hook(|_| {});
        threading::clear_start_hook();
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// The scenarios of [`old_hooks_are_dropped_with_the_settings_unlocked`]: each replaces or
/// clears a hook that owns a [`CallsBackOnDrop`], whose drop must find the settings
/// unlocked. Returns how many such drops ran.
fn replace_hooks_that_call_back_on_drop() -> usize {
    let drops = Arc::new(AtomicUsize::new(0));
    let owned = || CallsBackOnDrop {
        drops: drops.clone(),
    };

    // An excepthook replaced by another.
    let o = owned();
    threading::set_excepthook(move |_| {
        let _ = &o;
    });
    threading::set_excepthook(threading::excepthook);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "excepthook replaced");

    // A start hook replaced by another, then one cleared.
    let o = owned();
    threading::set_start_hook(move |_| {
        let _ = &o;
    });
    threading::set_start_hook(|_| {});
    assert_eq!(drops.load(Ordering::SeqCst), 2, "start hook replaced");
    let o = owned();
    threading::set_start_hook(move |_| {
        let _ = &o;
    });
    threading::clear_start_hook();
    assert_eq!(drops.load(Ordering::SeqCst), 3, "start hook cleared");

    // A start hook that clears itself while it runs: the new thread holds the last
    // reference, and drops it after the hook returned, before the target.
    let o = owned();
    let d = drops.clone();
    threading::set_start_hook(move |_| {
        let _ = &o;
        threading::clear_start_hook();
    });
    let t = blocking::Thread::new(move || d.load(Ordering::SeqCst));
    t.start().unwrap();
    assert_eq!(
        t.join_timeout(LATE),
        Ok(Some(4)),
        "start hook cleared by itself"
    );

    // An excepthook that replaces itself while it runs, in a thread that panics.
    let o = owned();
    threading::set_excepthook(move |_| {
        let _ = &o;
        threading::set_excepthook(|_| {});
    });
    let t = blocking::Thread::new(|| panic!("reported to a hook that replaces itself"));
    t.start().unwrap();
    assert!(matches!(t.join_timeout(LATE), Err(JoinError::Panicked(_))));
    drops.load(Ordering::SeqCst)
}

/// Not a test of its own: the body of the child process that
/// [`old_hooks_are_dropped_with_the_settings_unlocked`] starts. Without [`CHILD`] set it
/// returns at once. The scenarios run on a thread of their own: if one deadlocks on the
/// settings, the child says so and exits (nothing here could take the settings again).
#[test]
fn hook_drop_child_body() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(replace_hooks_that_call_back_on_drop);
        let _ = tx.send(r);
    });
    match rx.recv_timeout(LATE) {
        Ok(Ok(drops)) => assert_eq!(drops, 5),
        Ok(Err(p)) => std::panic::resume_unwind(p),
        Err(_) => {
            eprintln!("[deadlock: a hook's drop did not return in {LATE:?}]");
            std::process::exit(3);
        }
    }
}

// regression: issue 13 defect 8
// Replacing or clearing a hook drops the old one with the settings unlocked: a hook whose
// `Drop` reads the stack size and sets both hooks again does not deadlock. Also when a
// running hook replaces itself (its thread drops the last reference after the call). In a
// child process, where a deadlock on the process-wide settings cannot stop the other
// tests of this binary, run on a thread with a bounded wait.
#[test]
fn old_hooks_are_dropped_with_the_settings_unlocked() {
    let _hooks = hooks();
    let (_, stderr) = run_child("hook_drop_child_body");
    assert!(!stderr.contains("[deadlock"), "{stderr}");
}

// conformance: X-2, T-24, TM-9
// A custom hook gets the payload (the message of a string payload, any other value by
// downcast) and the very Thread that failed, and runs in that thread; the joiners get the
// panic too. For OS threads, task-threads, spawn_blocking threads and both kinds of Timer.
#[test]
fn a_custom_hook_gets_the_payload_and_the_very_thread() {
    let _hooks = hooks();
    let calls = record_excepthook();

    let t = blocking::Thread::builder()
        .name("x2-os")
        .target(|| -> u8 { panic!("x2 os boom") });
    t.start().unwrap();
    assert_panicked(t.join(), "x2-os", Some("x2 os boom"));
    assert_reported(&calls, t.as_async(), Some("x2 os boom"));

    let bt = blocking::Timer::new(Duration::ZERO, || panic!("x2 blocking timer boom"));
    bt.start().unwrap();
    assert_panicked(bt.join(), &bt.name(), Some("x2 blocking timer boom"));
    assert_reported(&calls, (*bt).as_async(), Some("x2 blocking timer boom"));

    mt_runtime().block_on(async {
        let t = Thread::builder().name("x2-task").target(|| async {
            tokio::task::yield_now().await;
            let what = "task";
            panic!("x2 {what} boom")
        });
        t.start().unwrap();
        assert_panicked(t.join().await, "x2-task", Some("x2 task boom"));
        assert_reported(&calls, &t, Some("x2 task boom"));

        let p = Thread::builder()
            .name("x2-pool")
            .blocking_target(|| std::panic::panic_any(7_u32));
        p.start().unwrap();
        assert_panicked(p.join().await, "x2-pool", None);
        assert_reported(&calls, &p, None);
        assert_eq!(calls_for(&calls, &p)[0].code, Some(7));

        let timer = threading::Timer::new(Duration::ZERO, || async { panic!("x2 timer boom") });
        timer.start().unwrap();
        assert_panicked(timer.join().await, &timer.name(), Some("x2 timer boom"));
        assert_reported(&calls, &timer, Some("x2 timer boom"));
    });
    // One call per panic, and nothing else.
    assert_eq!(calls.lock().unwrap().len(), 5);
}

// conformance: X-4
// A hook can be given no thread: a custom hook sees `None`, and the default one does not
// panic (its output is checked in the child process test).
#[test]
fn a_hook_can_be_called_with_no_thread() {
    let _hooks = hooks();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let hook = move |args: &ExceptHookArgs<'_>| {
        s.lock()
            .unwrap()
            .push((args.thread().is_none(), args.message().map(str::to_owned)));
    };
    let payload: Box<dyn Any + Send> = Box::new("no thread");
    hook(&ExceptHookArgs::new(&*payload, None));
    threading::excepthook(&ExceptHookArgs::new(&*payload, None));
    assert_eq!(
        *seen.lock().unwrap(),
        [(true, Some(String::from("no thread")))]
    );
}

// conformance: X-5, LR-9
// A hook that panics: the failing thread still ends normally, its joiners get the
// original panic, the guards it held are released, it leaves the registry, and the
// process and later threads carry on.
#[test]
fn a_hook_that_panics_changes_nothing_else() {
    let _hooks = hooks();
    threading::set_excepthook(|_| panic!("the hook fails too"));
    let lock = Arc::new(blocking::Lock::new());
    let rlock = Arc::new(blocking::RLock::new());

    let (l, r) = (lock.clone(), rlock.clone());
    let t = blocking::Thread::builder()
        .name("x5-os")
        .target(move || -> u8 {
            let _g = l.acquire();
            let _r1 = r.acquire();
            let _r2 = r.acquire();
            panic!("x5 os boom")
        });
    t.start().unwrap();
    assert_panicked(t.join(), "x5-os", Some("x5 os boom"));
    assert_panicked(t.join(), "x5-os", Some("x5 os boom")); // every joiner
    assert_gone(t.as_async());
    assert!(!lock.locked() && !rlock.locked());

    mt_runtime().block_on(async {
        let (l, r) = (lock.clone(), rlock.clone());
        let t = Thread::builder()
            .name("x5-task")
            .target(move || async move {
                let _g = l.as_async().acquire().await;
                let _r = r.as_async().acquire().await;
                tokio::task::yield_now().await;
                panic!("x5 task boom")
            });
        t.start().unwrap();
        assert_panicked(t.join().await, "x5-task", Some("x5 task boom"));
        assert_gone(&t);
        let l = lock.clone();
        let p = Thread::builder().name("x5-pool").blocking_target(move || {
            let _g = l.acquire();
            panic!("x5 pool boom")
        });
        p.start().unwrap();
        assert_panicked(p.blocking().join(), "x5-pool", Some("x5 pool boom"));
        assert_gone(&p);
    });
    assert!(!lock.locked() && !rlock.locked());
    // Later threads run as usual.
    let t = blocking::Thread::new(|| 1);
    t.start().unwrap();
    assert_eq!(t.join(), Ok(Some(1)));
}

// conformance: X-6
// `set_excepthook(threading::excepthook)` puts the default back: the custom hook stops
// seeing panics.
#[test]
fn setting_the_default_hook_back_restores_it() {
    let _hooks = hooks();
    let calls = record_excepthook();
    let t = blocking::Thread::new(|| -> u8 { panic!("x6 seen") });
    t.start().unwrap();
    assert!(t.join().is_err());
    assert_reported(&calls, t.as_async(), Some("x6 seen"));

    threading::set_excepthook(threading::excepthook);
    let t = blocking::Thread::new(|| -> u8 { panic!("x6 not seen") });
    t.start().unwrap();
    assert!(t.join().is_err());
    blocking::set_excepthook(blocking::excepthook); // the same function, twice
    let t = blocking::Thread::new(|| -> u8 { panic!("x6 not seen either") });
    t.start().unwrap();
    assert!(t.join().is_err());
    assert_eq!(calls.lock().unwrap().len(), 1);
}

// conformance: X-7
// The hook is looked up when the panic happens: one set after a thread started gets its
// panic, and one replaced before the panic does not.
#[test]
fn the_hook_in_place_when_the_panic_happens_gets_it() {
    let _hooks = hooks();
    let early = record_excepthook();
    let go = Arc::new(blocking::Event::new());
    let g = go.clone();
    let t = blocking::Thread::new(move || -> u8 {
        g.wait();
        panic!("x7 os boom")
    });
    t.start().unwrap();
    let rt = mt_runtime();
    let task = {
        let _in_rt = rt.enter();
        let g = go.clone();
        Thread::new(move || async move {
            g.as_async().wait().await;
            panic!("x7 task boom")
        })
    };
    task.start().unwrap();
    assert!(t.is_alive() && task.is_alive());

    let late = record_excepthook();
    go.set();
    assert!(t.join().is_err());
    assert!(task.blocking().join().is_err());
    assert_reported(&late, t.as_async(), Some("x7 os boom"));
    assert_reported(&late, &task, Some("x7 task boom"));
    assert!(early.lock().unwrap().is_empty());
}

// conformance: LR-9, T-24
// A panicking target releases the guards it held (no poisoning), leaves the registry, and
// reaches every joiner, in each kind of thread.
#[test]
fn a_panicking_target_releases_its_guards_and_leaves_the_registry() {
    let _hooks = hooks();
    let calls = record_excepthook();
    let lock = Arc::new(blocking::Lock::new());
    let rlock = Arc::new(blocking::RLock::new());
    let holding = Arc::new(blocking::Event::new());
    let go = Arc::new(blocking::Event::new());

    let (l, r, h, g) = (lock.clone(), rlock.clone(), holding.clone(), go.clone());
    let t = blocking::Thread::builder()
        .name("pt-os")
        .target(move || -> u8 {
            let _g = l.acquire();
            let _r1 = r.acquire();
            let _r2 = r.acquire();
            h.set();
            g.wait();
            panic!("pt os boom")
        });
    t.start().unwrap();
    holding.wait();
    assert!(lock.locked() && rlock.locked());
    assert!(threading::enumerate().iter().any(|x| x == t.as_async()));
    go.set();
    assert_panicked(t.join(), "pt-os", Some("pt os boom"));
    assert_gone(t.as_async());
    assert!(!lock.locked() && !rlock.locked());
    assert!(lock.try_acquire().is_some() && rlock.try_acquire().is_some());
    assert_reported(&calls, t.as_async(), Some("pt os boom"));

    mt_runtime().block_on(async {
        holding.clear();
        go.clear();
        let (l, r, h, g) = (lock.clone(), rlock.clone(), holding.clone(), go.clone());
        let t = Thread::builder()
            .name("pt-task")
            .target(move || async move {
                let _g = l.as_async().acquire().await;
                let _r1 = r.as_async().acquire().await;
                let _r2 = r.as_async().acquire().await;
                h.set();
                g.as_async().wait().await;
                panic!("pt task boom")
            });
        t.start().unwrap();
        holding.as_async().wait().await;
        assert!(lock.locked() && rlock.locked());
        go.set();
        // Two joiners, one in each world.
        let b = t.clone().into_blocking();
        let other = std::thread::spawn(move || b.join());
        assert_panicked(t.join().await, "pt-task", Some("pt task boom"));
        assert_panicked(join_thread(other), "pt-task", Some("pt task boom"));
        assert_gone(&t);
        assert!(!lock.locked() && !rlock.locked());
        assert_reported(&calls, &t, Some("pt task boom"));

        let (l, r) = (lock.clone(), rlock.clone());
        let p = Thread::builder().name("pt-pool").blocking_target(move || {
            let _g = l.acquire();
            let _r = r.acquire();
            panic!("pt pool boom")
        });
        p.start().unwrap();
        assert_panicked(p.join().await, "pt-pool", Some("pt pool boom"));
        assert_gone(&p);
        assert!(!lock.locked() && !rlock.locked());
        assert_reported(&calls, &p, Some("pt pool boom"));
    });
}

// conformance: TM-9, LR-9
// A Timer whose function panics: the panic goes to the hook and to the joiners, the
// function's guards are released, the timer leaves the registry.
#[test]
fn a_panicking_timer_function_releases_its_guards() {
    let _hooks = hooks();
    let calls = record_excepthook();
    let lock = Arc::new(blocking::Lock::new());

    let l = lock.clone();
    let bt = blocking::Timer::new(Duration::from_millis(1), move || {
        let _g = l.acquire();
        panic!("tm blocking boom")
    });
    bt.start().unwrap();
    assert_panicked(bt.join(), &bt.name(), Some("tm blocking boom"));
    assert_gone((*bt).as_async());
    assert!(!lock.locked());
    assert_reported(&calls, (*bt).as_async(), Some("tm blocking boom"));
    assert!(!bt.cancel(), "too late to cancel: the function ran");

    mt_runtime().block_on(async {
        let l = lock.clone();
        let timer = threading::Timer::new(Duration::from_millis(1), move || async move {
            let _g = l.as_async().acquire().await;
            tokio::task::yield_now().await;
            panic!("tm task boom")
        });
        timer.start().unwrap();
        assert_panicked(timer.join().await, &timer.name(), Some("tm task boom"));
        assert_gone(&timer);
        assert!(!lock.locked());
        assert_reported(&calls, &timer, Some("tm task boom"));
    });
}

/// One entry of the start-hook test's log.
#[derive(Debug)]
enum Step {
    Hook {
        arg: Thread,
        current: Thread,
        ident: u64,
    },
    Target {
        ident: u64,
    },
}

// The start hook runs once in every new thread and task-thread, in that thread (so
// `current_thread()` is the new thread), before the target. Not for the main thread or a
// dummy; not once cleared.
#[test]
fn the_start_hook_runs_first_in_every_new_thread() {
    let _hooks = hooks();
    let log: Arc<Mutex<Vec<Step>>> = Arc::default();
    let l = log.clone();
    threading::set_start_hook(move |t| {
        l.lock().unwrap().push(Step::Hook {
            arg: t.clone(),
            current: threading::current_thread(),
            ident: threading::get_ident(),
        });
    });
    let target = {
        let log = log.clone();
        move || {
            log.lock().unwrap().push(Step::Target {
                ident: threading::get_ident(),
            })
        }
    };

    let mut threads: Vec<Thread> = Vec::new();
    let t = blocking::Thread::new(target.clone());
    t.start().unwrap();
    t.join().unwrap();
    threads.push(t.into_async());
    let bt = blocking::Timer::new(Duration::ZERO, target.clone());
    bt.start().unwrap();
    bt.join().unwrap();
    threads.push((*bt).clone().into_async());
    mt_runtime().block_on(async {
        let f = target.clone();
        let t = Thread::new(move || async move {
            tokio::task::yield_now().await;
            f()
        });
        t.start().unwrap();
        t.join().await.unwrap();
        threads.push(t);
        let p = Thread::new_blocking(target.clone());
        p.start().unwrap();
        p.join().await.unwrap();
        threads.push(p);
        let f = target.clone();
        let timer = threading::Timer::new(Duration::ZERO, move || async move { f() });
        timer.start().unwrap();
        timer.join().await.unwrap();
        threads.push((*timer).clone());
    });

    {
        let log = log.lock().unwrap();
        for t in &threads {
            let ident = t.ident().unwrap();
            let hooks: Vec<usize> = (0..log.len())
                .filter(|&i| matches!(&log[i], Step::Hook { arg, .. } if arg == t))
                .collect();
            assert_eq!(hooks.len(), 1, "{t:?}: {log:?}");
            let Step::Hook {
                current,
                ident: hook_ident,
                ..
            } = &log[hooks[0]]
            else {
                unreachable!()
            };
            assert!(current == t, "the hook of {t:?} ran in {current:?}");
            assert_eq!(*hook_ident, ident);
            let target_at = log
                .iter()
                .position(|s| matches!(s, Step::Target { ident: i } if *i == ident))
                .unwrap_or_else(|| panic!("the target of {t:?} did not run: {log:?}"));
            assert!(hooks[0] < target_at, "{t:?}: {log:?}");
        }
        assert_eq!(log.len(), 2 * threads.len(), "{log:?}");
    }

    // Not for the main thread, nor for a dummy.
    let _ = threading::main_thread();
    join_thread(std::thread::spawn(threading::current_thread));
    assert_eq!(log.lock().unwrap().len(), 2 * threads.len());

    // Once cleared, it runs no more.
    threading::clear_start_hook();
    let t = blocking::Thread::new(target.clone());
    t.start().unwrap();
    t.join().unwrap();
    assert_eq!(log.lock().unwrap().len(), 2 * threads.len() + 1);
    assert!(matches!(
        log.lock().unwrap().last(),
        Some(Step::Target { .. })
    ));
}

// conformance: LR-9
// A panic in the start hook counts as a panic of the target, which then does not run: the
// excepthook and every joiner get it, a guard the hook held is released, and the thread
// leaves the registry. In each kind of thread, one at a time.
#[test]
fn a_panicking_start_hook_stops_the_target_and_releases_its_guards() {
    let _hooks = hooks();
    let calls = record_excepthook();
    let lock = Arc::new(blocking::Lock::new());
    let l = lock.clone();
    threading::set_start_hook(move |t| {
        let name = t.name();
        if name.starts_with("sh-") {
            let _g = l
                .try_acquire()
                .expect("one start hook at a time holds the lock");
            panic!("start hook boom in {name}");
        }
    });
    let ran = Arc::new(AtomicBool::new(false));

    let r = ran.clone();
    let t = blocking::Thread::builder()
        .name("sh-os")
        .target(move || r.store(true, Ordering::SeqCst));
    t.start().unwrap();
    assert_panicked(t.join(), "sh-os", Some("start hook boom in sh-os"));
    assert_gone(t.as_async());
    assert_reported(&calls, t.as_async(), Some("start hook boom in sh-os"));
    assert!(!lock.locked());

    let r = ran.clone();
    let bt = blocking::Timer::new(Duration::ZERO, move || r.store(true, Ordering::SeqCst));
    bt.set_name("sh-btimer");
    bt.start().unwrap();
    assert_panicked(bt.join(), "sh-btimer", Some("start hook boom in sh-btimer"));
    assert_gone((*bt).as_async());
    assert!(!lock.locked());

    mt_runtime().block_on(async {
        let r = ran.clone();
        let t = Thread::builder()
            .name("sh-task")
            .target(move || async move { r.store(true, Ordering::SeqCst) });
        t.start().unwrap();
        assert_panicked(
            t.join().await,
            "sh-task",
            Some("start hook boom in sh-task"),
        );
        assert_gone(&t);
        assert_reported(&calls, &t, Some("start hook boom in sh-task"));
        assert!(!lock.locked());

        let r = ran.clone();
        let p = Thread::builder()
            .name("sh-pool")
            .blocking_target(move || r.store(true, Ordering::SeqCst));
        p.start().unwrap();
        assert_panicked(
            p.join().await,
            "sh-pool",
            Some("start hook boom in sh-pool"),
        );
        assert_gone(&p);
        assert_reported(&calls, &p, Some("start hook boom in sh-pool"));
        assert!(!lock.locked());

        let r = ran.clone();
        let timer = threading::Timer::new(Duration::ZERO, move || async move {
            r.store(true, Ordering::SeqCst)
        });
        timer.set_name("sh-timer");
        timer.start().unwrap();
        assert_panicked(
            timer.join().await,
            "sh-timer",
            Some("start hook boom in sh-timer"),
        );
        assert_gone(&timer);
        assert!(!lock.locked());
    });
    assert!(
        !ran.load(Ordering::SeqCst),
        "a target ran after its start hook panicked"
    );

    // Threads the hook lets through still run; the process carries on.
    let r = ran.clone();
    let t = blocking::Thread::builder()
        .name("ok")
        .target(move || r.store(true, Ordering::SeqCst));
    t.start().unwrap();
    let start = Instant::now();
    assert_eq!(t.join(), Ok(Some(())));
    assert_quick(start, LATE);
    assert!(ran.load(Ordering::SeqCst));
}
