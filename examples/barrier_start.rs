//! The client/server start of Python's `threading` docs (`Barrier` with a timeout), ported:
//! a server thread and two clients, one a plain thread and one a tokio task, meet at one
//! barrier before any client connects.
//!
//! ```sh
//! cargo run --example barrier_start
//! ```
//!
//! The Python original, from the docs' "Barrier objects":
//!
//! ```python
//! b = Barrier(2, timeout=5)
//!
//! def server():
//!     start_server()
//!     b.wait()
//!     while True:
//!         connection = accept_connection()
//!         process_server_connection(connection)
//!
//! def client():
//!     b.wait()
//!     while True:
//!         connection = make_connection()
//!         process_client_connection(connection)
//! ```
//!
//! `Barrier(2, timeout=5)` is `Barrier::builder(2).timeout(Duration::from_secs(5)).build()`;
//! `b.wait()` returns `Result<index, BrokenBarrierError>` instead of raising. The server
//! here listens on a real TCP port on 127.0.0.1 and serves a bounded number of connections
//! instead of `while True`. Each step prints what happens and asserts what it shows (the
//! `ok:` lines).

#[macro_use]
mod common;
use common::{ms, watchdog};

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use threading::Barrier;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

/// Connections each client makes (Python's `while True`, bounded).
const CONNECTIONS: usize = 3;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let start = Instant::now();
    watchdog(Duration::from_secs(30));
    println!("barrier_start: Python's Barrier example, a server thread, a client thread and a client task");

    server_and_clients().await;
    a_client_that_never_comes().await;

    println!("\nbarrier_start passed in {} ms.", ms(start));
}

async fn server_and_clients() {
    println!("\n1. Barrier(3, timeout=5): the clients connect only once the server listens");
    // `b = Barrier(3, timeout=5)`: the server and two clients.
    let b = Arc::new(
        Barrier::builder(3)
            .timeout(Duration::from_secs(5))
            .build()
            .expect("3 parties"),
    );
    // Where the server listens: set by `start_server()`, read by the clients after the
    // barrier, so they never look before it is set.
    let address = Arc::new(OnceLock::<SocketAddr>::new());

    let server = threading::blocking::Thread::builder()
        .name("server")
        .target({
            let (b, address) = (b.clone(), address.clone());
            move || {
                let listener = start_server(&address);
                let index = b.blocking().wait().expect("all parties came in time");
                say!("server", "passed the barrier (index {index})");
                for _ in 0..2 * CONNECTIONS {
                    let connection = accept_connection(&listener);
                    process_server_connection(connection);
                }
            }
        });
    let client_thread = threading::blocking::Thread::builder()
        .name("client thread")
        .target({
            let (b, address) = (b.clone(), address.clone());
            move || {
                let index = b.blocking().wait().expect("all parties came in time");
                let address = *address
                    .get()
                    .expect("the server listens before the barrier");
                say!("client thread", "passed the barrier (index {index})");
                (1..=CONNECTIONS)
                    .map(|n| {
                        let connection = make_connection(address);
                        process_client_connection(connection, n)
                    })
                    .collect::<Vec<_>>()
            }
        });
    let client_task = threading::Thread::builder().name("client task").target({
        let (b, address) = (b.clone(), address.clone());
        move || async move {
            let index = b.wait().await.expect("all parties came in time");
            let address = *address
                .get()
                .expect("the server listens before the barrier");
            say!("client task", "passed the barrier (index {index})");
            let mut replies = Vec::new();
            for n in 1..=CONNECTIONS {
                let connection = make_connection_async(address).await;
                replies.push(process_client_connection_async(connection, n).await);
            }
            replies
        }
    });

    // Start the clients first: they wait at the barrier until the server listens.
    client_thread.start().expect("start");
    client_task.start().expect("start");
    tokio::time::sleep(Duration::from_millis(20)).await;
    say!(
        "main",
        "n_waiting() = {} before the server starts",
        b.n_waiting()
    );
    check!(
        client_thread.is_alive() && client_task.is_alive(),
        "both clients wait at the barrier: the server is not listening yet"
    );
    server.start().expect("start");

    let from_thread = client_thread
        .as_async()
        .join()
        .await
        .expect("no panic")
        .expect("the first join takes the value");
    let from_task = client_task
        .join()
        .await
        .expect("no panic")
        .expect("the first join takes the value");
    server.as_async().join().await.expect("no panic");
    check!(
        from_thread.len() == CONNECTIONS
            && from_task.len() == CONNECTIONS
            && from_thread
                .iter()
                .chain(&from_task)
                .all(|r| r.starts_with("HELLO")),
        "each client got {CONNECTIONS} replies from the server"
    );
    check!(
        !b.broken() && b.n_waiting() == 0,
        "the barrier is intact: {b:?}"
    );
}

/// The `timeout=` at work: a server whose client never comes does not wait forever.
async fn a_client_that_never_comes() {
    println!("\n2. Barrier(2, timeout=0.1): the client never comes");
    let timeout = Duration::from_millis(100);
    let b = Arc::new(
        Barrier::builder(2)
            .timeout(timeout)
            .build()
            .expect("2 parties"),
    );
    let server = threading::blocking::Thread::new({
        let b = b.clone();
        move || {
            let start = Instant::now();
            let result = b.blocking().wait(); // the barrier's default timeout applies
            (result, start.elapsed())
        }
    });
    server.start().expect("start");
    let (result, waited) = server
        .as_async()
        .join()
        .await
        .expect("no panic")
        .expect("the first join takes the value");
    let err = result.expect_err("nobody else came");
    say!(
        "server",
        "wait() -> Err after {} ms: {err}",
        waited.as_millis()
    );
    check!(
        waited >= timeout,
        "it gave up, not before the 100 ms timeout"
    );
    check!(b.broken(), "the timeout broke the barrier: {b:?}");

    // A client that comes late finds it broken and fails at once, without waiting.
    let start = Instant::now();
    let late = b.wait().await;
    let shown = match &late {
        Ok(index) => format!("Ok({index})"),
        Err(_) => "Err(BrokenBarrierError)".to_owned(),
    };
    say!("client task", "wait() -> {shown} after {} ms", ms(start));
    check!(
        late.is_err(),
        "a late party gets BrokenBarrierError until reset()"
    );

    // reset() mends it: a server thread and a client task pass together.
    b.reset();
    let server = threading::blocking::Thread::new({
        let b = b.clone();
        move || b.blocking().wait()
    });
    server.start().expect("start");
    let mine = b.wait().await.expect("both came in time");
    let theirs = server
        .as_async()
        .join()
        .await
        .expect("no panic")
        .expect("the first join takes the value")
        .expect("both came in time");
    check!(
        mine + theirs == 1,
        "after reset() both pass: indices {mine} and {theirs}"
    );
}

/// `start_server()`: listen on a free port of 127.0.0.1 and publish the address.
fn start_server(address: &OnceLock<SocketAddr>) -> TcpListener {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let local = listener.local_addr().expect("a bound address");
    address.set(local).expect("set once");
    say!("server", "listening on {local}");
    listener
}

/// `accept_connection()`.
fn accept_connection(listener: &TcpListener) -> TcpStream {
    let (stream, _) = listener.accept().expect("accept");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    stream
}

/// `process_server_connection(connection)`: answer one line with it in capitals.
fn process_server_connection(mut connection: TcpStream) {
    let mut line = String::new();
    BufReader::new(&connection)
        .read_line(&mut line)
        .expect("read a line");
    connection
        .write_all(line.to_uppercase().as_bytes())
        .expect("write the reply");
}

/// `make_connection()`, in a plain thread.
fn make_connection(address: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    stream
}

/// `process_client_connection(connection)`, in a plain thread: send a line, read the reply.
fn process_client_connection(mut connection: TcpStream, n: usize) -> String {
    writeln!(connection, "hello {n} from a thread").expect("send");
    let mut reply = String::new();
    BufReader::new(&connection)
        .read_line(&mut reply)
        .expect("read the reply");
    let reply = reply.trim_end().to_owned();
    say!("client thread", "got {reply:?}");
    reply
}

/// `make_connection()`, in a task.
async fn make_connection_async(address: SocketAddr) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(address)
        .await
        .expect("connect")
}

/// `process_client_connection(connection)`, in a task.
async fn process_client_connection_async(connection: tokio::net::TcpStream, n: usize) -> String {
    let (read, mut write) = connection.into_split();
    write
        .write_all(format!("hello {n} from a task\n").as_bytes())
        .await
        .expect("send");
    let mut reply = String::new();
    tokio::io::BufReader::new(read)
        .read_line(&mut reply)
        .await
        .expect("read the reply");
    let reply = reply.trim_end().to_owned();
    say!("client task", "got {reply:?}");
    reply
}
