//! git's request parser on arbitrary bytes: it never panics, a request it accepts has no CR
//! or NUL in any field, and whatever it accepts can be answered without injecting a line.
#![no_main]

use git_credential_pat::protocol::{Request, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(req) = Request::parse(data) else {
        return;
    };
    for field in [
        &req.protocol,
        &req.host,
        &req.path,
        &req.username,
        &req.authtype,
    ]
    .into_iter()
    .flatten()
    {
        assert!(!field.iter().any(|&b| b == b'\r' || b == 0 || b == b'\n'));
    }
    let mut answer = Response::new();
    if let (Some(u), Some(p)) = (&req.username, &req.password) {
        answer.push("username", u).unwrap();
        answer.push("password", p.expose()).unwrap();
    }
    // Every answer line is key=value and re-parses to the same values.
    let again = Request::parse(answer.as_bytes()).unwrap();
    assert_eq!(
        again.username,
        if req.password.is_some() {
            req.username.clone()
        } else {
            None
        }
    );
});
