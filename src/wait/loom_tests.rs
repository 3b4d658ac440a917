//! Loom models of the waiting core (filled in below).
