//! A private Secret Service for the keychain tests: a session bus and a gnome-keyring of their
//! own, with HOME and the XDG dirs in a temp dir, so no test touches a developer's keyring and
//! nothing depends on a desktop session.
//!
//! Two pitfalls of a headless gnome-keyring are handled here: the daemon inherits the bus
//! daemon's environment when D-Bus activates it, so HOME/XDG_* are set before the bus starts;
//! and `gnome-keyring-daemon --unlock` returns before the daemon owns its bus name, so we poll
//! `NameHasOwner` (which activates nothing) before any client connects.
#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::{World, set_mode, text};

/// What to install when a tool is missing.
pub const PACKAGES: &str = "install gnome-keyring dbus-daemon dbus-bin libsecret-tools (apt-get install --no-install-recommends gnome-keyring dbus-daemon dbus-bin libsecret-tools)";
const TOOLS: &[&str] = &[
    "dbus-run-session",
    "dbus-daemon",
    "dbus-send",
    "dbus-monitor",
    "gnome-keyring-daemon",
    "secret-tool",
];
/// The password of the test keyring (it guards nothing but test tokens).
const PASSWORD: &str = "test-keyring-password";
const LOGIN: &str = "/org/freedesktop/secrets/collection/login";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Fails the test, naming the packages, unless every tool the harness runs is installed.
pub fn require_tools() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for tool in TOOLS {
        let found = std::env::split_paths(&path).any(|d| d.join(tool).is_file());
        assert!(found, "{tool} is not installed: {PACKAGES}");
    }
}

/// A running session bus with an unlocked gnome-keyring on it.
pub struct SecretService {
    /// The bus address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub address: String,
    /// The daemons' HOME and runtime dir live here.
    pub root: PathBuf,
    session: Child,
    /// `dbus-run-session` ends (and takes the bus and the keyring with it) when this closes,
    /// also when the test process dies without running destructors.
    keepalive: Option<ChildStdin>,
    _stdout: BufReader<ChildStdout>,
}

impl SecretService {
    /// The instance shared by the tests of this binary: tests that only store, get and erase
    /// their own hosts use it; tests that lock, stop or list everything start their own.
    pub fn shared() -> &'static SecretService {
        static SHARED: OnceLock<SecretService> = OnceLock::new();
        SHARED.get_or_init(|| SecretService::start("shared"))
    }

    /// Starts a bus and a keyring daemon with a fresh, unlocked login keyring.
    pub fn start(name: &str) -> SecretService {
        require_tools();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("ss-{name}-{}-{n}", std::process::id()));
        if root.exists() {
            std::fs::remove_dir_all(&root).unwrap();
        }
        let home = root.join("home");
        let runtime = root.join("run");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&runtime).unwrap();
        set_mode(&root, 0o700);
        set_mode(&runtime, 0o700);
        let log = root.join("daemons.log");
        // The address first, then "started" once the daemon has created and unlocked the
        // login keyring; then wait for stdin to close.
        let script = r#"printf '%s\n' "$DBUS_SESSION_BUS_ADDRESS"
printf %s "$1" | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 1
echo started
exec cat >/dev/null"#;
        let mut session = Command::new("dbus-run-session")
            .args(["--", "sh", "-c", script, "sh", PASSWORD])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("LC_ALL", "C")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start dbus-run-session: {e}: {PACKAGES}"));
        let keepalive = session.stdin.take();
        let mut stdout = BufReader::new(session.stdout.take().unwrap());
        let mut address = String::new();
        let mut started = String::new();
        stdout.read_line(&mut address).unwrap();
        stdout.read_line(&mut started).unwrap();
        let ss = SecretService {
            address: address.trim().to_owned(),
            root,
            session,
            keepalive,
            _stdout: stdout,
        };
        assert!(
            started.trim() == "started" && ss.address.starts_with("unix:"),
            "the test Secret Service did not start ({PACKAGES}); its log:\n{}",
            ss.log()
        );
        ss.wait_ready();
        ss
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("daemons.log")).unwrap_or_default()
    }

    /// Waits until the keyring daemon owns `org.freedesktop.secrets` and its default
    /// collection is the login keyring.
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let owned = self.dbus(
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                &["string:org.freedesktop.secrets"],
            );
            if owned.contains("boolean true") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "gnome-keyring-daemon never owned org.freedesktop.secrets; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let alias = self.secrets_call(
            "org.freedesktop.Secret.Service.ReadAlias",
            &["string:default"],
        );
        assert!(
            alias.contains(LOGIN),
            "no default login keyring: {alias}\n{}",
            self.log()
        );
    }

    /// A command with this bus as its session bus and nothing else of the machine's D-Bus.
    pub fn on_bus(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        cmd
    }

    /// The helper in `world`, using this Secret Service.
    pub fn helper(&self, world: &World) -> Command {
        let mut cmd = world.helper();
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.address);
        cmd
    }

    /// `dbus-send --print-reply` to `dest`; returns the reply (empty on error).
    pub fn dbus(&self, dest: &str, path: &str, method: &str, args: &[&str]) -> String {
        let out = self
            .on_bus("dbus-send")
            .args([
                "--session",
                "--print-reply",
                &format!("--dest={dest}"),
                path,
                method,
            ])
            .args(args)
            .output()
            .expect("dbus-send");
        text(&out.stdout)
    }

    fn secrets_call(&self, method: &str, args: &[&str]) -> String {
        self.dbus(
            "org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            method,
            args,
        )
    }

    /// Item paths matching `attrs`: (unlocked, locked), as the Secret Service reports them.
    pub fn search(&self, attrs: &[(&str, &str)]) -> (Vec<String>, Vec<String>) {
        let dict = attrs
            .iter()
            .flat_map(|(k, v)| [*k, *v])
            .collect::<Vec<_>>()
            .join(",");
        let reply = self.secrets_call(
            "org.freedesktop.Secret.Service.SearchItems",
            &[&format!("dict:string:string:{dict}")],
        );
        let mut arrays = reply.split("array [").skip(1).map(|a| {
            a.lines()
                .filter_map(|l| l.trim().strip_prefix("object path \""))
                .map(|p| p.trim_end_matches('"').to_owned())
                .collect::<Vec<_>>()
        });
        let unlocked = arrays.next().expect("SearchItems reply");
        let locked = arrays.next().expect("SearchItems reply");
        (unlocked, locked)
    }

    /// Every item of the helper's service on `host`, locked or not.
    pub fn items_on(&self, host: &str) -> Vec<String> {
        let (mut unlocked, locked) =
            self.search(&[("service", "git-credential-pat"), ("host", host)]);
        unlocked.extend(locked);
        unlocked
    }

    /// Locks the login keyring.
    pub fn lock(&self) {
        let reply = self.secrets_call(
            "org.freedesktop.Secret.Service.Lock",
            &[&format!("array:objpath:{LOGIN}")],
        );
        assert!(reply.contains(LOGIN), "Lock failed: {reply}");
        let (unlocked, _) = self.search(&[("service", "git-credential-pat")]);
        assert!(unlocked.is_empty(), "still unlocked: {unlocked:?}");
    }

    /// The pid of the keyring daemon.
    pub fn daemon_pid(&self) -> u32 {
        let reply = self.dbus(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.GetConnectionUnixProcessID",
            &["string:org.freedesktop.secrets"],
        );
        reply_value(&reply, "uint32")
    }

    /// An item's modification time (Unix seconds), from its `Modified` property.
    pub fn modified(&self, item: &str) -> u64 {
        let reply = self.dbus(
            "org.freedesktop.secrets",
            item,
            "org.freedesktop.DBus.Properties.Get",
            &["string:org.freedesktop.Secret.Item", "string:Modified"],
        );
        reply_value(&reply, "uint64")
    }

    /// `secret-tool ARGS` with `stdin`.
    pub fn secret_tool(&self, args: &[&str], stdin: &str) -> Output {
        crate::common::run(self.on_bus("secret-tool").args(args), stdin.as_bytes())
    }

    /// Stores an item the way the helper lays them out, with `secret` as written.
    pub fn put_raw(&self, host: &str, account: &str, secret: &str) {
        let out = self.secret_tool(
            &[
                "store",
                "--label=planted by a test",
                "service",
                "git-credential-pat",
                "username",
                account,
                "application",
                "git-credential-pat",
                "protocol",
                "https",
                "host",
                host,
            ],
            secret,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
}

/// The value after the first `ty` (`uint32`, `uint64`, ...) in a `dbus-send --print-reply`
/// reply.
fn reply_value<T: std::str::FromStr>(reply: &str, ty: &str) -> T {
    reply
        .split_whitespace()
        .skip_while(|w| *w != ty)
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {ty} in {reply:?}"))
}

impl Drop for SecretService {
    fn drop(&mut self) {
        drop(self.keepalive.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.session.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.session.kill();
        let _ = self.session.wait();
    }
}

/// A unix socket that accepts connections and never answers: a hung session bus.
pub struct HungBus {
    /// `unix:path=...`
    pub address: String,
    child: Child,
}

impl HungBus {
    /// Starts the listener in `dir`.
    pub fn start(dir: &Path) -> HungBus {
        let path = dir.join("hung-bus");
        let script = "import socket, sys\n\
s = socket.socket(socket.AF_UNIX)\n\
s.bind(sys.argv[1])\n\
s.listen(64)\n\
print('ready', flush=True)\n\
held = []\n\
while True:\n    held.append(s.accept())\n";
        let mut child = Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is not installed: install python3");
        let mut ready = String::new();
        child
            .stdout
            .as_mut()
            .unwrap()
            .take(6)
            .read_to_string(&mut ready)
            .unwrap();
        assert_eq!(ready.trim(), "ready");
        HungBus {
            address: format!("unix:path={}", path.display()),
            child,
        }
    }
}

impl Drop for HungBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `dbus-monitor` on a bus, recording the method calls made to the Secret Service itself
/// (`org.freedesktop.Secret.Service`), in order.
pub struct Monitor {
    child: Child,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl SecretService {
    /// Starts watching this bus; returns once the monitor is in place.
    pub fn monitor(&self) -> Monitor {
        let mut child = self
            .on_bus("dbus-monitor")
            .args([
                "--address",
                &self.address,
                "type='method_call',interface='org.freedesktop.Secret.Service'",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start dbus-monitor: {e}: {PACKAGES}"));
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let out = BufReader::new(child.stdout.take().unwrap());
        let sink = seen.clone();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let member = line
                    .split("member=")
                    .nth(1)
                    .map(|m| m.trim().to_owned())
                    .filter(|_| line.starts_with("method call") || line.contains("NameLost"));
                if let Some(m) = member {
                    sink.lock().unwrap().push(m);
                }
            }
        });
        let monitor = Monitor { child, seen };
        // A monitor gives up its name once it is one.
        monitor.wait_for(|calls| calls.iter().any(|c| c == "NameLost"));
        monitor.seen.lock().unwrap().clear();
        monitor
    }
}

impl Monitor {
    /// Waits (at most 5 s) until `done` holds for the calls seen so far.
    pub fn wait_for(&self, done: impl Fn(&[String]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !done(&self.seen.lock().unwrap()) {
            assert!(
                Instant::now() < deadline,
                "dbus-monitor saw only {:?}",
                self.seen.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The Secret Service methods called since the last `take`, once `count` of them
    /// were seen (and a moment more, for any stragglers).
    pub fn take(&self, count: usize) -> Vec<String> {
        self.wait_for(|calls| calls.len() >= count);
        std::thread::sleep(Duration::from_millis(200));
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A session bus with no Secret Service and nothing to activate one (no service
/// directories), listening at `dir/hung-bus`, where [`HungBus::start`] can take its place.
pub struct BareBus {
    /// `unix:path=...`
    pub address: String,
    child: Child,
    socket: PathBuf,
}

impl BareBus {
    /// Starts the bus daemon in `dir`.
    pub fn start(dir: &Path) -> BareBus {
        require_tools();
        let socket = dir.join("hung-bus");
        let services = dir.join("no-services");
        std::fs::create_dir_all(&services).unwrap();
        let config = dir.join("bare-bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <servicedir>{}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket.display(),
                services.display()
            ),
        )
        .unwrap();
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start dbus-daemon: {e}: {PACKAGES}"));
        let mut address = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        assert!(address.starts_with("unix:path="), "{address}");
        BareBus {
            address: address.trim().to_owned(),
            child,
            socket,
        }
    }

    /// Stops the daemon and frees its socket path.
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Drop for BareBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
