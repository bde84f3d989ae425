use std::process::{Command, Stdio};

use crate::common::{BIN, mode, run, set_mode, text};
use crate::protocol::Pat;

fn cred(host: &str, user: &str, token: &str) -> String {
    format!("protocol=https\nhost={host}\nusername={user}\npassword={token}\n")
}

/// Runs the helper under `umask 000` (through sh, the token still only on stdin).
fn store_with_umask_000(p: &Pat, input: &str) {
    let script = format!(
        "umask 000; exec '{BIN}' --backend=file --file '{}' store",
        p.file.display()
    );
    let out = run(
        p.world.command("sh").args(["-c", &script]),
        input.as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn file_and_directory_are_private_whatever_the_umask() {
    let p = Pat::new("umask");
    store_with_umask_000(&p, &cred("h", "u", "t"));
    assert_eq!(mode(&p.file), 0o600);
    assert_eq!(mode(p.file.parent().unwrap()), 0o700);
    store_with_umask_000(&p, &cred("h", "u", "t2"));
    assert_eq!(mode(&p.file), 0o600, "a rewrite stays private");
    let leftovers: Vec<_> = std::fs::read_dir(p.file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_file_is_human_readable_and_documented() {
    let p = Pat::new("format");
    p.store("protocol=https\nhost=GitHub.com\npath=acme/tool.git\nusername=octo cat\npassword=ghp_x\npassword_expiry_utc=4000000000\n");
    let c = p.contents();
    let mut lines = c.lines();
    assert_eq!(lines.next(), Some("# git-credential-pat credentials v1"));
    let line = lines.next().unwrap();
    assert!(
        line.starts_with("https://github.com /acme/tool @octo%20cat stored="),
        "{line}"
    );
    assert!(
        line.ends_with(" expires=4000000000 password=ghp_x"),
        "{line}"
    );
    assert!(lines.next().is_none());
}

fn assert_refused(p: &Pat, expect: &str) {
    let before = std::fs::read(&p.file).ok();
    for (action, input) in [
        ("get", "protocol=https\nhost=h\n"),
        ("store", &*cred("h", "u", "new")),
        ("erase", "protocol=https\nhost=h\n"),
    ] {
        let (code, out, err) = p.run(action, input);
        assert_eq!(code, 1, "{action}: {err}");
        assert_eq!(out, "");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(expect),
            "{action}: {err:?} should contain {expect:?}"
        );
        assert_eq!(
            std::fs::read(&p.file).ok(),
            before,
            "{action} touched the file"
        );
    }
}

#[test]
fn loose_permissions_are_refused_with_the_fix() {
    let p = Pat::new("loose");
    p.store(&cred("h", "u", "t"));
    for m in [0o644, 0o640, 0o604, 0o660, 0o606] {
        set_mode(&p.file, m);
        assert_refused(
            &p,
            &format!(
                "(mode {m:04o}); refusing to use it: run chmod 600 {},",
                p.file.display()
            ),
        );
        assert_eq!(mode(&p.file), m, "left as it was");
    }
    set_mode(&p.file, 0o600);
    assert_eq!(
        p.get("protocol=https\nhost=h\n"),
        "username=u\npassword=t\n"
    );
}

#[test]
fn a_group_writable_directory_is_refused() {
    let p = Pat::new("dirmode");
    p.store(&cred("h", "u", "t"));
    let dir = p.file.parent().unwrap();
    set_mode(dir, 0o770);
    assert_refused(&p, &format!("run chmod 700 {},", dir.display()));
    set_mode(dir, 0o1777);
    assert_refused(&p, "is a shared directory (mode 1777), writable by others");
    set_mode(dir, 0o755);
    assert_eq!(
        p.get("protocol=https\nhost=h\n"),
        "username=u\npassword=t\n",
        "0755 is not writable by others"
    );
}

#[test]
fn a_symlink_is_refused() {
    let p = Pat::new("symlink");
    p.store(&cred("h", "u", "t"));
    let real = p.file.with_file_name("real");
    std::fs::rename(&p.file, &real).unwrap();
    std::os::unix::fs::symlink(&real, &p.file).unwrap();
    assert_refused(&p, "is a symbolic link");
    assert!(
        std::fs::symlink_metadata(&p.file)
            .unwrap()
            .file_type()
            .is_symlink(),
        "link kept"
    );
}

#[test]
fn a_file_owned_by_someone_else_is_refused() {
    let p = Pat::new("owner");
    p.store(&cred("h", "u", "t"));
    let status = Command::new("chown")
        .arg("65534")
        .arg(&p.file)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "this test changes a file's owner and must run as root (CI does): {}",
        text(&status.stderr)
    );
    assert_refused(&p, "is owned by uid 65534, not by you");
}

#[test]
fn a_directory_in_place_of_the_file_is_refused() {
    let p = Pat::new("notfile");
    std::fs::create_dir_all(&p.file).unwrap();
    set_mode(p.file.parent().unwrap(), 0o700);
    let (code, _, err) = p.run("get", "protocol=https\nhost=h\n");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is a directory, not a regular file"), "{err}");
}

fn write_private(p: &Pat, contents: &[u8]) {
    crate::common::write_private(&p.file, contents);
}

#[test]
fn a_corrupt_line_is_reported_by_number_and_nothing_changes() {
    let p = Pat::new("corrupt");
    write_private(
        &p,
        b"# git-credential-pat credentials v1\nhttps://h / @a stored=1.000000000 password=ok\nhttps://h / @b stored=garbage password=SECRETTOKEN\n",
    );
    assert_refused(
        &p,
        "is corrupt at line 3 (invalid stored= (expected Unix SECONDS.NANOSECONDS, nine digits after the dot))",
    );
    let (_, _, err) = p.run("get", "protocol=https\nhost=h\n");
    assert!(!err.contains("SECRETTOKEN"));
}

#[test]
fn a_missing_final_newline_is_corruption() {
    let p = Pat::new("nonl");
    write_private(
        &p,
        b"# git-credential-pat credentials v1\nhttps://h / @a stored=1.000000000 password=ok",
    );
    assert_refused(&p, "line 2 (the last line has no newline)");
}

#[test]
fn a_git_credential_store_file_is_not_taken_for_ours() {
    let p = Pat::new("notours");
    write_private(&p, b"https://u:tok@h\n");
    assert_refused(&p, "git credential-pat import");
}

#[test]
fn a_newer_format_asks_for_an_upgrade() {
    let p = Pat::new("newer");
    write_private(&p, b"# git-credential-pat credentials v2\nanything\n");
    assert_refused(
        &p,
        "format v2, newer than this git-credential-pat understands (v1): upgrade",
    );
}

#[test]
fn an_empty_file_is_an_empty_store() {
    let p = Pat::new("empty");
    write_private(&p, b"");
    assert_eq!(p.get("protocol=https\nhost=h\n"), "");
    p.store(&cred("h", "u", "t"));
    assert!(
        p.contents()
            .starts_with("# git-credential-pat credentials v1\n")
    );
}

/// Builds a sorted v1 file of `n` credentials on hosts `hNNNNNN.example` directly.
fn big_file(p: &Pat, n: usize, long_at: usize) -> Vec<String> {
    let mut lines: Vec<String> = (0..n)
        .map(|i| {
            let token = if i == long_at {
                "L".repeat(60_000)
            } else {
                format!("tok{i}")
            };
            format!("https://h{i:06}.example / @user{i} stored=1700000000.{i:09} password={token}")
        })
        .collect();
    lines.sort();
    let mut body = String::from("# git-credential-pat credentials v1\n");
    for l in &lines {
        body.push_str(l);
        body.push('\n');
    }
    write_private(p, body.as_bytes());
    lines
}

#[test]
fn lookups_in_a_large_file_find_every_position() {
    let p = Pat::new("large");
    let n = 20_000;
    big_file(&p, n, 777);
    for i in [
        0, 1, 2, 776, 777, 778, 9_999, 10_000, 12_345, 19_998, 19_999,
    ] {
        let token = if i == 777 {
            "L".repeat(60_000)
        } else {
            format!("tok{i}")
        };
        assert_eq!(
            p.get(&format!("protocol=https\nhost=h{i:06}.example\n")),
            format!("username=user{i}\npassword={token}\n"),
            "host {i}"
        );
    }
    for missing in [
        "a.example",
        "h000000.example.x",
        "h0100000.example",
        "h020000.example",
        "zzz",
        "h00777.example",
    ] {
        assert_eq!(
            p.get(&format!("protocol=https\nhost={missing}\n")),
            "",
            "{missing}"
        );
    }
    assert_eq!(p.get("protocol=http\nhost=h000001.example\n"), "");
    // A write in the middle keeps the rest byte for byte and the order intact.
    let before = p.contents();
    p.store(&cred("h010000.example", "new", "fresh"));
    p.erase("protocol=https\nhost=h000002.example\n");
    let after = p.contents();
    assert_eq!(after.lines().count(), before.lines().count());
    let mut sorted: Vec<&str> = after.lines().skip(1).collect();
    sorted.sort();
    assert_eq!(
        sorted,
        after.lines().skip(1).collect::<Vec<_>>(),
        "still sorted"
    );
    assert!(!after.contains("h000002.example"));
    assert_eq!(
        p.get("protocol=https\nhost=h010000.example\nusername=new\n"),
        "username=new\npassword=fresh\n"
    );
    assert_eq!(
        p.get("protocol=https\nhost=h019999.example\n"),
        "username=user19999\npassword=tok19999\n"
    );
}

#[test]
fn concurrent_stores_lose_nothing() {
    let p = Pat::new("concurrent");
    // A populated file, so each writer copies real data around its change.
    big_file(&p, 2_000, usize::MAX);
    let k = 32;
    let children: Vec<_> = (0..k)
        .map(|i| {
            // Half on hosts of their own, half crowding one host (same group rewritten).
            let host = if i % 2 == 0 {
                format!("c{i}.example")
            } else {
                "shared.example".into()
            };
            let mut child = p
                .world
                .helper()
                .args(p.args("store"))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let input = cred(&host, &format!("w{i}"), &format!("tok-{i}"));
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
            child
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    for i in 0..k {
        let host = if i % 2 == 0 {
            format!("c{i}.example")
        } else {
            "shared.example".into()
        };
        assert_eq!(
            p.get(&format!("protocol=https\nhost={host}\nusername=w{i}\n")),
            format!("username=w{i}\npassword=tok-{i}\n"),
            "writer {i} lost"
        );
    }
    assert_eq!(p.contents().lines().count(), 1 + 2_000 + k);
}

#[test]
fn a_held_lock_bounds_the_wait_and_reads_go_on() {
    let p = Pat::new("lock");
    p.store(&cred("h", "u", "t"));
    let lock = format!("{}.lock", p.file.display());
    // Hold the writers' lock from another process for longer than the helper waits.
    let mut holder = Command::new("python3")
        .args(["-c", "import fcntl,sys,time; f=open(sys.argv[1],'a'); fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(30)", &lock])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for this test: install python3");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "locked\n");
    let before = std::fs::read(&p.file).unwrap();
    assert_eq!(
        p.get("protocol=https\nhost=h\n"),
        "username=u\npassword=t\n",
        "readers take no lock"
    );
    let start = std::time::Instant::now();
    let (code, _, err) = p.run("store", &cred("h", "u", "new"));
    let waited = start.elapsed();
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("timed out after 10 s waiting for the lock {lock}")),
        "{err}"
    );
    assert!(
        waited >= std::time::Duration::from_secs(10) && waited < std::time::Duration::from_secs(15),
        "{waited:?}"
    );
    assert_eq!(std::fs::read(&p.file).unwrap(), before);
    p.store(&cred("h", "u", "new"));
}

#[test]
fn a_full_disk_fails_cleanly_and_keeps_the_old_file() {
    let w = crate::common::World::new("diskfull");
    let mnt = w.root.join("tiny");
    std::fs::create_dir_all(&mnt).unwrap();
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16k,mode=0700", "tmpfs"])
        .arg(&mnt)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "this test mounts a small tmpfs and must run as root (CI does): {}",
        text(&out.stderr)
    );
    let p = Pat {
        world: w,
        file: mnt.join("credentials"),
    };
    p.store(&cred("h", "u", "small"));
    let before = std::fs::read(&p.file).unwrap();
    let (code, _, err) = p.run("store", &cred("other", "u", &"X".repeat(30_000)));
    let listing: Vec<_> = std::fs::read_dir(&mnt)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let after = std::fs::read(&p.file).unwrap();
    let still = p.get("protocol=https\nhost=h\n");
    let _ = Command::new("umount").arg(&mnt).status();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("No space left on device") && !err.contains("XXXX"),
        "{err}"
    );
    assert_eq!(after, before, "the old file is intact");
    assert_eq!(still, "username=u\npassword=small\n");
    assert!(
        !listing
            .iter()
            .any(|n| n.to_string_lossy().ends_with(".tmp")),
        "temp file removed: {listing:?}"
    );
}

#[test]
fn a_read_only_store_still_answers_and_refuses_writes_cleanly() {
    let p = Pat::new("readonly");
    p.store(&cred("h", "u", "t"));
    let dir = p.file.parent().unwrap().to_path_buf();
    let mount = |args: &[&str]| {
        Command::new("mount")
            .args(args)
            .arg(&dir)
            .arg(&dir)
            .output()
            .unwrap()
    };
    let out = mount(&["--bind"]);
    assert!(
        out.status.success(),
        "this test bind-mounts a directory and must run as root (CI does): {}",
        text(&out.stderr)
    );
    let out = Command::new("mount")
        .args(["-o", "remount,bind,ro"])
        .arg(&dir)
        .output()
        .unwrap();
    let ro_ok = out.status.success();
    let got = p.get("protocol=https\nhost=h\n");
    let (code, _, err) = p.run("store", &cred("h", "u", "new"));
    let (ecode, _, eerr) = p.run("erase", "protocol=https\nhost=h\n");
    let _ = Command::new("umount").arg(&dir).status();
    assert!(ro_ok, "remount read-only failed: {}", text(&out.stderr));
    assert_eq!(got, "username=u\npassword=t\n", "reads need no write");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("Read-only file system") && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(ecode, 1, "{eerr}");
    assert_eq!(
        p.get("protocol=https\nhost=h\n"),
        "username=u\npassword=t\n",
        "nothing changed"
    );
}

/// A directory where the helper writes its temporary file (left by hand or another tool):
/// the write is refused, naming it and the fix, and the file is unchanged.
#[test]
fn a_directory_at_the_temporary_path_is_named_with_the_fix() {
    let p = Pat::new("tmpdir");
    p.store(&cred("h", "u", "t1"));
    let before = std::fs::read(&p.file).unwrap();
    let tmp = p.file.with_file_name("credentials.tmp");
    std::fs::create_dir(&tmp).unwrap();
    let (code, out, err) = p.run("store", &cred("h", "u", "t2"));
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert_eq!(
        err,
        format!(
            "git-credential-pat: {} is a directory, not a regular file; refusing to use it: point --file at a file, or move the directory away\n",
            tmp.display()
        )
    );
    assert_eq!(std::fs::read(&p.file).unwrap(), before);
    assert!(tmp.is_dir());
}
