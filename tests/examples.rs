//! MIGRATING.md against the code: its quoted Rust must still be the examples' code (which
//! CI builds and runs), and its tables must still name every public name of Python's
//! `threading` and asyncio's primitives.
//!
//! A quote in MIGRATING.md is a ```` ```rust ```` block right under a line
//! `<!-- quote: examples/<file>.rs#<name> -->`; it must equal the lines between
//! `// ANCHOR: <name>` and `// ANCHOR_END: <name>` in that file, less their common
//! indentation. After changing an example, copy the region into MIGRATING.md again.

use std::path::Path;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The lines between `// ANCHOR: name` and `// ANCHOR_END: name`, without other anchor
/// lines, dedented.
fn anchored(source: &str, name: &str) -> Option<String> {
    let start = format!("// ANCHOR: {name}");
    let end = format!("// ANCHOR_END: {name}");
    let mut lines = source.lines().skip_while(|l| l.trim() != start);
    lines.next()?;
    let mut region = Vec::new();
    for line in lines {
        if line.trim() == end {
            let indent = region
                .iter()
                .filter(|l: &&&str| !l.trim().is_empty())
                .map(|l| l.len() - l.trim_start().len())
                .min()
                .unwrap_or(0);
            let dedented: Vec<&str> = region
                .iter()
                .map(|l| l.get(indent..).unwrap_or("").trim_end())
                .collect();
            return Some(dedented.join("\n"));
        }
        if !line.trim().starts_with("// ANCHOR") {
            region.push(line);
        }
    }
    None
}

#[test]
fn migrating_quotes_match_the_examples() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = read(&root.join("MIGRATING.md"));
    let mut lines = doc.lines();
    let mut quotes = 0;
    while let Some(line) = lines.next() {
        let Some(spec) = line
            .trim()
            .strip_prefix("<!-- quote: ")
            .and_then(|s| s.strip_suffix(" -->"))
        else {
            continue;
        };
        let (file, name) = spec
            .split_once('#')
            .unwrap_or_else(|| panic!("`{spec}`: expected <file>#<anchor>"));
        assert_eq!(
            lines.next().map(str::trim),
            Some("```rust"),
            "a ```rust block must follow the quote marker of {spec}"
        );
        let quoted: Vec<&str> = lines
            .by_ref()
            .take_while(|l| l.trim() != "```")
            .map(str::trim_end)
            .collect();
        let source = read(&root.join(file));
        let expected = anchored(&source, name).unwrap_or_else(|| {
            panic!("{file} has no region `// ANCHOR: {name}` ... `// ANCHOR_END: {name}`")
        });
        assert_eq!(
            quoted.join("\n"),
            expected,
            "MIGRATING.md's quote of {spec} differs from the example: copy the region again"
        );
        quotes += 1;
    }
    assert!(
        quotes >= 6,
        "MIGRATING.md quotes {quotes} regions, expected 6 or more"
    );
}

#[test]
fn migrating_names_every_python_name() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = read(&root.join("MIGRATING.md"));
    // `threading.__all__` (3.11 to 3.14), the Thread methods and attributes, and asyncio's
    // primitives with the helpers used beside them.
    let names = [
        "Lock()",
        "RLock()",
        "Condition(",
        "Semaphore(",
        "BoundedSemaphore(",
        "Event()",
        "Timer(",
        "Barrier(",
        "BrokenBarrierError",
        "Thread(",
        "run()",
        "t.start()",
        "t.join()",
        "t.join(timeout)",
        "t.is_alive()",
        "t.name",
        "t.ident",
        "t.native_id",
        "t.daemon",
        "local()",
        "current_thread()",
        "main_thread()",
        "enumerate()",
        "active_count()",
        "get_ident()",
        "get_native_id()",
        "excepthook",
        "ExceptHookArgs",
        "stack_size(",
        "TIMEOUT_MAX",
        "settrace",
        "setprofile",
        "settrace_all_threads",
        "gettrace",
        "ThreadError",
        "asyncio.Lock()",
        "asyncio.Event()",
        "asyncio.Condition(",
        "asyncio.Semaphore(",
        "asyncio.BoundedSemaphore(",
        "asyncio.Barrier(",
        "asyncio.wait_for(",
        "asyncio.timeout(",
        "asyncio.to_thread(",
        "loop.run_in_executor(",
    ];
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| !doc.contains(&format!("`{name}")) && !doc.contains(&format!(" {name}")))
        .collect();
    assert!(missing.is_empty(), "MIGRATING.md does not name {missing:?}");
}
