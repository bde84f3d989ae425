//! `list [--json]`: what is stored, where, and until when. Never a token.

use super::{Args, Session, Spec};
use crate::display::escape;
use crate::error::Result;
use crate::time::{describe_remaining, format_date};

pub(super) const SPEC: Spec = Spec {
    usage: "usage: git credential-pat list [--json]

Lists the stored credentials, sorted by protocol, host, path and username: URL, username,
backend, expiry and the date stored. Tokens are never shown.

  --json   an array of objects with the keys protocol, host, path, username, backend,
           expires_utc and stored_utc",
    flags: &[("--json", false)],
    positional: (0, 0),
};

pub(super) fn run(s: &mut Session<'_, '_>, args: &Args) -> Result<u8> {
    let rows = crate::manage::list(&mut s.chain)?;
    let now = s.p.now.secs;
    if args.flag("--json") {
        let mut out = String::from("[");
        for (i, (r, backend)) in rows.iter().enumerate() {
            out.push_str(if i == 0 { "\n  " } else { ",\n  " });
            out.push_str(&format!(
                "{{\"protocol\": {}, \"host\": {}, \"path\": {}, \"username\": {}, \"backend\": \"{}\", \"expires_utc\": {}, \"stored_utc\": {}}}",
                json_str(&r.key.host.protocol),
                json_str(&r.key.host.host),
                r.key.path.as_deref().map_or("null".into(), json_str),
                r.key.username.as_deref().map_or("null".into(), json_str),
                backend.name(),
                r.expiry().map_or("null".into(), |e| e.to_string()),
                r.stored.secs,
            ));
        }
        out.push_str(if rows.is_empty() { "]" } else { "\n]" });
        return s.out(&out).map(|()| 0);
    }
    if rows.is_empty() {
        let where_ = s
            .chain
            .stores()
            .map(|st| st.backend().name())
            .collect::<Vec<_>>()
            .join(" or ");
        s.err(&format!(
            "no credentials stored (in the {where_} store: {})",
            crate::display::escape_path(&s.config.file)
        ));
        return Ok(0);
    }
    let color = s.p.stdout_is_terminal && (s.p.env)("NO_COLOR").is_none_or(|v| v.is_empty());
    let warn = s.config.warn.unwrap_or(0);
    let mut table = vec![[
        "URL".to_string(),
        "USERNAME".into(),
        "BACKEND".into(),
        "EXPIRES".into(),
        "STORED".into(),
    ]];
    let mut styles = vec![""];
    for (r, backend) in &rows {
        let url = crate::key::Key {
            username: None,
            ..r.key.clone()
        }
        .display();
        let user = r.key.username.as_deref().map_or("-".into(), escape);
        let (expires, style) = match r.expiry() {
            None => ("never".to_string(), ""),
            Some(e) if now >= e => (format!("{} (expired)", format_date(e)), "\x1b[31m"),
            Some(e) => {
                let style = if e - now <= warn { "\x1b[33m" } else { "" };
                (
                    format!("{} ({})", format_date(e), describe_remaining(e, now)),
                    style,
                )
            }
        };
        table.push([
            url,
            user,
            backend.name().into(),
            expires,
            format_date(r.stored.secs),
        ]);
        styles.push(style);
    }
    let widths: Vec<usize> = (0..5)
        .map(|c| {
            table
                .iter()
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (row, style) in table.iter().zip(styles) {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            let cell = if c == 3 && color && !style.is_empty() {
                format!("{style}{cell}\x1b[0m")
            } else {
                cell.clone()
            };
            line.push_str(&cell);
            if c < 4 {
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        s.out(line.trim_end())?;
    }
    Ok(0)
}

/// A JSON string of raw bytes: valid UTF-8 kept, control characters `\u00XX`, invalid bytes
/// as the text `\xNN` (JSON cannot carry raw bytes).
fn json_str(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\\\x{b:02X}"));
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_strings_escape_what_json_cannot_hold() {
        assert_eq!(super::json_str(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(super::json_str(b"x\x1by\n"), r#""x\u001by\u000a""#);
        assert_eq!(super::json_str(b"\xff"), r#""\\xFF""#);
        assert_eq!(super::json_str("caf\u{e9}".as_bytes()), "\"caf\u{e9}\"");
    }
}
