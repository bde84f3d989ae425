//! Everything shown to a person, made safe to show.
//!
//! Host names, usernames, paths, git config values and arguments come from outside, and an
//! attacker may control some of them (CVE-2024-50349). One rule for all of it: a value is
//! escaped once, where it is formatted for printing ([`escape`], [`escape_path`], or
//! [`json_string`] for JSON), so that no character [`must_escape`] names reaches a terminal
//! raw; a command suggested in a message has each variable part escaped and then
//! [`shell_quote`]d, so pasting it runs nothing it names; and input that might be a token (an
//! unexpected argument, a refused protocol line) is described, never repeated.

use std::fmt::Write;

/// Whether `c` must never reach a terminal raw: C0 and C1 control characters and DEL (escape
/// sequences, bells, carriage returns), the bidirectional controls (U+061C, U+200E, U+200F,
/// U+202A to U+202E, U+2066 to U+2069: they reorder what follows, CVE-2021-42574), and the
/// line and paragraph separators U+2028 and U+2029 (a line break to some terminals and
/// viewers). All of them lie in the Basic Multilingual Plane.
pub fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// Returns `bytes` as printable text: valid UTF-8 is kept except what [`must_escape`] names,
/// which becomes `\xNN` below U+0100 and `\u{NNNN}` above; invalid bytes become `\xNN`; a
/// backslash becomes `\\`, so an escaped form is never mistaken for the text it shows.
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
/// path name are then inert. `text` is already escaped ([`escape`]): quoting hides nothing
/// from a terminal.
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

/// `bytes` as a JSON string, quotes included: valid UTF-8 is kept except `"`, `\` and what
/// [`must_escape`] names, which become `\"`, `\\` and `\uXXXX` (a JSON reader gets the exact
/// characters back; a terminal never sees them raw); an invalid byte becomes the text `\xNN`
/// (JSON strings cannot carry raw bytes).
pub fn json_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                // In the BMP (see must_escape), so four hex digits hold it.
                c if must_escape(c) => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\\\x{b:02X}");
        }
    }
    out.push('"');
    out
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
    if c == '\\' {
        out.push_str("\\\\");
    } else if must_escape(c) && (c as u32) < 0x100 {
        let _ = write!(out, "\\x{:02X}", c as u32);
    } else if must_escape(c) {
        let _ = write!(out, "\\u{{{:04X}}}", c as u32);
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::{escape, json_string, must_escape, quoted_path, shell_quote};

    #[test]
    fn must_escape_names_controls_bidi_controls_and_separators() {
        for c in [
            '\0', '\x07', '\t', '\n', '\r', '\x1b', '\x7f', '\u{80}', '\u{85}', '\u{9f}',
        ] {
            assert!(must_escape(c), "control U+{:04X}", c as u32);
        }
        for c in [
            '\u{61C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
            '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{2028}', '\u{2029}',
        ] {
            assert!(must_escape(c), "U+{:04X}", c as u32);
            assert!((c as u32) < 0x10000, "four hex digits hold it in JSON");
        }
        for c in [
            'a',
            ' ',
            '~',
            '\\',
            '"',
            '\'',
            '$',
            '\u{a0}',
            '\u{e9}',
            '\u{200B}',
            '\u{2027}',
            '\u{202F}',
            '\u{2065}',
            '\u{206A}',
            '\u{1F600}',
        ] {
            assert!(!must_escape(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn suggested_commands_are_shell_quoted() {
        assert_eq!(
            shell_quote("/home/me/.local/share/c"),
            "/home/me/.local/share/c"
        );
        assert_eq!(
            shell_quote("credential.https://h.example:8443.useHttpPath"),
            "credential.https://h.example:8443.useHttpPath"
        );
        assert_eq!(shell_quote("--username=u@x"), "--username=u@x");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("$(rm -rf ~)"), "'$(rm -rf ~)'");
        assert_eq!(
            shell_quote("`id`;ls|x&y>z<w*?[!#"),
            "'`id`;ls|x&y>z<w*?[!#'"
        );
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("~"), "'~'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(
            shell_quote(&escape(b"h\x1b$(x)")),
            "'h\\x1B$(x)'",
            "escaped first, then quoted"
        );
    }

    #[test]
    fn quoted_paths_are_escaped_then_quoted() {
        let p = std::path::Path::new("/tmp/a'\x07b");
        assert_eq!(quoted_path(p), "'/tmp/a'\\''\\x07b'");
    }

    #[test]
    fn control_bytes_and_invalid_utf8_are_escaped() {
        assert_eq!(escape(b"a\x1b[31mb"), "a\\x1B[31mb");
        assert_eq!(escape(b"tab\there"), "tab\\x09here");
        assert_eq!(escape(b"\xff\xfeok"), "\\xFF\\xFEok");
        assert_eq!(escape(b"back\\slash"), "back\\\\slash");
        assert_eq!(escape("\u{202E}evil".as_bytes()), "\\u{202E}evil");
        assert_eq!(
            escape("a\u{2028}b\u{2029}".as_bytes()),
            "a\\u{2028}b\\u{2029}"
        );
        assert_eq!(escape("\u{61C}\u{2066}".as_bytes()), "\\u{061C}\\u{2066}");
        assert_eq!(escape("caf\u{e9}".as_bytes()), "caf\u{e9}");
        assert_eq!(escape(b"\x7f\xc2\x85"), "\\x7F\\x85");
        assert_eq!(
            escape(b"$(x) 'q'"),
            "$(x) 'q'",
            "quoting is shell_quote's job"
        );
    }

    #[test]
    fn json_strings_escape_what_json_cannot_hold_or_a_terminal_must_not_see() {
        assert_eq!(json_string(b""), r#""""#);
        assert_eq!(json_string(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(json_string(b"x\x1by\n\x7f"), r#""x\u001by\u000a\u007f""#);
        assert_eq!(json_string("\u{85}".as_bytes()), r#""\u0085""#);
        assert_eq!(
            json_string("\u{202E}a\u{2028}b\u{2029}\u{2066}".as_bytes()),
            r#""\u202ea\u2028b\u2029\u2066""#
        );
        assert_eq!(json_string(b"\xff"), r#""\\xFF""#);
        assert_eq!(
            json_string("caf\u{e9} \u{1F600}".as_bytes()),
            "\"caf\u{e9} \u{1F600}\""
        );
        assert_eq!(json_string(b"$(x)'"), r#""$(x)'""#);
    }

    /// Whatever the bytes, nothing `must_escape` names survives either escape.
    #[test]
    fn no_dangerous_character_survives_escaping() {
        let mut all = Vec::new();
        for c in ('\0'..='\u{2070}').chain(['\u{FEFF}', '\u{10FFFF}']) {
            all.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        }
        all.extend_from_slice(b"\x80\xff\xc2");
        for shown in [escape(&all), json_string(&all)] {
            assert!(!shown.chars().any(must_escape), "{shown:?}");
        }
    }
}
