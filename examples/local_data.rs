//! Thread-local data (`threading.local`) from Python's `threading` docs and the
//! `_threading_local` example they point to, ported: one value per thread, made by an init
//! function (a subclass's `__init__` and class attributes), and, in the async form, one
//! value per `Thread` task.
//!
//! ```sh
//! cargo run --example local_data
//! ```
//!
//! The Python original, from the docs' "Thread-local data" and `_threading_local`:
//!
//! ```python
//! mydata = threading.local()
//! mydata.x = 1
//!
//! class MyLocal(local):
//!     number = 2
//!     def __init__(self, /, **kw):
//!         self.__dict__.update(kw)
//!     def squared(self):
//!         return self.number ** 2
//!
//! mydata = MyLocal(color='red')
//! ```
//!
//! A Rust `Local<T>` holds one `T` per thread; the init function plays the subclass's
//! `__init__` and class attributes, and runs once in each thread, on its first use.
//! Attributes are fields, changed through `Cell`/`RefCell` inside `with`; an attribute that
//! may be missing is an `Option`. Each step prints what happens and asserts what it shows
//! (the `ok:` lines).

#[macro_use]
mod common;
use common::{ms, watchdog};

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let start = Instant::now();
    watchdog(Duration::from_secs(30));
    println!("local_data: Python's threading.local examples, one value per thread or Thread task");

    // The blocking form belongs to plain threads: run those parts on one.
    let t = threading::blocking::Thread::new(|| {
        plain_local();
        subclass_with_defaults();
    });
    t.start().expect("start");
    t.as_async().join().await.expect("no panic");

    one_value_per_thread_task().await;
    values_end_with_their_thread().await;

    println!("\nlocal_data passed in {} ms.", ms(start));
}

/// `mydata = local()`: no attributes until set; `number` is an `Option`, `None` until set.
static MYDATA: threading::blocking::Local<Cell<Option<i64>>> =
    threading::blocking::Local::new(|| Cell::new(None));

fn plain_local() {
    println!("\n1. mydata = local(); mydata.number = 42; another thread sees no number");
    MYDATA.with(|number| number.set(Some(42))); // `mydata.number = 42`
    say!("thread 1", "mydata.number = {:?}", MYDATA.with(Cell::get));

    // def f(): log.append(mydata.__dict__); mydata.number = 11; log.append(mydata.number)
    let f = threading::blocking::Thread::new(|| {
        let seen = MYDATA.with(Cell::get);
        MYDATA.with(|number| number.set(Some(11)));
        let after = MYDATA.with(Cell::get);
        say!("thread 2", "saw {seen:?}, then set number = {after:?}");
        (seen, after)
    });
    f.start().expect("start");
    let log = f
        .join()
        .expect("no panic")
        .expect("the first join takes the value");
    check!(
        log == (None, Some(11)),
        "the other thread saw no number (Python's AttributeError), then its own 11"
    );
    check!(
        MYDATA.with(Cell::get) == Some(42),
        "this thread still sees its 42"
    );

    // `del mydata.number`: `take` removes this thread's value; the next use makes a new one.
    let taken = MYDATA.take().map(Cell::into_inner);
    check!(
        taken == Some(Some(42)) && !MYDATA.has_value(),
        "take() removed this thread's value (`del`), has_value() is false"
    );
    check!(
        MYDATA.with(Cell::get).is_none(),
        "the next with() made a fresh one: no number"
    );
}

/// `class MyLocal(local)`: the class attribute `number = 2`, `__init__(**kw)`, a method.
struct MyLocal {
    number: Cell<i64>,
    color: RefCell<Option<String>>,
}

impl MyLocal {
    /// `MyLocal.__init__(color=...)` plus the class attribute `number = 2`: the per-thread
    /// defaults, made once in each thread on its first use.
    fn new(color: &str) -> Self {
        Self {
            number: Cell::new(2),
            color: RefCell::new(Some(color.to_owned())),
        }
    }

    fn squared(&self) -> i64 {
        self.number.get().pow(2)
    }
}

fn subclass_with_defaults() {
    println!("\n2. mydata = MyLocal(color='red'): the init function makes each thread's defaults");
    // The constructor's arguments live in the init closure, which runs in every thread.
    let color = String::from("red");
    let mydata = Arc::new(threading::blocking::Local::new(move || {
        MyLocal::new(&color)
    }));

    let (number, color) = mydata.with(|d| (d.number.get(), d.color.borrow().clone()));
    say!(
        "thread 1",
        "mydata.number = {number}, mydata.color = {color:?}"
    );
    check!(
        number == 2 && color.as_deref() == Some("red"),
        "the defaults: number 2, color red"
    );
    mydata.with(|d| d.color.take()); // `del mydata.color`
    check!(
        mydata.with(|d| d.color.borrow().is_none() && d.squared() == 4),
        "del mydata.color; mydata.squared() == 4"
    );

    let f = threading::blocking::Thread::new({
        let mydata = mydata.clone();
        move || {
            // A new thread: the init function runs again, with the same arguments.
            let color = mydata.with(|d| d.color.borrow().clone());
            mydata.with(|d| d.number.set(11));
            let number = mydata.with(|d| d.number.get());
            say!("thread 2", "saw color {color:?}, set number = {number}");
            (color, number)
        }
    });
    f.start().expect("start");
    let log = f
        .join()
        .expect("no panic")
        .expect("the first join takes the value");
    check!(
        log == (Some("red".to_owned()), 11),
        "the other thread got its own defaults (color red), then its own number 11"
    );
    check!(
        mydata.with(|d| d.number.get()) == 2 && mydata.with(|d| d.color.borrow().is_none()),
        "this thread still has number 2 and no color"
    );
}

/// The async form: one value per `threading::Thread` task, whichever worker runs it.
async fn one_value_per_thread_task() {
    println!("\n3. The async form: each Thread task has its own value across .await");
    // asyncio's coroutines share their thread's `threading.local`; Python code uses a
    // `contextvars.ContextVar` to get one value per task. Here a `threading::Local` gives
    // each task started as a `threading::Thread` a value of its own, even when the task
    // moves to another worker thread at an `.await`.
    static REQUEST_ID: threading::Local<Cell<u32>> = threading::Local::new(|| Cell::new(0));

    let tasks: Vec<_> = (1..=4u32)
        .map(|id| {
            let t = threading::Thread::new(move || async move {
                let fresh = REQUEST_ID.with(Cell::get);
                REQUEST_ID.with(|r| r.set(id));
                for _ in 0..5 {
                    tokio::time::sleep(Duration::from_millis(2)).await; // may change worker
                    tokio::task::yield_now().await;
                }
                let after = REQUEST_ID.with(Cell::get);
                say!(
                    threading::current_thread().name(),
                    "set request id {id}, read back {after}"
                );
                (fresh, id, after)
            });
            t.start().expect("start");
            t
        })
        .collect();
    for t in tasks {
        let (fresh, id, after) = t
            .join()
            .await
            .expect("no panic")
            .expect("the first join takes the value");
        check!(
            fresh == 0 && after == id,
            "task {id}: a fresh value from the init function, and its own id after the awaits"
        );
    }
    // Outside any `threading::Thread`, the context is the calling OS thread: here the worker
    // thread that runs `main`'s task. The blocking form always uses the OS thread.
    REQUEST_ID.with(|r| r.set(99));
    check!(
        REQUEST_ID.blocking().with(Cell::get) == 99,
        "outside a Thread task, both forms use the OS thread's value"
    );
}

/// A value that counts its drops.
struct Connection(&'static AtomicUsize);

impl Drop for Connection {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Values are dropped when their thread or task ends, and when the `Local` is dropped.
async fn values_end_with_their_thread() {
    println!("\n4. Each thread's and task's value is dropped when it ends");
    static CLOSED: AtomicUsize = AtomicUsize::new(0);
    let conns = Arc::new(threading::Local::new(|| Connection(&CLOSED)));

    let mut threads = Vec::new();
    for _ in 0..3 {
        let c = conns.clone().into_blocking();
        let t = threading::blocking::Thread::new(move || c.with(|_| ()));
        t.start().expect("start");
        threads.push(t.into_async());
    }
    for _ in 0..3 {
        let c = conns.clone();
        let t = threading::Thread::new(move || async move { c.with(|_| ()) });
        t.start().expect("start");
        threads.push(t);
    }
    for t in &threads {
        t.join().await.expect("no panic");
    }
    // A thread's values are dropped as it ends, before its joiners return.
    check!(
        CLOSED.load(Ordering::SeqCst) == 6,
        "3 threads and 3 tasks were joined: their 6 values were dropped"
    );

    // `set` replaces this context's value (the old one is dropped); dropping the `Local`
    // drops the values of every context still alive.
    conns.with(|_| ());
    conns.set(Connection(&CLOSED));
    check!(
        CLOSED.load(Ordering::SeqCst) == 7,
        "set() dropped the value it replaced"
    );
    drop(conns);
    check!(
        CLOSED.load(Ordering::SeqCst) == 8,
        "dropping the Local dropped this thread's value"
    );
}
