//! `Thread` and the module functions: Python's `threading.Thread`, `current_thread()`,
//! `enumerate()`, `excepthook` and friends, for OS threads and tokio tasks alike.
//!
//! # Implementation
//!
//! Every thread the crate knows (started by it, the main thread, or a dummy for a foreign
//! thread) has one [`Record`] behind an `Arc`: its name, daemon flag, lifecycle, ids and
//! outcome under a small mutex, plus two [`Event`]s, `started` and `finished`. Joins wait
//! on `finished` through the waiting core, so a plain thread and a task can join any kind
//! of thread, with timeouts. The registry (16 mutex-guarded shards) maps the idents of
//! the threads that are alive to their records; it is what `enumerate()` lists. Lock
//! order: a record's `meta`, then the registry; nothing takes a record's `meta` while
//! holding the registry. No user code runs under any of these locks nor the settings'
//! (hooks, their `Drop`, a target's value, a `fmt::Write`): what is replaced is moved out
//! and dropped after unlocking.
//!
//! A start that the OS or the runtime refuses leaves no joiner waiting: the thread is
//! `Starting` while its launch runs, which reads as not started, and becomes `Started`
//! only once the spawn succeeded or the new thread runs.
//!
//! The current thread is found in this order: the task-local record of a `Thread` running
//! as a task (or `spawn_blocking` closure), the record of the OS thread (a thread this
//! crate started, the main thread, or a dummy made on first use), so `current_thread()`
//! in a task started by this crate gives that `Thread`, not the worker.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::FutureExt;

use crate::error::{DaemonError, JoinError, PanicError, StackSizeError, StartError};
use crate::event::Event;
use crate::wait::slots::{self, TaskContext};
use crate::wait::Counter;

// ---------------------------------------------------------------------------------------
// The record of one thread.
// ---------------------------------------------------------------------------------------

/// What runs a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// The process's main thread.
    Main,
    /// A thread this crate did not start (Python's `_DummyThread`).
    Dummy,
    /// A tokio task running an `async` target.
    Task,
    /// A `spawn_blocking` closure.
    Pool,
    /// An OS thread this crate started.
    Os,
}

/// A thread's name: automatic (`Thread-N`, with the target's name when Rust gives one) or
/// given. Automatic names are formatted when read, so starting a thread allocates no name.
enum Name {
    Auto {
        n: u64,
        target: Option<&'static str>,
        prefix: &'static str,
    },
    Given(String),
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto {
                n,
                target: Some(t),
                prefix,
            } => write!(f, "{prefix}-{n} ({t})"),
            Self::Auto {
                n,
                target: None,
                prefix,
            } => write!(f, "{prefix}-{n}"),
            Self::Given(s) => f.write_str(s),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Life {
    /// Made, not started.
    New,
    /// `start()` is under way: the thread may still be refused. It reads as not started
    /// (joins return `NotStarted` at once, as in Python before the new thread runs), so no
    /// join ever waits for a thread that will not run.
    Starting,
    /// Started and not yet finished: `start()` saw the spawn succeed, or the new thread
    /// began to run, whichever came first.
    Started,
    /// The target returned, panicked, or its task was dropped.
    Finished,
    /// `start()` failed: the OS or the runtime refused it.
    Failed,
}

/// How a thread ended.
enum Outcome {
    Running,
    /// The target's value, until a joiner takes it.
    Returned(Option<Box<dyn Any + Send>>),
    Panicked(PanicError),
    Cancelled,
}

/// Starts a thread. Called once, or again after it failed with `NoRuntime` (which leaves
/// the target in place, so a later `start()` inside a runtime can run it). It calls
/// [`publish`] just before it spawns, and fails with `NoRuntime` only before that.
type Launch = Box<dyn FnMut(&Arc<Record>) -> Result<(), StartError> + Send>;

struct Meta {
    name: Name,
    daemon: bool,
    life: Life,
    ident: Option<u64>,
    native_id: Option<u64>,
    launch: Option<Launch>,
    outcome: Outcome,
}

/// The shared state of one thread.
pub(crate) struct Record {
    kind: Kind,
    /// The class name in `Debug`: `Thread`, `Timer`, `_MainThread` or `_DummyThread`.
    class: &'static str,
    started: Event,
    finished: Event,
    meta: Mutex<Meta>,
}

/// Lock a mutex of this module. No user code runs under these locks, so a poisoned one
/// can only come from a bug here that already panicked; its data is still consistent.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Record {
    fn meta(&self) -> MutexGuard<'_, Meta> {
        lock(&self.meta)
    }

    fn name(&self) -> String {
        self.meta().name.to_string()
    }

    fn ident(&self) -> Option<u64> {
        self.meta().ident
    }

    fn daemon(&self) -> bool {
        self.meta().daemon
    }
}

// ---------------------------------------------------------------------------------------
// The registry and the process-wide settings.
// ---------------------------------------------------------------------------------------

/// An excepthook: see [`set_excepthook`].
type Hook = Arc<dyn Fn(&ExceptHookArgs<'_>) + Send + Sync>;
/// A start hook: see [`set_start_hook`].
type StartHook = Arc<dyn Fn(&Thread) + Send + Sync>;

/// The process-wide settings.
struct Settings {
    main: Option<Arc<Record>>,
    stack_size: usize,
    excepthook: Option<Hook>,
    start_hook: Option<StartHook>,
}

static SETTINGS: Mutex<Settings> = Mutex::new(Settings {
    main: None,
    stack_size: 0,
    excepthook: None,
    start_hook: None,
});

fn settings() -> MutexGuard<'static, Settings> {
    lock(&SETTINGS)
}

/// The threads that are alive, by ident: started and not finished, the main thread, and
/// the dummies of foreign threads that are still running. Sharded by ident, so a thread
/// that starts and one that ends rarely take the same lock.
static ALIVE: [Mutex<BTreeMap<u64, Arc<Record>>>; SHARDS] =
    [const { Mutex::new(BTreeMap::new()) }; SHARDS];

const SHARDS: usize = 16;

fn shard(ident: u64) -> MutexGuard<'static, BTreeMap<u64, Arc<Record>>> {
    // The cast keeps the low bits, which is all the modulo needs.
    lock(&ALIVE[(ident % SHARDS as u64) as usize])
}

/// List `rec` under `ident`. A record it replaces (a stale dummy) is dropped after the
/// shard's lock is released: a record's drop may drop user values (a target, a result).
fn register(ident: u64, rec: &Arc<Record>) {
    let replaced = shard(ident).insert(ident, rec.clone());
    drop(replaced);
}

/// Remove `rec` from the registry. A dummy's ident may already name a newer record, so
/// only this record is removed; it is dropped after the shard's lock is released.
fn unregister(ident: u64, rec: &Arc<Record>) {
    let removed = {
        let mut alive = shard(ident);
        if alive.get(&ident).is_some_and(|r| Arc::ptr_eq(r, rec)) {
            alive.remove(&ident)
        } else {
            None
        }
    };
    drop(removed);
}

/// Every record in the registry, sorted by ident.
fn alive_records() -> Vec<Arc<Record>> {
    let mut all: Vec<(u64, Arc<Record>)> = Vec::new();
    for s in &ALIVE {
        all.extend(lock(s).iter().map(|(i, r)| (*i, r.clone())));
    }
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

const MAIN_IDENT: u64 = 1;

/// The smallest stack `set_stack_size` accepts, as CPython's 32 KiB.
const MIN_STACK: usize = 32 * 1024;

/// Idents; 1 is the main thread's.
static IDENTS: Counter = Counter::new(MAIN_IDENT + 1);
/// The one counter of automatic names (`Thread-N`, `Dummy-N`), from 1 (CONFORMANCE T-5).
static NAMES: Counter = Counter::new(1);

// ---------------------------------------------------------------------------------------
// Where the current thread is found.
// ---------------------------------------------------------------------------------------

tokio::task_local! {
    /// The record of the `Thread` a task (or `spawn_blocking` closure) runs.
    static TASK: Arc<Record>;
}

/// What this crate knows about the calling OS thread's identity. It has no destructor, so
/// it stays readable while the thread's other thread-locals are torn down.
struct OsIds {
    /// Its ident (0 until first needed).
    ident: Cell<u64>,
    /// Its kernel thread id (Linux), once read.
    native_id: Cell<Option<Option<u64>>>,
    /// Whether it is the process's main thread, once known.
    is_main: Cell<Option<bool>>,
}

/// The record of the calling OS thread: a thread this crate started, the main thread, or a
/// dummy.
struct OsRecord(RefCell<Option<Arc<Record>>>);

impl Drop for OsRecord {
    fn drop(&mut self) {
        // A foreign thread is ending: its dummy leaves `enumerate()` (CONFORMANCE M-4).
        if let Some(rec) = self.0.get_mut().take() {
            if rec.kind == Kind::Dummy {
                finish(&rec, Outcome::Returned(None));
            }
        }
    }
}

thread_local! {
    static OS: OsIds = const {
        OsIds {
            ident: Cell::new(0),
            native_id: Cell::new(None),
            is_main: Cell::new(None),
        }
    };
    static RECORD: OsRecord = const { OsRecord(RefCell::new(None)) };
}

/// The OS id of the calling thread: the kernel's thread id on Linux (read once per thread
/// from `/proc/thread-self`), else this crate's ident of the thread.
fn os_native_id() -> u64 {
    tid().unwrap_or_else(os_ident)
}

/// The kernel's id of the calling thread on Linux, read once per thread.
fn tid() -> Option<u64> {
    OS.try_with(|t| match t.native_id.get() {
        Some(id) => id,
        None => {
            let id = read_tid();
            t.native_id.set(Some(id));
            id
        }
    })
    .unwrap_or_else(|_| read_tid())
}

/// Read the kernel's id of the calling thread, on Linux.
fn read_tid() -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// Whether the calling OS thread is the process's main thread: on Linux its thread id is
/// the process id; elsewhere, std names the main thread `main`. Found once per thread.
fn is_main_os_thread() -> bool {
    let find = || match tid() {
        Some(tid) => tid == u64::from(std::process::id()),
        None => std::thread::current().name() == Some("main"),
    };
    OS.try_with(|t| match t.is_main.get() {
        Some(m) => m,
        None => {
            let m = find();
            t.is_main.set(Some(m));
            m
        }
    })
    .unwrap_or_else(|_| find())
}

/// The ident of the calling OS thread, made on first use.
fn os_ident() -> u64 {
    OS.try_with(|t| {
        let mut id = t.ident.get();
        if id == 0 {
            id = if is_main_os_thread() {
                MAIN_IDENT
            } else {
                IDENTS.next()
            };
            t.ident.set(id);
        }
        id
    })
    .unwrap_or(0)
}

/// The record of the task this code runs in, if it is a `Thread` of this crate.
fn task_record() -> Option<Arc<Record>> {
    TASK.try_with(Arc::clone).ok()
}

/// The main thread's record, made on first use.
fn main_record() -> Arc<Record> {
    let mut settings = settings();
    if let Some(m) = &settings.main {
        return m.clone();
    }
    let native_id = cfg!(target_os = "linux").then(|| u64::from(std::process::id()));
    let rec = Arc::new(Record {
        kind: Kind::Main,
        class: "_MainThread",
        started: Event::new(),
        finished: Event::new(),
        meta: Mutex::new(Meta {
            name: Name::Given("MainThread".into()),
            daemon: false,
            life: Life::Started,
            ident: Some(MAIN_IDENT),
            native_id,
            launch: None,
            outcome: Outcome::Running,
        }),
    });
    rec.started.set();
    register(MAIN_IDENT, &rec);
    settings.main = Some(rec.clone());
    rec
}

/// The record of the calling thread or task, making a dummy for a foreign thread.
fn current_record() -> Arc<Record> {
    if let Some(r) = task_record() {
        return r;
    }
    let found = RECORD.try_with(|t| t.0.borrow().clone());
    match found {
        Ok(Some(r)) => r,
        Ok(None) => {
            let rec = if is_main_os_thread() {
                main_record()
            } else {
                new_dummy()
            };
            let _ = RECORD.try_with(|t| *t.0.borrow_mut() = Some(rec.clone()));
            rec
        }
        // The thread's record is torn down (a late thread-local destructor): the main
        // thread is still itself; another thread gets an unregistered dummy with its ident.
        Err(_) if is_main_os_thread() => main_record(),
        Err(_) => dummy_record(NAMES.next(), os_ident()),
    }
}

fn dummy_record(n: u64, ident: u64) -> Arc<Record> {
    let rec = Arc::new(Record {
        kind: Kind::Dummy,
        class: "_DummyThread",
        started: Event::new(),
        finished: Event::new(),
        meta: Mutex::new(Meta {
            name: Name::Auto {
                n,
                target: None,
                prefix: "Dummy",
            },
            daemon: true,
            life: Life::Started,
            ident: Some(ident),
            native_id: Some(os_native_id()),
            launch: None,
            outcome: Outcome::Running,
        }),
    });
    rec.started.set();
    rec
}

/// A registered dummy for the calling foreign thread (CONFORMANCE M-3).
fn new_dummy() -> Arc<Record> {
    let ident = os_ident();
    let n = NAMES.next();
    let rec = dummy_record(n, ident);
    register(ident, &rec);
    rec
}

/// The daemon flag a new thread inherits from the one making it (CONFORMANCE T-8): that
/// thread's flag; false from the main thread; true from a foreign thread, whose dummy is a
/// daemon. Registers no dummy.
fn inherited_daemon() -> bool {
    if let Some(r) = task_record() {
        return r.daemon();
    }
    match RECORD.try_with(|t| t.0.borrow().as_ref().map(|r| r.daemon())) {
        Ok(Some(d)) => d,
        _ => !is_main_os_thread(),
    }
}

// ---------------------------------------------------------------------------------------
// Starting, running and finishing.
// ---------------------------------------------------------------------------------------

/// The name of a target, as Python's `target.__name__`: a function item's last path
/// segment; closures and futures have none.
fn target_name<F>() -> Option<&'static str> {
    let full = std::any::type_name::<F>();
    // Function items take no space; boxes, function pointers and references do, and
    // closures have `{{closure}}` in their type name: none of those has a name.
    if std::mem::size_of::<F>() != 0 || full.contains('{') {
        return None;
    }
    let path = full.split('<').next().unwrap_or(full);
    path.rsplit("::").next().filter(|s| !s.is_empty())
}

/// Make the record of a new, unstarted thread.
fn new_record(
    kind: Kind,
    class: &'static str,
    name: Option<String>,
    target: Option<&'static str>,
    daemon: Option<bool>,
    launch: Launch,
) -> Arc<Record> {
    let daemon = daemon.unwrap_or_else(inherited_daemon);
    let name = match name.filter(|n| !n.is_empty()) {
        Some(n) => Name::Given(n),
        None => Name::Auto {
            n: NAMES.next(),
            target,
            prefix: "Thread",
        },
    };
    Arc::new(Record {
        kind,
        class,
        started: Event::new(),
        finished: Event::new(),
        meta: Mutex::new(Meta {
            name,
            daemon,
            life: Life::New,
            ident: None,
            native_id: None,
            launch: Some(launch),
            outcome: Outcome::Running,
        }),
    })
}

/// Start a thread. While the launch runs the thread is `Starting`: it reads as not
/// started, so a join racing a start that fails returns `NotStarted` at once instead of
/// waiting for a thread that never runs. It is `Started` only once the spawn succeeded
/// (or the new thread runs).
fn start(rec: &Arc<Record>) -> Result<(), StartError> {
    let mut launch = {
        let mut m = rec.meta();
        if m.life != Life::New {
            return Err(StartError::AlreadyStarted);
        }
        let Some(launch) = m.launch.take() else {
            return Err(StartError::AlreadyStarted);
        };
        m.life = Life::Starting;
        launch
    };
    let result = launch(rec);
    match &result {
        Ok(()) => mark_started(rec),
        Err(e) => {
            let retry = matches!(e, StartError::NoRuntime);
            let (ident, spent) = {
                let mut m = rec.meta();
                let ident = m.ident.take();
                if retry {
                    // Nothing ran and the target is still there: start() may be tried
                    // again.
                    m.life = Life::New;
                    m.launch = Some(launch);
                    (ident, None)
                } else {
                    m.life = Life::Failed;
                    (ident, Some(launch))
                }
            };
            // What is left of the launch is dropped with no lock held.
            drop(spent);
            // Not left registered (CONFORMANCE T-26).
            if let Some(ident) = ident {
                debug_assert!(!retry, "a launch fails with NoRuntime before it publishes");
                unregister(ident, rec);
                // A shutdown may be waiting for the thread it found listed: it will never
                // run, so wake that wait (joins go by `life`, which says not started).
                rec.finished.set();
            }
        }
    }
    result
}

/// Give a starting thread its ident and list it: each launch calls this just before it
/// spawns, so the new thread sees itself in `enumerate()` from its first step.
fn publish(rec: &Arc<Record>) -> u64 {
    let ident = IDENTS.next();
    rec.meta().ident = Some(ident);
    register(ident, rec);
    ident
}

/// The thread is known to run: `start()` saw its spawn succeed, or its body began. A
/// thread that has already finished stays finished.
fn mark_started(rec: &Record) {
    let mut m = rec.meta();
    if m.life == Life::Starting {
        m.life = Life::Started;
    }
}

/// A thread's end, run exactly once: record the outcome, leave the registry, then wake
/// the joiners, so a returned join never sees the thread in `enumerate()` (M-8).
fn finish(rec: &Arc<Record>, outcome: Outcome) {
    let old = {
        let mut m = rec.meta();
        let old = std::mem::replace(&mut m.outcome, outcome);
        m.life = Life::Finished;
        if let Some(ident) = m.ident {
            unregister(ident, rec);
        }
        old
    };
    // Always `Running` (a thread finishes once); dropped unlocked all the same.
    drop(old);
    rec.finished.set();
}

/// How a thread ended, from its target's result; a panic goes to the excepthook first.
fn outcome_of(rec: &Arc<Record>, result: std::thread::Result<Box<dyn Any + Send>>) -> Outcome {
    match result {
        Ok(value) => Outcome::Returned(Some(value)),
        Err(payload) => {
            let thread = Thread::<()>::from_record(rec.clone());
            call_excepthook(&ExceptHookArgs {
                payload: &*payload,
                thread: Some(&thread),
            });
            Outcome::Panicked(PanicError {
                thread: rec.name(),
                message: panic_message(&*payload).map(str::to_owned),
            })
        }
    }
}

fn run_start_hook(rec: &Arc<Record>) {
    let hook = settings().start_hook.clone();
    if let Some(hook) = hook {
        hook(&Thread::from_record(rec.clone()));
    }
}

/// Marks a thread finished when dropped before it could finish normally: a task dropped
/// by its runtime, or a `spawn_blocking` closure that never ran.
struct Ending(Option<Arc<Record>>);

impl Ending {
    fn finish(mut self, result: std::thread::Result<Box<dyn Any + Send>>) {
        if let Some(rec) = self.0.take() {
            let outcome = outcome_of(&rec, result);
            finish(&rec, outcome);
        }
    }
}

impl Drop for Ending {
    fn drop(&mut self) {
        if let Some(rec) = self.0.take() {
            finish(&rec, Outcome::Cancelled);
        }
    }
}

fn boxed<T: Send + 'static>(v: T) -> Box<dyn Any + Send> {
    Box::new(v)
}

/// The launch of an `async` target: a task on the current runtime, or on the runtime the
/// `Thread` was made on.
fn task_launch<T, F, Fut>(target: F) -> Launch
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let made_on = tokio::runtime::Handle::try_current().ok();
    let mut target = Some(target);
    Box::new(move |rec: &Arc<Record>| {
        let handle = tokio::runtime::Handle::try_current()
            .ok()
            .or_else(|| made_on.clone())
            .ok_or(StartError::NoRuntime)?;
        let target = target.take().ok_or(StartError::AlreadyStarted)?;
        let ending = Ending(Some(rec.clone()));
        let r = rec.clone();
        let body = async move {
            let ending = ending;
            mark_started(&r);
            // The thread's `Local` values are dropped when the scope ends, before the end
            // is reported; a panic in one of their `Drop`s counts as the thread's.
            let run = async move {
                run_start_hook(&r);
                boxed(target().await)
            };
            let result = AssertUnwindSafe(slots::scope(TaskContext::new(), run))
                .catch_unwind()
                .await;
            ending.finish(result);
        };
        publish(rec);
        drop(handle.spawn(TASK.scope(rec.clone(), body)));
        Ok(())
    })
}

/// The launch of a blocking target on the runtime's `spawn_blocking` pool.
fn pool_launch<T, F>(target: F) -> Launch
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let made_on = tokio::runtime::Handle::try_current().ok();
    let mut target = Some(target);
    Box::new(move |rec: &Arc<Record>| {
        let handle = tokio::runtime::Handle::try_current()
            .ok()
            .or_else(|| made_on.clone())
            .ok_or(StartError::NoRuntime)?;
        let target = target.take().ok_or(StartError::AlreadyStarted)?;
        let ending = Ending(Some(rec.clone()));
        let r = rec.clone();
        publish(rec);
        drop(handle.spawn_blocking(move || {
            let ending = ending;
            let native_id = os_native_id();
            r.meta().native_id = Some(native_id);
            mark_started(&r);
            TASK.sync_scope(r.clone(), || {
                let result = catch_unwind(AssertUnwindSafe(|| {
                    slots::scope_sync(TaskContext::new(), || {
                        run_start_hook(&r);
                        boxed(target())
                    })
                }));
                ending.finish(result);
            });
        }));
        Ok(())
    })
}

/// The OS name of a thread: cut at a NUL, and on Linux to the kernel's 15 bytes, at a
/// character boundary (CONFORMANCE T-7).
fn os_thread_name(name: &str) -> String {
    let mut s = name.split('\0').next().unwrap_or("");
    if cfg!(target_os = "linux") && s.len() > 15 {
        let mut end = 15;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s = &s[..end];
    }
    s.to_owned()
}

/// The launch of an OS thread; `start()` returns once it runs (CONFORMANCE T-15).
fn os_launch<T, F>(target: F, stack_size: Option<usize>) -> Launch
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let mut target = Some(target);
    Box::new(move |rec: &Arc<Record>| {
        let target = target.take().ok_or(StartError::AlreadyStarted)?;
        let mut builder = std::thread::Builder::new().name(os_thread_name(&rec.name()));
        let size = stack_size.unwrap_or_else(|| settings().stack_size);
        if size != 0 {
            builder = builder.stack_size(size);
        }
        let r = rec.clone();
        let ident = publish(rec);
        builder
            .spawn(move || {
                let _ = OS.try_with(|t| t.ident.set(ident));
                let _ = RECORD.try_with(|t| *t.0.borrow_mut() = Some(r.clone()));
                let native_id = os_native_id();
                r.meta().native_id = Some(native_id);
                mark_started(&r);
                r.started.set();
                let ending = Ending(Some(r.clone()));
                let mut result = catch_unwind(AssertUnwindSafe(|| {
                    run_start_hook(&r);
                    boxed(target())
                }));
                // Drop this thread's `Local` values before the end is reported; a panic in
                // one of their `Drop`s counts as the thread's.
                if let Some(p) = slots::end_thread_context() {
                    if result.is_ok() {
                        result = Err(p);
                    }
                }
                ending.finish(result);
            })
            .map_err(StartError::Spawn)?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// The handles.
// ---------------------------------------------------------------------------------------

/// The state both forms of a thread handle wrap.
pub(crate) struct ThreadState<T> {
    rec: Arc<Record>,
    _value: PhantomData<fn() -> T>,
}

/// A thread of control, with an async interface: Python's `threading.Thread`, run as a
/// tokio task ([`Thread::new`], for an `async` target) or on tokio's blocking pool
/// ([`Thread::new_blocking`], for a closure). The blocking form,
/// [`threading::blocking::Thread`](crate::blocking::Thread), runs an OS thread.
///
/// A `Thread` is made, then [started](Thread::start) once, then [joined](Thread::join) by
/// any number of joiners, tasks or threads, each with or without a timeout. The handle is
/// cheap to clone; clones are the same thread. `T` is the target's return value: the first
/// join that returns after the end takes it, as `Some(value)`; later joins get `None`.
/// A panic in the target goes to the [excepthook](crate::set_excepthook) and, as
/// [`JoinError::Panicked`], to every joiner; it never takes the process down.
///
/// `Thread` (with the default `T = ()`) is also the handle that [`current_thread`],
/// [`main_thread`] and [`enumerate`] return: it has every method, and its joins return
/// `Ok(None)` (it does not know the return type).
///
/// # Examples
///
/// ```
/// use threading::Thread;
///
/// async fn fetch() -> u32 {
///     42
/// }
///
/// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
/// # async fn main() {
/// let t = Thread::new(fetch);
/// assert_eq!(t.name().split(' ').nth(1), Some("(fetch)")); // "Thread-N (fetch)"
/// t.start().unwrap();
/// assert_eq!(t.join().await, Ok(Some(42)));
/// assert!(!t.is_alive());
///
/// // A plain thread can join a task, with a timeout.
/// let t = Thread::new(|| async { "done" });
/// t.start().unwrap();
/// let b = t.clone().into_blocking();
/// let joiner = std::thread::spawn(move || b.join_timeout(std::time::Duration::from_secs(10)));
/// assert_eq!(joiner.join().unwrap(), Ok(Some("done")));
/// # }
/// ```
#[repr(transparent)]
pub struct Thread<T = ()> {
    state: ThreadState<T>,
}

/// The blocking form of [`Thread`](crate::Thread): an OS thread with no runtime needed
/// ([`new`](BlockingThread::new)), and blocking joins that can wait for any kind of thread,
/// tasks included.
///
/// # Examples
///
/// ```
/// use threading::blocking::Thread;
///
/// let t = Thread::builder().name("worker").target(|| 6 * 7);
/// t.start().unwrap();
/// assert_eq!(t.ident().is_some(), true);
/// assert_eq!(t.join(), Ok(Some(42)));
/// assert_eq!(t.join(), Ok(None)); // the value went to the first joiner
/// ```
#[repr(transparent)]
pub struct BlockingThread<T = ()> {
    state: ThreadState<T>,
}

// SAFETY: both forms are `#[repr(transparent)]` over `ThreadState<T>` alone, with no `Drop`.
unsafe impl<T> crate::forms::Form for Thread<T> {
    type State = ThreadState<T>;
}
// SAFETY: as above.
unsafe impl<T> crate::forms::Form for BlockingThread<T> {
    type State = ThreadState<T>;
}

/// The methods both forms share.
macro_rules! thread_common {
    ($ty:ident, $path:literal, $noop:literal) => {
        impl<T> $ty<T> {
            pub(crate) fn from_record(rec: Arc<Record>) -> Self {
                Self {
                    state: ThreadState {
                        rec,
                        _value: PhantomData,
                    },
                }
            }

            fn rec(&self) -> &Arc<Record> {
                &self.state.rec
            }

            /// Start the thread: run its target on a task, the blocking pool or an OS
            /// thread. Returns once the thread is registered: it is then alive, listed by
            /// [`enumerate`](crate::enumerate), and has its ident; an OS thread's
            /// [`native_id`](Self::native_id) is readable from then on (reading it waits
            /// the few microseconds until the new thread runs, if it has not yet).
            ///
            /// # Errors
            /// - [`StartError::AlreadyStarted`] if it was started before (even if it has
            ///   ended), or for the main thread or a dummy thread;
            /// - [`StartError::NoRuntime`] for a thread that runs on tokio (a task or a
            ///   `spawn_blocking` closure) when no runtime is current, here or where it was
            ///   made: nothing ran, and `start` may be called again inside a runtime;
            /// - [`StartError::Spawn`] if the OS refuses a thread: nothing is registered,
            ///   and the thread cannot be started again.
            ///
            /// After either refusal the thread reads as never started: not alive, no
            /// ident, and every join returns [`JoinError::NotStarted`] at once, one that
            /// raced the failed `start` included (until the spawn succeeds or the new
            /// thread runs, a join finds the thread not started).
            ///
            /// # Runtime threads
            /// Never waits, on any thread: it spawns the task, the `spawn_blocking`
            /// closure or the OS thread and returns.
            ///
            /// # Examples
            ///
            /// ```
            /// let t = threading::blocking::Thread::new(|| ());
            /// t.start().unwrap();
            /// assert!(t.start().is_err());
            /// # t.join().unwrap();
            /// ```
            pub fn start(&self) -> Result<(), StartError> {
                start(self.rec())
            }

            /// The thread's name: given, or `Thread-N` (with ` (target)` when the target
            /// is a named function), `MainThread`, or `Dummy-N`. Only for identification;
            /// several threads may share one.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let t = ", $path, "::builder().name(123).target(", $noop, ");")]
            /// assert_eq!(t.name(), "123");
            /// ```
            pub fn name(&self) -> String {
                self.rec().name()
            }

            /// Rename the thread. An OS thread this crate started keeps its OS-level
            /// name (Rust cannot rename a running thread without `libc`); the new name is
            /// what [`name`](Self::name) and `Debug` show.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let t = ", $path, "::builder().target(", $noop, ");")]
            /// t.set_name("renamed");
            /// assert_eq!(t.name(), "renamed");
            /// ```
            pub fn set_name(&self, name: impl ToString) {
                // `to_string` is user code: run it before the lock, and drop the old name
                // after.
                let name = Name::Given(name.to_string());
                let old = std::mem::replace(&mut self.rec().meta().name, name);
                drop(old);
            }

            /// The thread's ident: `None` before [`start`](Self::start) (and after a start
            /// that was refused), then a nonzero number that
            /// [`get_ident`](crate::get_ident) returns inside the thread, kept after it
            /// ends. Idents are never reused within a process.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let t = ", $path, "::builder().target(", $noop, ");")]
            /// assert_eq!(t.ident(), None);
            /// ```
            pub fn ident(&self) -> Option<u64> {
                self.rec().ident()
            }

            /// The OS id of the thread (the kernel's thread id on Linux): `None` before
            /// [`start`](Self::start); for an OS thread, known once `start` has returned
            /// (if the new thread has not run yet, this waits the few microseconds until
            /// it has); for a `spawn_blocking` thread, once the pool thread picks it up.
            /// Always `None` for a task-thread, which has no OS thread of its own.
            ///
            /// # Runtime threads
            /// The short wait for a new OS thread is inside `block_in_place` on a tokio
            /// multi-thread runtime's worker, and parks the thread elsewhere.
            ///
            /// # Panics
            /// Inside a `LocalSet` driven by a multi-thread runtime, where tokio refuses
            /// `block_in_place`, if it has to wait for the new thread.
            ///
            /// # Examples
            ///
            /// ```
            /// let t = threading::blocking::Thread::new(|| ());
            /// t.start().unwrap();
            /// assert!(t.native_id().is_some());
            /// # t.join().unwrap();
            /// ```
            pub fn native_id(&self) -> Option<u64> {
                let rec = self.rec();
                if rec.kind == Kind::Os && rec.meta().life == Life::Started {
                    // Started, but the new thread may not have run yet: it sets its id
                    // before it signals `started`, first thing.
                    rec.started.blocking().wait();
                }
                rec.meta().native_id
            }

            /// Whether this is a daemon thread: [`shutdown`](crate::blocking::shutdown)
            /// does not wait for daemons. By default a thread inherits the flag of the
            /// thread that made it (false from the main thread, true from a thread this
            /// crate did not start).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let t = ", $path, "::builder().daemon(true).target(", $noop, ");")]
            /// assert!(t.daemon());
            /// ```
            pub fn daemon(&self) -> bool {
                self.rec().daemon()
            }

            /// Set the daemon flag, before [`start`](Self::start).
            ///
            /// # Errors
            /// [`DaemonError`] once the thread has started; the flag is unchanged.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let t = ", $path, "::builder().target(", $noop, ");")]
            /// t.set_daemon(false).unwrap();
            /// assert!(!t.daemon());
            /// ```
            pub fn set_daemon(&self, daemon: bool) -> Result<(), DaemonError> {
                let mut m = self.rec().meta();
                if m.life != Life::New {
                    return Err(DaemonError(()));
                }
                m.daemon = daemon;
                Ok(())
            }

            /// Whether the thread is alive: from the return of [`start`](Self::start)
            /// until its target ends (a dummy thread: while its OS thread runs; the main
            /// thread: until [`shutdown`](crate::blocking::shutdown)).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let t = ", $path, "::builder().target(", $noop, ");")]
            /// assert!(!t.is_alive());
            /// ```
            pub fn is_alive(&self) -> bool {
                self.rec().meta().life == Life::Started && !self.rec().finished.is_set()
            }

            /// Why this thread cannot be joined from here, if it cannot: a dummy, not
            /// started, or the caller itself.
            fn check_joinable(&self) -> Result<(), JoinError> {
                let rec = self.rec();
                if rec.kind == Kind::Dummy {
                    return Err(JoinError::Dummy);
                }
                let ident = {
                    let m = rec.meta();
                    // Also while `start()` is under way: a start that fails must leave no
                    // joiner waiting.
                    if matches!(m.life, Life::New | Life::Starting | Life::Failed) {
                        return Err(JoinError::NotStarted);
                    }
                    m.ident
                };
                if ident == Some(get_ident()) {
                    return Err(JoinError::CurrentThread);
                }
                Ok(())
            }
        }

        impl<T: 'static> $ty<T> {
            /// The outcome of a finished thread for one joiner.
            fn outcome(&self) -> Result<Option<T>, JoinError> {
                let mut m = self.rec().meta();
                match &mut m.outcome {
                    Outcome::Returned(v) => {
                        if v.as_ref().is_some_and(|b| b.is::<T>()) {
                            let b = v.take().expect("checked above");
                            Ok(b.downcast::<T>().ok().map(|b| *b))
                        } else {
                            Ok(None)
                        }
                    }
                    Outcome::Panicked(p) => Err(JoinError::Panicked(p.clone())),
                    Outcome::Cancelled => Err(JoinError::Cancelled),
                    // The main thread, done at shutdown.
                    Outcome::Running => Ok(None),
                }
            }
        }

        impl<T> Clone for $ty<T> {
            fn clone(&self) -> Self {
                Self::from_record(self.rec().clone())
            }
        }

        impl<T, U> PartialEq<$ty<U>> for $ty<T> {
            /// Two handles are equal when they are the same thread.
            fn eq(&self, other: &$ty<U>) -> bool {
                Arc::ptr_eq(self.rec(), other.rec())
            }
        }

        impl<T> Eq for $ty<T> {}

        impl<T> fmt::Debug for $ty<T> {
            /// Python's repr: `<Thread(Thread-1 (work), started daemon 5)>`; `initial`
            /// before start, `stopped` once ended.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt_record(self.rec(), f)
            }
        }
    };
}

thread_common!(Thread, "threading::Thread", "|| async {}");
thread_common!(BlockingThread, "threading::blocking::Thread", "|| ()");

fn fmt_record(rec: &Record, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // Read under the lock, write after it: the formatter may write to a user's `fmt::Write`,
    // whose code must not run under a lock of the crate.
    let (name, status, daemon, ident) = {
        let m = rec.meta();
        let status = match m.life {
            Life::New | Life::Starting | Life::Failed => "initial",
            Life::Started if !rec.finished.is_set() => "started",
            _ => "stopped",
        };
        (m.name.to_string(), status, m.daemon, m.ident)
    };
    write!(f, "<{}({name}, {status}", rec.class)?;
    if daemon {
        f.write_str(" daemon")?;
    }
    if let Some(ident) = ident {
        write!(f, " {ident}")?;
    }
    f.write_str(")>")
}

impl<T> Thread<T> {
    /// This thread's blocking form: the same thread, with blocking joins. Free.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::Thread::new(|| async {});
    /// assert_eq!(t.blocking().as_async(), &t);
    /// ```
    pub fn blocking(&self) -> &BlockingThread<T> {
        crate::forms::cast_ref(self)
    }

    /// Turn this handle into its blocking form (the same thread).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::Thread::new(|| async {});
    /// let b = t.clone().into_blocking();
    /// assert_eq!(b.as_async(), &t);
    /// ```
    pub fn into_blocking(self) -> BlockingThread<T> {
        BlockingThread { state: self.state }
    }
}

impl<T> BlockingThread<T> {
    /// This thread's async form: the same thread, with async joins. Free.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::blocking::Thread::new(|| ());
    /// assert_eq!(t.as_async().blocking(), &t);
    /// ```
    pub fn as_async(&self) -> &Thread<T> {
        crate::forms::cast_ref(self)
    }

    /// Turn this handle into its async form (the same thread).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::blocking::Thread::new(|| ());
    /// let a = t.clone().into_async();
    /// assert_eq!(a.blocking(), &t);
    /// ```
    pub fn into_async(self) -> Thread<T> {
        Thread { state: self.state }
    }
}

impl<T: Send + 'static> Thread<T> {
    /// A thread that runs `target()` as a tokio task when started: Python's
    /// `Thread(target=...)` for async code. Its automatic name is `Thread-N (target)` when
    /// `target` is a named `async fn`, else `Thread-N`. The daemon flag is inherited from
    /// the thread that makes it.
    ///
    /// The task runs on the runtime that is current at [`start`](Self::start), else on
    /// the one current here.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let t = threading::Thread::new(|| async { 1 + 1 });
    /// t.start().unwrap();
    /// assert_eq!(t.join().await, Ok(Some(2)));
    /// # }
    /// ```
    pub fn new<F, Fut>(target: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        ThreadBuilder::new().target(target)
    }

    /// A thread that runs the blocking closure `target` on tokio's blocking pool
    /// (`spawn_blocking`) when started. The pool thread keeps tokio's OS name; `name()`
    /// gives this thread's.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let t = threading::Thread::new_blocking(|| std::fs::metadata(".").is_ok());
    /// t.start().unwrap();
    /// assert_eq!(t.join().await, Ok(Some(true)));
    /// # }
    /// ```
    pub fn new_blocking<F>(target: F) -> Self
    where
        F: FnOnce() -> T + Send + 'static,
    {
        ThreadBuilder::new().blocking_target(target)
    }
}

impl Thread {
    /// A builder for a thread's name and daemon flag.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::Thread::builder().name("poller").daemon(true).target(|| async {});
    /// assert_eq!((t.name().as_str(), t.daemon()), ("poller", true));
    /// ```
    pub fn builder() -> ThreadBuilder {
        ThreadBuilder::new()
    }
}

impl<T: 'static> Thread<T> {
    /// Wait until the thread ends; returns the target's value to the first join that sees
    /// the end (`Ok(Some(value))`) and `Ok(None)` to the others. Returns at once if the
    /// thread has ended.
    ///
    /// # Errors
    /// [`JoinError::NotStarted`] (also during a [`start`](Self::start) that has not yet
    /// spawned the thread, and after a refused one), [`JoinError::CurrentThread`] (a task
    /// joining its own thread), [`JoinError::Dummy`], [`JoinError::Panicked`] (to every
    /// joiner), [`JoinError::Cancelled`] (the task was dropped at runtime shutdown).
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future leaves the thread and its value untouched.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // A task awaits an OS thread.
    /// let t = threading::blocking::Thread::new(|| "from a thread").into_async();
    /// t.start().unwrap();
    /// assert_eq!(t.join().await, Ok(Some("from a thread")));
    /// # }
    /// ```
    pub async fn join(&self) -> Result<Option<T>, JoinError> {
        self.check_joinable()?;
        self.rec().finished.wait().await;
        self.outcome()
    }

    /// Wait at most `timeout` for the thread to end (never less while it runs). A zero
    /// timeout just checks; a timeout above [`TIMEOUT_MAX`](crate::TIMEOUT_MAX) waits
    /// forever.
    ///
    /// # Errors
    /// [`JoinError::TimedOut`] if it is still alive; otherwise as [`join`](Self::join).
    ///
    /// # Cancel safety
    /// Cancel safe, as [`join`](Self::join).
    ///
    /// # Panics
    /// If it has to wait (the thread is alive and the timeout is not zero) outside a tokio
    /// runtime, or on one built without the time driver (`enable_time`): the timeout runs
    /// on tokio's timer, which panics there. [`join`](Self::join) needs no timer.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threading::{Event, JoinError, Thread};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let go = Arc::new(Event::new());
    /// let g = go.clone();
    /// let t = Thread::new(move || async move { g.wait().await });
    /// t.start().unwrap();
    /// assert_eq!(t.join_timeout(Duration::from_millis(10)).await, Err(JoinError::TimedOut));
    /// assert!(t.is_alive());
    /// go.set();
    /// assert_eq!(t.join_timeout(Duration::from_secs(10)).await, Ok(Some(())));
    /// # }
    /// ```
    pub async fn join_timeout(&self, timeout: Duration) -> Result<Option<T>, JoinError> {
        self.check_joinable()?;
        if self.rec().finished.wait_timeout(timeout).await {
            self.outcome()
        } else {
            Err(JoinError::TimedOut)
        }
    }
}

impl<T: Send + 'static> BlockingThread<T> {
    /// An OS thread that runs `target` when started; no runtime needed. Its automatic name
    /// is `Thread-N (target)` when `target` is a named function, else `Thread-N`; the OS
    /// thread gets the name too (cut to 15 bytes on Linux). The daemon flag is inherited
    /// from the thread that makes it.
    ///
    /// # Examples
    ///
    /// ```
    /// fn work() -> u8 {
    ///     7
    /// }
    /// let t = threading::blocking::Thread::new(work);
    /// assert!(t.name().ends_with(" (work)"));
    /// t.start().unwrap();
    /// assert_eq!(t.join(), Ok(Some(7)));
    /// ```
    pub fn new<F>(target: F) -> Self
    where
        F: FnOnce() -> T + Send + 'static,
    {
        BlockingThreadBuilder::new().target(target)
    }
}

impl BlockingThread {
    /// A builder for a thread's name, daemon flag and stack size.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::blocking::Thread::builder()
    ///     .name("big")
    ///     .stack_size(1 << 20)
    ///     .target(|| ());
    /// t.start().unwrap();
    /// t.join().unwrap();
    /// ```
    pub fn builder() -> BlockingThreadBuilder {
        BlockingThreadBuilder::new()
    }
}

impl<T: 'static> BlockingThread<T> {
    /// Block until the thread ends; returns the target's value to the first join that
    /// sees the end (`Ok(Some(value))`) and `Ok(None)` to the others. Joins any kind of
    /// thread, tasks included.
    ///
    /// # Errors
    /// As [`Thread::join`].
    ///
    /// # Runtime threads
    /// A thread that has ended is joined at once, on any thread. Otherwise, on a
    /// multi-thread runtime's worker it waits inside `block_in_place`; on a current-thread
    /// runtime it parks the thread, so joining a task of that same runtime deadlocks
    /// there: use [`Thread::join`].
    ///
    /// # Panics
    /// Only where tokio refuses `block_in_place` (a wait inside a `LocalSet` driven by a
    /// multi-thread runtime), and only if it has to wait: with tokio's message.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::blocking::Thread::new(|| vec![1, 2]);
    /// t.start().unwrap();
    /// assert_eq!(t.join(), Ok(Some(vec![1, 2])));
    /// ```
    pub fn join(&self) -> Result<Option<T>, JoinError> {
        self.check_joinable()?;
        self.rec().finished.blocking().wait();
        self.outcome()
    }

    /// Block at most `timeout` for the thread to end (never less while it runs). A zero
    /// timeout just checks; a timeout above [`TIMEOUT_MAX`](crate::TIMEOUT_MAX) waits
    /// forever.
    ///
    /// # Errors
    /// [`JoinError::TimedOut`] if it is still alive; otherwise as [`join`](Self::join).
    ///
    /// # Runtime threads
    /// As [`join`](Self::join). A zero timeout never waits.
    ///
    /// # Panics
    /// As [`join`](Self::join).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = threading::blocking::Thread::new(|| std::thread::sleep(Duration::from_millis(50)));
    /// t.start().unwrap();
    /// let _ = t.join_timeout(Duration::from_millis(1)); // probably TimedOut
    /// assert_eq!(t.join_timeout(Duration::from_secs(10)), Ok(Some(())));
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Result<Option<T>, JoinError> {
        self.check_joinable()?;
        if self.rec().finished.blocking().wait_timeout(timeout) {
            self.outcome()
        } else {
            Err(JoinError::TimedOut)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Builders.
// ---------------------------------------------------------------------------------------

/// The builder of an async-form [`Thread`]: name and daemon flag, then the target.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let t = threading::Thread::builder().name("tick").target(|| async { 3 });
/// t.start().unwrap();
/// assert_eq!(t.join().await, Ok(Some(3)));
/// # }
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a builder does nothing until .target() makes the Thread"]
pub struct ThreadBuilder {
    name: Option<String>,
    daemon: Option<bool>,
}

/// The builder of a blocking-form [`Thread`](crate::blocking::Thread) (an OS thread):
/// name, daemon flag and stack size, then the target.
///
/// # Examples
///
/// ```
/// let t = threading::blocking::Thread::builder().name("io").daemon(true).target(|| 1);
/// t.start().unwrap();
/// assert_eq!(t.join(), Ok(Some(1)));
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a builder does nothing until .target() makes the Thread"]
pub struct BlockingThreadBuilder {
    name: Option<String>,
    daemon: Option<bool>,
    stack_size: Option<usize>,
}

macro_rules! builder_common {
    ($ty:ident, $path:literal) => {
        impl $ty {
            /// A builder with the defaults: an automatic name and an inherited daemon flag.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let b = ", $path, "::new();")]
            /// assert!(format!("{b:?}").contains("name: None, daemon: None"));
            /// ```
            pub fn new() -> Self {
                Self::default()
            }

            /// The thread's name, converted with `to_string` (so `123` gives `"123"`). An
            /// empty name means an automatic one.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let b = ", $path, "::new().name(\"db\");")]
            /// assert!(format!("{b:?}").contains(r#"name: Some("db")"#));
            /// ```
            pub fn name(mut self, name: impl ToString) -> Self {
                self.name = Some(name.to_string());
                self
            }

            /// The daemon flag (default: the flag of the thread that makes it).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let b = ", $path, "::new().daemon(true);")]
            /// assert!(format!("{b:?}").contains("daemon: Some(true)"));
            /// ```
            pub fn daemon(mut self, daemon: bool) -> Self {
                self.daemon = Some(daemon);
                self
            }
        }
    };
}

builder_common!(ThreadBuilder, "threading::ThreadBuilder");
builder_common!(BlockingThreadBuilder, "threading::blocking::ThreadBuilder");

impl ThreadBuilder {
    /// Make the thread, to run the `async` target as a tokio task (see [`Thread::new`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::Thread::builder().name("t").target(|| async {});
    /// assert_eq!(t.name(), "t");
    /// ```
    pub fn target<T, F, Fut>(self, target: F) -> Thread<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        let name = target_name::<F>();
        Thread::from_record(new_record(
            Kind::Task,
            "Thread",
            self.name,
            name,
            self.daemon,
            task_launch(target),
        ))
    }

    /// Make the thread, to run the blocking closure on tokio's blocking pool (see
    /// [`Thread::new_blocking`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::Thread::builder().name("t").blocking_target(|| 1);
    /// assert_eq!(t.name(), "t");
    /// ```
    pub fn blocking_target<T, F>(self, target: F) -> Thread<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let name = target_name::<F>();
        Thread::from_record(new_record(
            Kind::Pool,
            "Thread",
            self.name,
            name,
            self.daemon,
            pool_launch(target),
        ))
    }
}

impl BlockingThreadBuilder {
    /// The OS thread's stack size in bytes (default: [`stack_size`](crate::stack_size)'s
    /// setting, else the platform's).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::blocking::ThreadBuilder::new()
    ///     .stack_size(256 * 1024)
    ///     .target(|| 1 + 1);
    /// t.start().unwrap();
    /// assert_eq!(t.join(), Ok(Some(2)));
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Make the OS thread (see [`blocking::Thread::new`](BlockingThread::new)).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::blocking::Thread::builder().name("t").target(|| ());
    /// assert_eq!(t.name(), "t");
    /// ```
    pub fn target<T, F>(self, target: F) -> BlockingThread<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let name = target_name::<F>();
        BlockingThread::from_record(new_record(
            Kind::Os,
            "Thread",
            self.name,
            name,
            self.daemon,
            os_launch(target, self.stack_size),
        ))
    }
}

/// The thread of an async `Timer`: a task-thread named plainly `Thread-N` (CONFORMANCE T-4).
pub(crate) fn timer_task<F, Fut>(body: F) -> Arc<Record>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    new_record(Kind::Task, "Timer", None, None, None, task_launch(body))
}

/// The thread of a blocking `Timer`: an OS thread named plainly `Thread-N`.
pub(crate) fn timer_os<F>(body: F) -> Arc<Record>
where
    F: FnOnce() + Send + 'static,
{
    new_record(Kind::Os, "Timer", None, None, None, os_launch(body, None))
}

// ---------------------------------------------------------------------------------------
// Module functions.
// ---------------------------------------------------------------------------------------

/// The calling thread: the [`Thread`] of a task this crate started (not the worker it
/// runs on), the thread this crate started, [`main_thread`], or else a dummy thread
/// (`Dummy-N`, a daemon, alive while its OS thread runs, listed by [`enumerate`], and not
/// joinable), made on first call, as Python does for foreign threads.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let t = threading::Thread::new(|| async { threading::current_thread().name() });
/// t.start().unwrap();
/// assert_eq!(t.join().await.unwrap(), Some(t.name()));
/// # }
/// ```
pub fn current_thread() -> Thread {
    Thread::from_record(current_record())
}

/// The main thread: the thread `main` runs on, named `MainThread`, not a daemon. Another
/// thread may join it: the join returns once [`shutdown`](crate::blocking::shutdown) is
/// called on the main thread.
///
/// # Examples
///
/// ```
/// let main = threading::main_thread();
/// assert_eq!(main.name(), "MainThread");
/// assert!(!main.daemon());
/// ```
pub fn main_thread() -> Thread {
    Thread::from_record(main_record())
}

/// Every thread alive: the main thread, every [`Thread`] started and not finished
/// (daemons included), and the dummies of foreign threads that called
/// [`current_thread`]. Sorted by ident.
///
/// # Examples
///
/// ```
/// let t = threading::blocking::Thread::new(|| ());
/// assert!(!threading::enumerate().contains(t.as_async()));
/// ```
pub fn enumerate() -> Vec<Thread> {
    main_record();
    alive_records()
        .into_iter()
        .map(Thread::from_record)
        .collect()
}

/// The number of threads alive: always `enumerate().len()`.
///
/// # Examples
///
/// ```
/// assert!(threading::active_count() >= 1); // the main thread
/// ```
pub fn active_count() -> usize {
    main_record();
    ALIVE.iter().map(|s| lock(s).len()).sum()
}

/// The calling thread's ident: nonzero, fixed for the thread's life, and equal to
/// `current_thread().ident()`. Inside a task this crate started it is that `Thread`'s
/// ident; elsewhere the OS thread's. Idents are never reused within a process.
///
/// # Examples
///
/// ```
/// let id = threading::get_ident();
/// assert_ne!(id, 0);
/// assert_eq!(id, threading::get_ident());
/// ```
pub fn get_ident() -> u64 {
    match task_record().and_then(|r| r.ident()) {
        Some(id) => id,
        None => os_ident(),
    }
}

/// The OS id of the calling OS thread (the kernel's thread id on Linux), as
/// `current_thread().native_id()` in a thread. In a task it is the worker's id.
///
/// # Examples
///
/// ```
/// let id = threading::get_native_id();
/// let other = std::thread::spawn(threading::get_native_id).join().unwrap();
/// assert_ne!(id, other);
/// ```
pub fn get_native_id() -> u64 {
    os_native_id()
}

/// The stack size for new OS threads (0: the platform's default, as at start).
///
/// # Examples
///
/// ```
/// assert_eq!(threading::stack_size(), 0);
/// ```
pub fn stack_size() -> usize {
    settings().stack_size
}

/// Set the stack size of OS threads made from now on, without an explicit
/// [`stack_size`](crate::blocking::ThreadBuilder::stack_size); `0` restores the platform
/// default. Returns the previous setting.
///
/// # Errors
/// [`StackSizeError`] for a size under 32 KiB (other than 0); the setting is unchanged.
///
/// # Examples
///
/// ```
/// let before = threading::set_stack_size(256 * 1024).unwrap();
/// assert_eq!(threading::stack_size(), 256 * 1024);
/// threading::set_stack_size(before).unwrap();
/// ```
pub fn set_stack_size(size: usize) -> Result<usize, StackSizeError> {
    if size != 0 && size < MIN_STACK {
        return Err(StackSizeError { size });
    }
    Ok(std::mem::replace(&mut settings().stack_size, size))
}

/// Set a hook that runs in every new thread and task-thread, before its target: the
/// place of Python's `settrace`/`setprofile`. It gets the new thread's handle. A panic in
/// it counts as a panic of the target (which then does not run).
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// let started = Arc::new(Mutex::new(Vec::new()));
/// let s = started.clone();
/// threading::set_start_hook(move |t| s.lock().unwrap().push(t.name()));
/// let t = threading::blocking::Thread::builder().name("hooked").target(|| ());
/// t.start().unwrap();
/// t.join().unwrap();
/// threading::clear_start_hook();
/// assert!(started.lock().unwrap().contains(&"hooked".to_string()));
/// ```
pub fn set_start_hook<F>(hook: F)
where
    F: Fn(&Thread) + Send + Sync + 'static,
{
    let hook: StartHook = Arc::new(hook);
    let old = settings().start_hook.replace(hook);
    // The old hook's `Drop` is user code: it runs with the settings unlocked.
    drop(old);
}

/// Remove the start hook.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// static CALLS: AtomicUsize = AtomicUsize::new(0);
/// threading::set_start_hook(|_| {
///     CALLS.fetch_add(1, Ordering::SeqCst);
/// });
/// threading::clear_start_hook();
/// let t = threading::blocking::Thread::new(|| ());
/// t.start().unwrap();
/// t.join().unwrap();
/// assert_eq!(CALLS.load(Ordering::SeqCst), 0);
/// ```
pub fn clear_start_hook() {
    let old = settings().start_hook.take();
    // The old hook's `Drop` is user code: it runs with the settings unlocked.
    drop(old);
}

// ---------------------------------------------------------------------------------------
// The excepthook.
// ---------------------------------------------------------------------------------------

/// What the excepthook gets when a thread's target panics: Python's `ExceptHookArgs`.
/// The panic payload plays `exc_type`/`exc_value` (Rust has no traceback to give).
///
/// # Examples
///
/// ```
/// use threading::ExceptHookArgs;
///
/// let payload: Box<dyn std::any::Any + Send> = Box::new("boom");
/// let args = ExceptHookArgs::new(&*payload, None);
/// assert_eq!(args.message(), Some("boom"));
/// assert!(args.thread().is_none());
/// ```
pub struct ExceptHookArgs<'a> {
    payload: &'a (dyn Any + Send),
    thread: Option<&'a Thread>,
}

impl<'a> ExceptHookArgs<'a> {
    /// Arguments for a hook: a panic payload and the thread it happened in (to call a
    /// hook yourself, e.g. for a panic you caught).
    ///
    /// # Examples
    ///
    /// ```
    /// let payload: Box<dyn std::any::Any + Send> = Box::new(String::from("caught"));
    /// let me = threading::current_thread();
    /// let args = threading::ExceptHookArgs::new(&*payload, Some(&me));
    /// assert_eq!(args.message(), Some("caught"));
    /// assert_eq!(args.thread(), Some(&me));
    /// ```
    pub fn new(payload: &'a (dyn Any + Send), thread: Option<&'a Thread>) -> Self {
        Self { payload, thread }
    }

    /// The panic payload (`panic!` with a message gives a `&str` or a `String`).
    ///
    /// # Examples
    ///
    /// ```
    /// let p: Box<dyn std::any::Any + Send> = Box::new(7_u8);
    /// let args = threading::ExceptHookArgs::new(&*p, None);
    /// assert_eq!(args.payload().downcast_ref::<u8>(), Some(&7));
    /// ```
    pub fn payload(&self) -> &'a (dyn Any + Send) {
        self.payload
    }

    /// The panic message, if the payload is a string.
    ///
    /// # Examples
    ///
    /// ```
    /// use threading::ExceptHookArgs;
    ///
    /// let text: Box<dyn std::any::Any + Send> = Box::new("boom");
    /// assert_eq!(ExceptHookArgs::new(&*text, None).message(), Some("boom"));
    /// let number: Box<dyn std::any::Any + Send> = Box::new(42_i32);
    /// assert_eq!(ExceptHookArgs::new(&*number, None).message(), None);
    /// ```
    pub fn message(&self) -> Option<&'a str> {
        panic_message(self.payload)
    }

    /// The thread that panicked: the very `Thread` whose target failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let s = seen.clone();
    /// threading::set_excepthook(move |args| {
    ///     s.lock().unwrap().push(args.thread().map(|t| t.name()));
    /// });
    /// let t = threading::blocking::Thread::builder().name("failing").target(|| panic!("x"));
    /// t.start().unwrap();
    /// assert!(t.join().is_err());
    /// threading::set_excepthook(threading::excepthook);
    /// assert_eq!(*seen.lock().unwrap(), [Some("failing".to_string())]);
    /// ```
    pub fn thread(&self) -> Option<&'a Thread> {
        self.thread
    }
}

impl fmt::Debug for ExceptHookArgs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExceptHookArgs")
            .field("message", &self.message())
            .field("thread", &self.thread)
            .finish()
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// The default excepthook (Python's `threading.__excepthook__`): writes
/// `Exception in thread <name>:` and the panic message to stderr; with no thread, the
/// calling thread's ident stands in for the name. Pass it to [`set_excepthook`] to put the
/// default back.
///
/// Rust's own panic hook has already printed its `thread '…' panicked at …` line by the
/// time this runs; this adds Python's report.
///
/// # Examples
///
/// ```
/// use threading::{blocking::Thread, JoinError};
///
/// threading::set_excepthook(|_| {}); // silence reports...
/// threading::set_excepthook(threading::excepthook); // ...and put the default back
///
/// // The default writes "Exception in thread crashy:" and "panic: boom" to stderr.
/// let t = Thread::builder().name("crashy").target(|| panic!("boom"));
/// t.start().unwrap();
/// assert!(matches!(t.join(), Err(JoinError::Panicked(p)) if p.message() == Some("boom")));
/// ```
pub fn excepthook(args: &ExceptHookArgs<'_>) {
    let name = match args.thread {
        Some(t) => t.name(),
        None => get_ident().to_string(),
    };
    let what = args
        .message()
        .unwrap_or("a panic with a non-string payload");
    eprint!("Exception in thread {name}:\npanic: {what}\n");
}

/// Set the hook that gets the panic of every thread's target (Python's
/// `threading.excepthook = hook`). It is looked up when a panic happens, so it applies to
/// threads that already run. A panic in the hook itself is reported to stderr as
/// `Exception in threading.excepthook:` and the thread still ends normally.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let s = seen.clone();
/// threading::set_excepthook(move |args| {
///     s.lock().unwrap().push(args.message().unwrap_or("").to_owned());
/// });
/// let t = threading::blocking::Thread::new(|| panic!("oops"));
/// t.start().unwrap();
/// assert!(t.join().is_err());
/// assert_eq!(*seen.lock().unwrap(), ["oops"]);
/// threading::set_excepthook(threading::excepthook);
/// ```
pub fn set_excepthook<F>(hook: F)
where
    F: Fn(&ExceptHookArgs<'_>) + Send + Sync + 'static,
{
    let hook: Hook = Arc::new(hook);
    let old = settings().excepthook.replace(hook);
    // The old hook's `Drop` is user code: it runs with the settings unlocked.
    drop(old);
}

fn call_excepthook(args: &ExceptHookArgs<'_>) {
    let hook = settings().excepthook.clone();
    let result = catch_unwind(AssertUnwindSafe(|| match hook {
        Some(h) => h(args),
        None => excepthook(args),
    }));
    if let Err(p) = result {
        let what = panic_message(&*p).unwrap_or("a panic with a non-string payload");
        eprint!("Exception in threading.excepthook:\npanic: {what}\n");
    }
}

// ---------------------------------------------------------------------------------------
// Shutdown.
// ---------------------------------------------------------------------------------------

/// Mark the main thread done (when called on it) and list the threads to wait for.
fn shutdown_begin() -> Option<Arc<Record>> {
    let me = get_ident();
    if me == MAIN_IDENT {
        main_record().finished.set();
    }
    alive_records().into_iter().find(|r| {
        matches!(r.kind, Kind::Task | Kind::Pool | Kind::Os)
            && !r.daemon()
            && r.ident() != Some(me)
            && !r.finished.is_set()
    })
}

/// Wait for every non-daemon thread, as Python's interpreter does before it exits
/// (threads started by other threads included; daemons are not waited for). Call it at the
/// end of `main`. On the main thread it first marks the main thread done, so joins of
/// [`main_thread`] return.
///
/// # Cancel safety
/// Cancel safe: dropping it stops the waiting and changes nothing else.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let t = threading::Thread::builder().daemon(false).target(|| async {});
/// t.start().unwrap();
/// threading::shutdown().await;
/// assert!(!t.is_alive());
/// # }
/// ```
pub async fn shutdown() {
    while let Some(r) = shutdown_begin() {
        r.finished.wait().await;
    }
}

/// The blocking form of [`shutdown`](crate::shutdown): wait for every non-daemon thread.
///
/// # Runtime threads
/// As [`blocking::Thread::join`](BlockingThread::join), for each thread it waits for.
///
/// # Panics
/// As [`blocking::Thread::join`](BlockingThread::join): only where tokio refuses
/// `block_in_place`, and only if it has to wait.
///
/// # Examples
///
/// ```
/// let t = threading::blocking::Thread::builder().daemon(false).target(|| ());
/// t.start().unwrap();
/// threading::blocking::shutdown();
/// assert!(!t.is_alive());
/// ```
pub fn blocking_shutdown() {
    while let Some(r) = shutdown_begin() {
        r.finished.blocking().wait();
    }
}

/// The blocking forms of the module functions that return handles.
pub(crate) mod blocking_fns {
    use super::BlockingThread;

    /// The calling thread, as a blocking handle: see [`current_thread`](crate::current_thread).
    ///
    /// # Examples
    ///
    /// ```
    /// let me = threading::blocking::current_thread();
    /// assert_eq!(me.ident(), Some(threading::get_ident()));
    /// ```
    pub fn current_thread() -> BlockingThread {
        crate::current_thread().into_blocking()
    }

    /// The main thread, as a blocking handle: see [`main_thread`](crate::main_thread).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threading::blocking::main_thread().name(), "MainThread");
    /// ```
    pub fn main_thread() -> BlockingThread {
        crate::main_thread().into_blocking()
    }

    /// Every thread alive, as blocking handles: see [`enumerate`](crate::enumerate).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threading::blocking::enumerate().len(), threading::active_count());
    /// ```
    pub fn enumerate() -> Vec<BlockingThread> {
        crate::enumerate()
            .into_iter()
            .map(super::Thread::into_blocking)
            .collect()
    }
}
