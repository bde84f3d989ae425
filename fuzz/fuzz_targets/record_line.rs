//! The credentials file's line codec on arbitrary bytes: decoding never panics, and a line
//! that decodes re-encodes to a line that decodes to the same record (one spelling per value).
#![no_main]

use git_credential_pat::store::format::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(rec) = decode(data) else { return };
    let line = encode(&rec);
    assert_eq!(line.last(), Some(&b'\n'));
    assert!(!line[..line.len() - 1].contains(&b'\n'));
    let back = decode(&line[..line.len() - 1]).expect("an encoded record decodes");
    assert_eq!(back.key, rec.key);
    assert!(back.same_content(&rec));
    assert_eq!(back.authtype, rec.authtype);
    assert_eq!(&encode(&back)[..], &line[..], "one spelling per record");
});
