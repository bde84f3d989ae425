//! Placeholder entry point; the helper lands in the next commits.
fn main() {}
