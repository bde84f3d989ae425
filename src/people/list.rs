//! `list [--json]`: what is stored, where, and until when. Never a token.
//!
//! Parse (`--json`), act ([`crate::manage::list`], turned into rows), print (a table or JSON).

use super::args::{Args, Spec};
use super::session::Session;
use crate::display::{escape, json_string};
use crate::error::Result;
use crate::key::Key;
use crate::record::Learned;
use crate::store::Backend;
use crate::time::{describe_remaining, format_date};

pub(super) const SPEC: Spec = Spec {
    usage: "usage: git credential-pat list [--json]

Lists the stored credentials, sorted by protocol, host, path and username: URL, username,
backend, expiry and the date stored; once a forge has confirmed a token (see verify), also the
forge's login for it, when it last confirmed it, and its scopes. Tokens are never shown.

  --json   an array of objects with the keys protocol, host, path, username, backend,
           expires_utc, stored_utc, login, scopes (an array, or null) and verified_utc",
    flags: &[("--json", false)],
    positional: (0, 0),
    reads_token: false,
};

pub(super) fn run(s: &mut Session<'_, '_>, args: &Args) -> Result<u8> {
    let request = ListRequest::parse(args);
    let rows = rows(s)?;
    if request.json {
        s.out(&json(&rows))?;
    } else if rows.is_empty() {
        print_none_stored(s);
    } else {
        let look = Look {
            now: s.p.now.secs,
            warn: s.config.warn.unwrap_or(0),
            color: s.p.stdout_is_terminal && (s.p.env)("NO_COLOR").is_none_or(|v| v.is_empty()),
        };
        for line in table(&rows, &look) {
            s.out(&line)?;
        }
    }
    Ok(0)
}

/// What `list` was asked for.
struct ListRequest {
    /// `--json`: JSON instead of a table.
    json: bool,
}

impl ListRequest {
    fn parse(args: &Args) -> ListRequest {
        ListRequest {
            json: args.flag("--json"),
        }
    }
}

/// One stored credential as `list` shows it: its key, where it is and its dates. No token.
struct Row {
    key: Key,
    backend: Backend,
    /// The earliest of the token's own expiry and the TTL deadline (Unix seconds).
    expires: Option<u64>,
    /// When the token was stored (Unix seconds).
    stored: u64,
    /// What the token's forge said about it.
    learned: Learned,
}

/// Every stored credential, sorted as [`crate::manage::list`] sorts them.
fn rows(s: &mut Session<'_, '_>) -> Result<Vec<Row>> {
    let placed = crate::manage::list(&mut s.chain)?;
    Ok(placed
        .into_iter()
        .map(|(r, backend)| Row {
            expires: r.expiry(),
            stored: r.stored.secs,
            learned: r.learned,
            key: r.key,
            backend,
        })
        .collect())
}

/// Says on stderr that nothing is stored, and where `list` looked: a store passed over (out
/// of reach) is not named here; its own note follows.
fn print_none_stored(s: &mut Session<'_, '_>) {
    let skipped: Vec<Backend> = s.chain.passed_over().collect();
    let where_ = s
        .chain
        .stores()
        .map(|st| st.backend())
        .filter(|b| !skipped.contains(b))
        .map(|b| b.name())
        .collect::<Vec<_>>()
        .join(" or ");
    // The file's path, or the memory backend's keyring; the keychain has no place to show.
    let place = s
        .chain
        .stores()
        .find_map(|st| st.location())
        .unwrap_or_else(|| crate::display::escape_path(&s.config.file));
    s.err(&format!(
        "no credentials stored (in the {where_} store: {place})"
    ));
}

/// `--json`: an array of one object per row, on as many lines as rows plus two.
fn json(rows: &[Row]) -> String {
    let mut out = String::from("[");
    for (i, r) in rows.iter().enumerate() {
        out.push_str(if i == 0 { "\n  " } else { ",\n  " });
        out.push_str(&format!(
            "{{\"protocol\": {}, \"host\": {}, \"path\": {}, \"username\": {}, \"backend\": \"{}\", \"expires_utc\": {}, \"stored_utc\": {}, \"login\": {}, \"scopes\": {}, \"verified_utc\": {}}}",
            json_string(&r.key.host.protocol),
            json_string(&r.key.host.host),
            r.key.path.as_deref().map_or("null".into(), json_string),
            r.key.username.as_deref().map_or("null".into(), json_string),
            r.backend.name(),
            r.expires.map_or("null".into(), |e| e.to_string()),
            r.stored,
            r.learned.login.as_deref().map_or("null".into(), json_string),
            r.learned.scopes.as_ref().map_or("null".into(), |s| {
                let items: Vec<String> = s.iter().map(|x| json_string(x)).collect();
                format!("[{}]", items.join(", "))
            }),
            r.learned.verified.map_or("null".into(), |v| v.to_string()),
        ));
    }
    out.push_str(if rows.is_empty() { "]" } else { "\n]" });
    out
}

/// How the table is drawn: the time of the run, the `--warn` window and whether to colour.
struct Look {
    now: u64,
    warn: u64,
    color: bool,
}

/// The header; the forge's columns (LOGIN, VERIFIED, SCOPES) only once a forge has said
/// something about one of the tokens.
const HEADER: [&str; 8] = [
    "URL", "USERNAME", "BACKEND", "EXPIRES", "STORED", "LOGIN", "VERIFIED", "SCOPES",
];

/// The table's lines, header first, columns aligned.
fn table(rows: &[Row], look: &Look) -> Vec<String> {
    let columns = if rows.iter().any(|r| !r.learned.is_empty()) {
        HEADER.len()
    } else {
        5
    };
    let mut cells = vec![(HEADER.map(String::from), "")];
    cells.extend(rows.iter().map(|r| row_cells(r, look)));
    for (row, _) in &mut cells {
        for cell in &mut row[columns..] {
            cell.clear();
        }
    }
    let widths: Vec<usize> = (0..HEADER.len())
        .map(|c| {
            cells
                .iter()
                .map(|(row, _)| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    cells
        .iter()
        .map(|(row, style)| table_line(row, &widths, style, look.color))
        .collect()
}

/// A row's cells, and the colour of its EXPIRES cell: red once expired, yellow within the
/// `--warn` window.
fn row_cells(r: &Row, look: &Look) -> ([String; 8], &'static str) {
    let url = Key {
        username: None,
        ..r.key.clone()
    }
    .display();
    let user = r.key.username.as_deref().map_or("-".into(), escape);
    let now = look.now;
    let (expires, style) = match r.expires {
        None => ("unknown".to_string(), ""),
        Some(e) if now >= e => (format!("{} (expired)", format_date(e)), "\x1b[31m"),
        Some(e) => {
            let style = if e - now <= look.warn { "\x1b[33m" } else { "" };
            (
                format!("{} ({})", format_date(e), describe_remaining(e, now)),
                style,
            )
        }
    };
    let learned = &r.learned;
    let scopes = match &learned.scopes {
        None => "-".to_string(),
        Some(s) if s.is_empty() => "(none)".to_string(),
        Some(s) => s.iter().map(|x| escape(x)).collect::<Vec<_>>().join(","),
    };
    let cells = [
        url,
        user,
        r.backend.name().into(),
        expires,
        format_date(r.stored),
        learned.login.as_deref().map_or("-".into(), escape),
        learned.verified.map_or("-".into(), format_date),
        scopes,
    ];
    (cells, style)
}

/// One line of the table: each cell padded to its column's width plus two blanks, the
/// line's trailing blanks trimmed.
fn table_line(row: &[String; 8], widths: &[usize], style: &str, color: bool) -> String {
    let mut line = String::new();
    for (c, cell) in row.iter().enumerate() {
        let pad = widths[c] - cell.chars().count();
        if c == 3 && color && !style.is_empty() {
            line.push_str(&format!("{style}{cell}\x1b[0m"));
        } else {
            line.push_str(cell);
        }
        if c < row.len() - 1 {
            line.push_str(&" ".repeat(pad + 2));
        }
    }
    line.truncate(line.trim_end().len());
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_columns_and_colours_only_the_expiry() {
        let row = |host: &[u8], user: &[u8], expires| Row {
            key: Key::new(b"https", host, None, Some(user)),
            backend: Backend::File,
            expires,
            stored: 0,
            learned: Learned::default(),
        };
        let day = 86_400;
        let rows = [
            row(b"a.example", b"octo", None),
            row(b"b.example.org", b"x", Some(3 * day)),
        ];
        let look = Look {
            now: 2 * day,
            warn: 7 * day,
            color: false,
        };
        assert_eq!(
            table(&rows, &look),
            [
                "URL                    USERNAME  BACKEND  EXPIRES                STORED",
                "https://a.example      octo      file     unknown                1970-01-01",
                "https://b.example.org  x         file     1970-01-04 (in 1 day)  1970-01-01",
            ]
        );
        let coloured = table(
            &rows,
            &Look {
                color: true,
                ..look
            },
        );
        assert!(
            coloured[2].contains("\x1b[33m1970-01-04 (in 1 day)\x1b[0m  "),
            "{coloured:?}"
        );
        assert!(!coloured[1].contains('\x1b'));
    }

    #[test]
    fn the_forges_columns_appear_once_a_forge_has_spoken() {
        let mut confirmed = Row {
            key: Key::new(b"https", b"github.com", None, Some(b"octo")),
            backend: Backend::File,
            expires: None,
            stored: 0,
            learned: Learned {
                login: Some(b"octocat".to_vec()),
                scopes: Some(vec![b"repo".to_vec(), b"read:org".to_vec()]),
                verified: Some(86_400),
            },
        };
        let plain = Row {
            key: Key::new(b"https", b"h.example", None, Some(b"u")),
            learned: Learned::default(),
            ..confirmed_clone(&confirmed)
        };
        let look = Look {
            now: 0,
            warn: 0,
            color: false,
        };
        assert_eq!(
            table(std::slice::from_ref(&plain), &look)[0],
            "URL                USERNAME  BACKEND  EXPIRES  STORED"
        );
        confirmed.learned.scopes = Some(vec![b"repo".to_vec(), b"read:org".to_vec()]);
        assert_eq!(
            table(&[confirmed, plain], &look),
            [
                "URL                 USERNAME  BACKEND  EXPIRES  STORED      LOGIN    VERIFIED    SCOPES",
                "https://github.com  octo      file     unknown  1970-01-01  octocat  1970-01-02  repo,read:org",
                "https://h.example   u         file     unknown  1970-01-01  -        -           -",
            ]
        );
    }

    fn confirmed_clone(r: &Row) -> Row {
        Row {
            key: r.key.clone(),
            backend: r.backend,
            expires: r.expires,
            stored: r.stored,
            learned: r.learned.clone(),
        }
    }
}
