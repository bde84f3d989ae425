//! Escaping of untrusted bytes for display.
//!
//! Host names, usernames and paths come from URLs an attacker may control (CVE-2024-50349):
//! whatever is shown on a terminal has control characters, bidi overrides and invalid UTF-8
//! escaped as `\xNN` / `\u{NNNN}`, so nothing can rewrite the user's screen.

use std::fmt::Write;

/// Returns `bytes` as printable text: valid UTF-8 is kept except control and bidi-control
/// characters; invalid bytes and control bytes become `\xNN`; a backslash becomes `\\`.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02X}");
        }
    }
    out
}

/// `text` quoted for a POSIX shell, so a command suggested in a message can be pasted as it
/// is: unchanged when it holds only characters no shell treats specially, else in single
/// quotes (a `'` inside becomes `'\''`). `$(...)`, backquotes and `;` in a hostile host or
/// path name are then inert.
pub fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:@%+=,-".contains(&b));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// A path escaped for display ([`escape_path`]) and quoted for a shell ([`shell_quote`]).
pub fn quoted_path(path: &std::path::Path) -> String {
    shell_quote(&escape_path(path))
}

/// `n` and `noun`, plural unless `n` is 1: "1 credential", "3 credentials".
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Escapes a path or other OS string for a one-line message.
pub fn escape_path(path: &std::path::Path) -> String {
    escape(path.as_os_str().as_encoded_bytes())
}

fn push_char(out: &mut String, c: char) {
    let bidi =
        matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if c == '\\' {
        out.push_str("\\\\");
    } else if c.is_control() && (c as u32) < 0x100 {
        let _ = write!(out, "\\x{:02X}", c as u32);
    } else if c.is_control() || bidi {
        let _ = write!(out, "\\u{{{:04X}}}", c as u32);
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::{escape, shell_quote};

    #[test]
    fn suggested_commands_are_shell_quoted() {
        assert_eq!(
            shell_quote("/home/me/.local/share/c"),
            "/home/me/.local/share/c"
        );
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("$(rm -rf ~)"), "'$(rm -rf ~)'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn control_bytes_and_invalid_utf8_are_escaped() {
        assert_eq!(escape(b"a\x1b[31mb"), "a\\x1B[31mb");
        assert_eq!(escape(b"tab\there"), "tab\\x09here");
        assert_eq!(escape(b"\xff\xfeok"), "\\xFF\\xFEok");
        assert_eq!(escape(b"back\\slash"), "back\\\\slash");
        assert_eq!(escape("\u{202E}evil".as_bytes()), "\\u{202E}evil");
        assert_eq!(escape("caf\u{e9}".as_bytes()), "caf\u{e9}");
        assert_eq!(escape(b"\x7f\xc2\x85"), "\\x7F\\x85");
    }
}
