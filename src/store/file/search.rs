//! Reading the sorted credentials file: a binary search with positioned reads for the group
//! of lines of one host, a streaming read of every record, a full order check for writers,
//! and the line number of a corrupt line for its error.
//!
//! Every line is at most [`MAX_LINE`] bytes: a longer one is a corrupt file, reported
//! after reading at most that much of it, never the whole line.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

use zeroize::Zeroizing;

use super::{FileStore, Opened};
use crate::fsio::read_at;
use crate::record::Record;
use crate::store::Error;
use crate::store::format;

/// The longest line the file may hold, LF excluded: 1 MiB (a whole request's limit, so any
/// credential git can send fits).
pub const MAX_LINE: usize = 1 << 20;

const TOO_LONG: &str = "a line is longer than 1 MiB";

/// Why [`Window::line`] could not give a line.
enum WindowError {
    Io(std::io::Error),
    Corrupt(&'static str),
}

/// A run of lines read with positioned reads of at least 64 KiB each (not one read per
/// line), in a buffer wiped when it is replaced or dropped.
struct Window {
    buf: Zeroizing<Vec<u8>>,
    /// The file offset of `buf[0]`.
    at: u64,
}

impl Window {
    const CHUNK: usize = 64 * 1024;

    fn new(at: u64) -> Window {
        Window {
            buf: Zeroizing::new(Vec::new()),
            at,
        }
    }

    /// The line starting at `pos` (≥ every earlier call's), without its LF.
    fn line(&mut self, o: &Opened, pos: u64) -> Result<&[u8], WindowError> {
        let mut want = Self::CHUNK;
        loop {
            let inside = pos >= self.at && pos <= self.at + self.buf.len() as u64;
            if inside {
                let rel = (pos - self.at) as usize;
                if let Some(i) = self.buf[rel..].iter().position(|&b| b == b'\n') {
                    return Ok(&self.buf[rel..rel + i]);
                }
                want = want.max((self.buf.len() - rel) * 2);
            }
            if want > MAX_LINE + Self::CHUNK {
                return Err(WindowError::Corrupt(TOO_LONG));
            }
            let n = (want as u64).min(o.len - pos) as usize;
            let got = read_at(&o.file, pos, n).map_err(WindowError::Io)?;
            let complete = got.contains(&b'\n');
            if !complete && got.len() < want {
                return Err(WindowError::Corrupt("the last line has no newline"));
            }
            self.buf = got;
            self.at = pos;
            if !complete {
                want *= 2;
            }
        }
    }
}

impl FileStore {
    /// Reads the group of lines starting with `prefix`: the records and their byte range.
    pub(super) fn read_group(
        &self,
        o: &Opened,
        prefix: &[u8],
        keep: &dyn Fn(&crate::key::Key) -> bool,
    ) -> Result<(Vec<Record>, (u64, u64)), Error> {
        let start = self.lower_bound(o, prefix)?;
        let mut records: Vec<Record> = Vec::new();
        let mut window = Window::new(start);
        let mut pos = start;
        let mut prev: Option<Zeroizing<Vec<u8>>> = None;
        let mut prev_key: Option<crate::key::Key> = None;
        while pos < o.len {
            let line = match window.line(o, pos) {
                Ok(line) => line,
                Err(reason) => return Err(self.read_failure(o, pos, reason)),
            };
            if !line.starts_with(prefix) {
                break;
            }
            if prev.as_ref().is_some_and(|p| line <= &p[..]) {
                return Err(self.unsorted(o, pos));
            }
            let (key, rest) =
                format::decode_key(line).map_err(|r| self.decoding(o, pos, line, r))?;
            // Sorted lines keep one key's lines together: a duplicate is the previous one.
            if prev_key.as_ref() == Some(&key) {
                return Err(self.corrupt(o, pos, "duplicate credential"));
            }
            if keep(&key) {
                let rec = format::decode_rest(key.clone(), rest)
                    .map_err(|r| self.decoding(o, pos, line, r))?;
                records.push(rec);
            }
            prev_key = Some(key);
            let next = pos + line.len() as u64 + 1;
            prev = Some(Zeroizing::new(line.to_vec()));
            pos = next;
        }
        Ok((records, (start, pos)))
    }

    fn read_failure(&self, o: &Opened, pos: u64, why: WindowError) -> Error {
        match why {
            WindowError::Io(e) => self.io_err("read", &self.path)(e),
            WindowError::Corrupt(reason) => self.corrupt(o, pos, reason),
        }
    }

    /// Offset of the first line `>= prefix` (bytewise), or the end of the file.
    fn lower_bound(&self, o: &Opened, prefix: &[u8]) -> Result<u64, Error> {
        let (mut lo, mut hi) = (o.data_start, o.len);
        // Invariant: lo and hi are line starts (or the end); every line before lo is < prefix
        // and the line at hi (if any) is >= prefix.
        while hi - lo > 4096 {
            let mid = lo + (hi - lo) / 2;
            let start = self.next_line_start(o, mid)?;
            if start >= hi {
                break;
            }
            let line = self.line_at(o, start)?;
            if line[..] < *prefix {
                lo = start + line.len() as u64 + 1;
            } else {
                hi = start;
            }
        }
        let mut pos = lo;
        while pos < hi {
            let line = self.line_at(o, pos)?;
            if line[..] >= *prefix {
                return Ok(pos);
            }
            pos += line.len() as u64 + 1;
        }
        Ok(hi)
    }

    /// The error for the line at `pos` that failed to decode for `reason`; a CR at its end
    /// means the file has CRLF endings.
    fn decoding(&self, o: &Opened, pos: u64, line: &[u8], reason: format::Reason) -> Error {
        if line.last() == Some(&b'\r') {
            Error::CrlfEndings {
                path: self.path.clone(),
            }
        } else {
            self.corrupt(o, pos, reason)
        }
    }

    /// The first line start at or after `pos` (pos > data_start).
    fn next_line_start(&self, o: &Opened, pos: u64) -> Result<u64, Error> {
        let mut at = pos - 1;
        while at < o.len {
            if at - (pos - 1) > MAX_LINE as u64 {
                return Err(self.corrupt(o, pos, TOO_LONG));
            }
            let n = 512.min(o.len - at) as usize;
            let chunk = read_at(&o.file, at, n).map_err(self.io_err("read", &self.path))?;
            if let Some(i) = chunk.iter().position(|&b| b == b'\n') {
                return Ok(at + i as u64 + 1);
            }
            at += n as u64;
        }
        Ok(o.len)
    }

    /// The line starting at `pos`, without its LF, in a buffer wiped on drop.
    fn line_at(&self, o: &Opened, pos: u64) -> Result<Zeroizing<Vec<u8>>, Error> {
        let mut want = 512usize;
        loop {
            let n = (want as u64).min(o.len - pos) as usize;
            let mut buf = read_at(&o.file, pos, n).map_err(self.io_err("read", &self.path))?;
            if let Some(i) = buf.iter().position(|&b| b == b'\n') {
                buf.truncate(i);
                return Ok(buf);
            }
            if n < want {
                return Err(self.corrupt(o, pos, "the last line has no newline"));
            }
            if want > MAX_LINE {
                return Err(self.corrupt(o, pos, TOO_LONG));
            }
            want = (want * 4).min(MAX_LINE + 1);
        }
    }

    /// A corruption error naming the line number of the byte offset `pos` (counted only
    /// on this error path).
    fn corrupt(&self, o: &Opened, pos: u64, reason: &'static str) -> Error {
        let mut line = 1;
        let mut off = 0;
        while off < pos {
            let n = 65536.min(pos - off) as usize;
            match read_at(&o.file, off, n) {
                Ok(chunk) => line += chunk.iter().filter(|&&b| b == b'\n').count(),
                Err(_) => break,
            }
            off += n as u64;
        }
        Error::Corrupt {
            path: self.path.clone(),
            line,
            reason,
        }
    }

    /// An out-of-order error naming the line at byte offset `pos`.
    fn unsorted(&self, o: &Opened, pos: u64) -> Error {
        match self.corrupt(o, pos, "") {
            Error::Corrupt { line, .. } => Error::Unsorted {
                path: self.path.clone(),
                line,
            },
            other => other,
        }
    }

    /// Streams every line after the header, each at most [`MAX_LINE`] bytes, checking that
    /// they are in strictly increasing bytewise order (what the binary search relies on) and
    /// decoding each one when `decode` is set. Memory: one line at a time.
    pub(super) fn scan(&self, o: &Opened, decode: bool) -> Result<Vec<Record>, Error> {
        let mut file = &o.file;
        file.seek(SeekFrom::Start(o.data_start))
            .map_err(self.io_err("read", &self.path))?;
        let mut reader = BufReader::with_capacity(64 * 1024, file.take(o.len - o.data_start));
        let mut records = Vec::new();
        let mut prev = Zeroizing::new(Vec::new());
        let mut line = Zeroizing::new(Vec::new());
        let mut lineno = if o.data_start > 0 { 1 } else { 0 };
        loop {
            line.clear();
            let n = (&mut reader)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut line)
                .map_err(self.io_err("read", &self.path))?;
            if n == 0 {
                break;
            }
            lineno += 1;
            let corrupt = |reason| Error::Corrupt {
                path: self.path.clone(),
                line: lineno,
                reason,
            };
            if line.last() != Some(&b'\n') {
                return Err(corrupt(if n > MAX_LINE {
                    TOO_LONG
                } else {
                    "the last line has no newline"
                }));
            }
            line.pop();
            if line.last() == Some(&b'\r') {
                return Err(Error::CrlfEndings {
                    path: self.path.clone(),
                });
            }
            if lineno > 1 + usize::from(o.data_start > 0) && line[..] <= prev[..] {
                return Err(Error::Unsorted {
                    path: self.path.clone(),
                    line: lineno,
                });
            }
            if decode {
                let rec: Record = format::decode(&line).map_err(corrupt)?;
                if records.last().is_some_and(|r: &Record| r.key == rec.key) {
                    return Err(corrupt("duplicate credential"));
                }
                records.push(rec);
            }
            std::mem::swap(&mut prev, &mut line);
        }
        Ok(records)
    }

    /// Reads and decodes every record (see [`FileStore::scan`]), sorted by key.
    pub(super) fn read_all(&self, o: &Opened) -> Result<Vec<Record>, Error> {
        let mut records = self.scan(o, true)?;
        records.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(records)
    }
}
