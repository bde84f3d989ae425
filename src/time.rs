//! Durations and dates as people write them, without a time crate: the helper needs only
//! whole seconds, UTC dates, and the two input forms DESIGN.md allows.

/// Parses `90s`, `30m`, `12h`, `7d`, `2w` or a bare number of seconds. No compound forms.
pub fn parse_duration(s: &str) -> Option<u64> {
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    if num.is_empty() || num.len() > 12 {
        return None;
    }
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `YYYY-MM-DD` of Unix seconds, UTC.
pub fn format_date(secs: u64) -> String {
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD HH:MM UTC` of Unix seconds.
pub fn format_datetime(secs: u64) -> String {
    let rem = secs % 86_400;
    format!(
        "{} {:02}:{:02} UTC",
        format_date(secs),
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Parses `YYYY-MM-DD` (the end of that day, 23:59:59 UTC) or an RFC 3339 date-time
/// (`2026-12-01T10:00:00Z`, `2026-12-01T10:00:00.5+02:00`) into Unix seconds.
pub fn parse_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return None;
    }
    let day = days_from_civil(i64::from(y), mo, d);
    if b.len() == 10 {
        return u64::try_from(day * 86_400 + 86_399).ok();
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 20 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset: i64 = match &b[i..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = i64::from(oh * 3600 + om * 60);
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let t = day * 86_400 + i64::from(h * 3600 + mi * 60 + sec) - offset;
    u64::try_from(t).ok()
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        _ => 28,
    }
}

/// "in N days" (rounded down), "in N hours" under a day, or "expired".
pub fn describe_remaining(expires: u64, now: u64) -> String {
    if now >= expires {
        return "expired".into();
    }
    // Rounded down; days are counted in whole minutes (rounded up) first, so the same expiry
    // reads the same in `add` and in a `list` run a few seconds later: a token added for 30
    // days is "in 30 days" for its first minute, not "in 29 days" one second on.
    let left = expires - now;
    match left {
        0..60 => "in less than a minute".into(),
        60..3600 => format!("in {} min", left / 60),
        3600..86_400 => format!("in {} h", left / 3600),
        _ => {
            let days = left.div_ceil(60) / 1440;
            format!("in {}", crate::display::count(days as usize, "day"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("30m"), Some(1800));
        assert_eq!(parse_duration("12h"), Some(43_200));
        assert_eq!(parse_duration("7d"), Some(604_800));
        assert_eq!(parse_duration("2w"), Some(1_209_600));
        assert_eq!(parse_duration("0"), Some(0));
        for bad in [
            "",
            "h",
            "1h30m",
            "1.5h",
            "-1",
            "1y",
            " 1h",
            "1H",
            "99999999999999w",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_datetime(1_767_225_599), "2025-12-31 23:59 UTC");
        assert_eq!(parse_date("2025-12-31"), Some(1_767_225_599));
        assert_eq!(parse_date("2024-02-29"), Some(1_709_251_199));
        assert_eq!(parse_date("2026-12-01T10:00:00Z"), Some(1_796_119_200));
        assert_eq!(
            parse_date("2026-12-01T12:00:00.25+02:00"),
            Some(1_796_119_200)
        );
        assert_eq!(parse_date("2026-12-01T05:00:00-05:00"), Some(1_796_119_200));
        for bad in [
            "2025-02-29",
            "2025-13-01",
            "2025-1-01",
            "tomorrow",
            "2026-12-01T10:00:00",
            "2026-12-01T25:00:00Z",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        for secs in [0, 951_782_400, 1_764_000_000, 4_102_444_800] {
            let d = format_date(secs);
            assert_eq!(parse_date(&d).unwrap() / 86_400, secs / 86_400, "{d}");
        }
    }

    #[test]
    fn remaining_time_rounds_down() {
        assert_eq!(describe_remaining(100, 100), "expired");
        assert_eq!(describe_remaining(100 + 86_400 * 3 - 61, 100), "in 2 days");
        assert_eq!(
            describe_remaining(100 + 86_400 * 3 - 1, 100),
            "in 3 days",
            "counted in whole minutes first: stable for the first minute"
        );
        assert_eq!(describe_remaining(100 + 86_400, 100), "in 1 day");
        assert_eq!(describe_remaining(100 + 7200, 100), "in 2 h");
        assert_eq!(describe_remaining(100 + 86_399, 100), "in 23 h");
        assert_eq!(describe_remaining(100 + 61, 100), "in 1 min");
        assert_eq!(describe_remaining(100 + 59, 100), "in less than a minute");
    }
}
