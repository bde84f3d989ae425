//! Reading the sorted credentials file: a binary search with positioned reads for the group
//! of lines of one host, a full read of every record, and the line number of a corrupt line
//! for its error.

use std::io::{Read, Seek, SeekFrom};

use zeroize::Zeroizing;

use super::fsio::read_at;
use super::{FileStore, Opened};
use crate::record::Record;
use crate::store::Error;
use crate::store::format;

impl FileStore {
    /// Reads the group of lines starting with `prefix`: the records and their byte range.
    pub(super) fn read_group(
        &self,
        o: &Opened,
        prefix: &[u8],
    ) -> Result<(Vec<Record>, (u64, u64)), Error> {
        let start = self.lower_bound(o, prefix)?;
        let mut records: Vec<Record> = Vec::new();
        let mut pos = start;
        while pos < o.len {
            let line = self.line_at(o, pos)?;
            if !line.starts_with(prefix) {
                break;
            }
            let rec = format::decode(&line).map_err(|reason| self.corrupt(o, pos, reason))?;
            if records.iter().any(|r| r.key == rec.key) {
                return Err(self.corrupt(o, pos, "duplicate credential"));
            }
            records.push(rec);
            pos += line.len() as u64 + 1;
        }
        Ok((records, (start, pos)))
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

    /// The first line start at or after `pos` (pos > data_start).
    fn next_line_start(&self, o: &Opened, pos: u64) -> Result<u64, Error> {
        let mut at = pos - 1;
        while at < o.len {
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
            want *= 4;
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

    /// Reads and decodes every record.
    pub(super) fn read_all(&self, o: &Opened) -> Result<Vec<Record>, Error> {
        let mut buf = Zeroizing::new(Vec::with_capacity(o.len as usize + 1));
        (&o.file)
            .seek(SeekFrom::Start(0))
            .map_err(self.io_err("read", &self.path))?;
        (&o.file)
            .take(o.len)
            .read_to_end(&mut buf)
            .map_err(self.io_err("read", &self.path))?;
        let data = &buf[o.data_start as usize..];
        if !data.is_empty() && data.last() != Some(&b'\n') {
            let pos = o.data_start
                + data
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i as u64 + 1);
            return Err(self.corrupt(o, pos, "the last line has no newline"));
        }
        let mut records: Vec<Record> = Vec::new();
        let mut lineno = if o.data_start > 0 { 1 } else { 0 };
        for line in data.split(|&b| b == b'\n') {
            if line.is_empty() {
                continue;
            }
            lineno += 1;
            let corrupt = |reason| Error::Corrupt {
                path: self.path.clone(),
                line: lineno,
                reason,
            };
            let rec = format::decode(line).map_err(corrupt)?;
            records.push(rec);
        }
        records.sort_by(|a, b| a.key.cmp(&b.key));
        if records.windows(2).any(|w| w[0].key == w[1].key) {
            return Err(Error::Corrupt {
                path: self.path.clone(),
                line: 0,
                reason: "duplicate credential",
            });
        }
        Ok(records)
    }
}
