//! The Secret Service (`org.freedesktop.Secret.*` over the D-Bus session bus), spoken
//! directly with zbus (its async API, driven on the calling thread), in as few round trips
//! as a request allows:
//!
//! - Connecting is the bus handshake and nothing else: no proxies, so no property caches,
//!   no match rules and no name-owner tracking, which a one-shot process never uses. The
//!   socket is connected here and every call is driven on the calling thread (zbus's
//!   executor is ticked by the call itself, not by a thread of its own), so a reply reaches
//!   its caller without hopping between threads, which on a busy machine costs more than
//!   the round trip.
//! - One `SearchItems` on the service (it needs no session) answers a whole request: the
//!   attributes name a host, and the host's items hold the key and its less specific parents.
//!   So a miss, an erase that matches nothing and a search cost the handshake and one round
//!   trip. Absence of a Secret Service is learned from that same call: with no owner and no
//!   activatable `.service` file for `org.freedesktop.secrets` the bus answers
//!   `ServiceUnknown` itself, starting nothing (what `NameHasOwner` and
//!   `ListActivatableNames` would say, without their round trip); a name that can be
//!   activated is started, as any client of the keyring would.
//! - An encrypted session ([`dh`]) is opened once per process, only when a secret must be read
//!   or written; it goes out together with the found items' `Attributes` requests (one round
//!   trip for all), then one `GetSecrets` brings every secret.
//! - Locked items or collections are unlocked with `Unlock`, and its prompt when the service
//!   wants one (a desktop's unlock dialog; headless, it is dismissed at once).
//! - Items are created in one call with their label and every attribute (older versions
//!   added the attributes in a second call).
//!
//! Every call here runs on the keychain's worker thread, bounded by the caller.

mod address;
mod dh;
pub mod memo;

use std::collections::HashMap;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::{Arc, OnceLock};
use std::task::Poll;

use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue, Value};
use zeroize::Zeroizing;

const DEST: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE: &str = "org.freedesktop.Secret.Service";
const ITEM: &str = "org.freedesktop.Secret.Item";
const COLLECTION: &str = "org.freedesktop.Secret.Collection";
const PROMPT: &str = "org.freedesktop.Secret.Prompt";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";
/// Where new items go: the collection the `default` alias names, as libsecret stores.
const DEFAULT_COLLECTION: &str = "/org/freedesktop/secrets/aliases/default";
/// How often a call on the service object answered `UnknownMethod` is sent again (see
/// [`Client::call`]).
const FIRST_CALL_RETRIES: usize = 4;
const UNKNOWN_METHOD: &str = "org.freedesktop.DBus.Error.UnknownMethod";
/// The content type of every secret we write (the keyring store's, kept for old entries).
const CONTENT_TYPE: &str = "application/octet-stream";

/// What the Secret Service sends for one secret: session, parameters (the IV), value,
/// content type.
type SecretStruct = (OwnedObjectPath, Vec<u8>, Vec<u8>, String);

/// Why a call failed, classified for the messages of [`crate::store::Error`].
#[derive(Debug)]
pub enum Failure {
    /// The bus itself could not be reached or dropped the connection.
    Bus(String),
    /// The bus has no Secret Service and none to start.
    Absent,
    /// `DBUS_SESSION_BUS_ADDRESS` names a Unix socket that is gone or that nobody listens on
    /// (the address, as set): a variable left over from an earlier session (tmux, screen, a
    /// forwarded SSH environment).
    StaleBus(String),
    /// A locked collection or item stayed locked (its prompt was dismissed, or none could
    /// be shown).
    Locked,
    /// The object is gone (an item deleted meanwhile).
    NoSuchObject,
    /// There is no default collection to create items in.
    NoCollection,
    /// The service refused the call with this D-Bus error.
    Refused(String),
    /// The answer could not be used (a reply of the wrong type, a secret that does not
    /// decrypt).
    Garbled(&'static str),
}

impl From<zbus::Error> for Failure {
    fn from(e: zbus::Error) -> Failure {
        match &e {
            zbus::Error::MethodError(name, ..) => match name.as_str() {
                "org.freedesktop.DBus.Error.ServiceUnknown"
                | "org.freedesktop.DBus.Error.NameHasNoOwner" => Failure::Absent,
                n if n.starts_with("org.freedesktop.DBus.Error.Spawn.") => Failure::Absent,
                "org.freedesktop.Secret.Error.IsLocked" => Failure::Locked,
                "org.freedesktop.Secret.Error.NoSuchObject"
                | "org.freedesktop.DBus.Error.UnknownObject"
                | "org.freedesktop.DBus.Error.UnknownMethod" => Failure::NoSuchObject,
                n => Failure::Refused(n.to_owned()),
            },
            zbus::Error::Variant(_) | zbus::Error::InvalidReply | zbus::Error::InvalidField => {
                Failure::Garbled("a reply of an unexpected type")
            }
            _ => Failure::Bus(e.to_string()),
        }
    }
}

impl From<zbus::zvariant::Error> for Failure {
    fn from(_: zbus::zvariant::Error) -> Failure {
        Failure::Garbled("a reply of an unexpected type")
    }
}

/// An open session: its object and the AES key agreed for it.
struct Session {
    path: OwnedObjectPath,
    key: Zeroizing<[u8; 16]>,
}

/// A connection to the Secret Service; cheap to clone, shared by the worker threads.
#[derive(Clone)]
pub struct Client {
    conn: zbus::Connection,
    session: Arc<OnceLock<Session>>,
}

/// One found item: its attributes and its secret, decrypted.
pub struct Found {
    /// The item.
    pub path: OwnedObjectPath,
    /// Its attributes.
    pub attributes: HashMap<String, String>,
    /// Its secret.
    pub secret: Zeroizing<Vec<u8>>,
}

impl Client {
    /// Connects to the session bus (the address zbus finds: `DBUS_SESSION_BUS_ADDRESS`, else
    /// `$XDG_RUNTIME_DIR/bus`): the handshake, nothing more.
    pub fn connect() -> Result<Client, Failure> {
        let bus = |e: zbus::Error| Failure::Bus(e.to_string());
        let builder = match address::session_socket(&|k| std::env::var_os(k)) {
            Some(Ok(stream)) => zbus::connection::Builder::async_io_unix_stream(stream),
            Some(Err(e)) => {
                let stale = matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                );
                return Err(match std::env::var("DBUS_SESSION_BUS_ADDRESS") {
                    Ok(address) if stale && !address.is_empty() => Failure::StaleBus(address),
                    _ => Failure::Bus(e.to_string()),
                });
            }
            // An address of another kind (tcp, launchd, ...): zbus connects.
            None => zbus::connection::Builder::session().map_err(bus)?,
        };
        let conn = async_io::block_on(builder.internal_executor(false).build()).map_err(bus)?;
        Ok(Client {
            conn,
            session: Arc::new(OnceLock::new()),
        })
    }

    /// Runs `future` on this thread, ticking the connection's executor (which reads the
    /// socket) until it is done.
    fn run<T>(&self, future: impl Future<Output = T>) -> T {
        let executor = self.conn.executor();
        async_io::block_on(async {
            let mut future = pin!(future);
            let mut ticks = pin!(async {
                loop {
                    executor.tick().await;
                }
            });
            std::future::poll_fn(|cx| {
                if let Poll::Ready(v) = future.as_mut().poll(cx) {
                    return Poll::Ready(v);
                }
                let _ = ticks.as_mut().poll(cx);
                // The tick may have delivered the reply.
                future.as_mut().poll(cx)
            })
            .await
        })
    }

    /// Calls `method`. A call on the service object that is answered `UnknownMethod` is sent
    /// again, at most [`FIRST_CALL_RETRIES`] times, 10 ms apart and then twice that each
    /// time (150 ms in all): that object and its methods always exist, and gnome-keyring
    /// answers so to the first call of a new connection when that call is dispatched before
    /// the daemon has registered its sender as a client (the client is registered from an
    /// idle callback queued by its message filter; the handler finds no session for the
    /// sender and declines, and GDBus replies `UnknownMethod`).
    fn call<B>(
        &self,
        path: &str,
        iface: &str,
        method: &str,
        body: &B,
    ) -> Result<zbus::Message, Failure>
    where
        B: zbus::export::serde::Serialize + zbus::zvariant::DynamicType,
    {
        let mut pause = std::time::Duration::from_millis(10);
        let mut retries = FIRST_CALL_RETRIES;
        loop {
            match self.run(
                self.conn
                    .call_method(Some(DEST), path, Some(iface), method, body),
            ) {
                Err(zbus::Error::MethodError(name, ..))
                    if path == SERVICE_PATH && name.as_str() == UNKNOWN_METHOD =>
                {
                    // Still declined: not a transient state of the service, but a service
                    // that does not do what a Secret Service does.
                    if retries == 0 {
                        return Err(Failure::Refused(name.to_string()));
                    }
                    retries -= 1;
                    std::thread::sleep(pause);
                    pause *= 2;
                }
                other => return Ok(other?),
            }
        }
    }

    /// The items that have every attribute of `attrs`, unlocking locked ones: one round
    /// trip, and no session, when none is locked.
    pub fn search(&self, attrs: &[(&str, String)]) -> Result<Vec<OwnedObjectPath>, Failure> {
        let spec: HashMap<&str, &str> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = self.call(SERVICE_PATH, SERVICE, "SearchItems", &(spec,))?;
        let (mut unlocked, locked): (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) =
            reply.body().deserialize()?;
        if !locked.is_empty() {
            self.unlock(&locked)?;
            unlocked.extend(locked);
        }
        Ok(unlocked)
    }

    /// Unlocks `objects`, through the service's prompt when it wants one.
    fn unlock(&self, objects: &[OwnedObjectPath]) -> Result<(), Failure> {
        let reply = self.call(SERVICE_PATH, SERVICE, "Unlock", &(objects,))?;
        let (_, prompt): (Vec<OwnedObjectPath>, OwnedObjectPath) = reply.body().deserialize()?;
        self.prompt(&prompt).map_err(|e| match e {
            Failure::Refused(_) | Failure::NoSuchObject => Failure::Locked,
            other => other,
        })?;
        Ok(())
    }

    /// Runs `prompt` (none when it is `/`) and waits for its `Completed` signal; a
    /// dismissed prompt is [`Failure::Locked`].
    fn prompt(&self, prompt: &ObjectPath<'_>) -> Result<(), Failure> {
        if prompt.as_str() == "/" {
            return Ok(());
        }
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface(PROMPT)?
            .member("Completed")?
            .path(prompt.as_str())?
            .build();
        let mut signals = self.run(zbus::MessageStream::for_match_rule(
            rule,
            &self.conn,
            Some(4),
        ))?;
        self.call(prompt.as_str(), PROMPT, "Prompt", &("",))?;
        let next = std::future::poll_fn(|cx| {
            zbus::export::futures_core::Stream::poll_next(Pin::new(&mut signals), cx)
        });
        let Some(msg) = self.run(next) else {
            return Err(Failure::Locked);
        };
        let (dismissed, _): (bool, OwnedValue) = msg?.body().deserialize()?;
        if dismissed {
            Err(Failure::Locked)
        } else {
            Ok(())
        }
    }

    /// The attributes and secrets of `items`, in their order; an item deleted meanwhile is
    /// left out. Opens the session if this is the first secret of the process: its request
    /// and the attribute requests go out together, then one `GetSecrets` follows.
    pub fn read(&self, items: &[OwnedObjectPath]) -> Result<Vec<Found>, Failure> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let conn = &self.conn;
        let attributes = join_all(items.iter().map(|p| attributes_of(conn, p)).collect());
        let (attributes, secrets) = match self.session.get() {
            Some(session) => self.run(join2(attributes, get_secrets(conn, items, session))),
            None => {
                let pair = dh::KeyPair::generate().ok_or(Failure::Garbled("no randomness"))?;
                let (opened, attributes) = self.run(join2(open_session(conn, pair), attributes));
                let opened = opened?;
                let session = self.session.get_or_init(|| opened);
                let secrets = self.run(get_secrets(conn, items, session));
                (attributes, secrets)
            }
        };
        let mut secrets = match secrets {
            Ok(s) => s,
            // One of them went away between the search and now: ask item by item.
            Err(Failure::NoSuchObject) => self.secrets_one_by_one(items)?,
            Err(e) => return Err(e),
        };
        let session = self.session.get().ok_or(Failure::Garbled("no session"))?;
        let mut out = Vec::with_capacity(items.len());
        for (path, attrs) in items.iter().zip(attributes) {
            let attributes = match attrs {
                Ok(a) => a,
                Err(Failure::NoSuchObject) => continue,
                Err(e) => return Err(e),
            };
            let Some((_, iv, sealed, _)) = secrets.remove(path) else {
                continue;
            };
            let secret = dh::decrypt(&session.key, &iv, &sealed)
                .ok_or(Failure::Garbled("a secret that does not decrypt"))?;
            out.push(Found {
                path: path.clone(),
                attributes,
                secret,
            });
        }
        Ok(out)
    }

    fn secrets_one_by_one(
        &self,
        items: &[OwnedObjectPath],
    ) -> Result<HashMap<OwnedObjectPath, SecretStruct>, Failure> {
        let session = self.session.get().ok_or(Failure::Garbled("no session"))?;
        let mut out = HashMap::new();
        for item in items {
            match self.call(item.as_str(), ITEM, "GetSecret", &(&session.path,)) {
                Ok(reply) => {
                    out.insert(
                        item.clone(),
                        reply.body().deserialize::<(SecretStruct,)>()?.0,
                    );
                }
                Err(Failure::NoSuchObject) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The session, opened now if this is the first secret of the process.
    fn session(&self) -> Result<&Session, Failure> {
        if let Some(s) = self.session.get() {
            return Ok(s);
        }
        let pair = dh::KeyPair::generate().ok_or(Failure::Garbled("no randomness"))?;
        let opened = self.run(open_session(&self.conn, pair))?;
        Ok(self.session.get_or_init(|| opened))
    }

    /// `secret` as the service takes it: encrypted for the session.
    fn seal(&self, secret: &[u8]) -> Result<SecretStruct, Failure> {
        let session = self.session()?;
        let (iv, sealed) =
            dh::encrypt(&session.key, secret).ok_or(Failure::Garbled("no randomness"))?;
        Ok((session.path.clone(), iv, sealed, CONTENT_TYPE.to_owned()))
    }

    /// Creates an item in the default collection, with its label and attributes, in one call.
    pub fn create(
        &self,
        label: &str,
        attrs: &[(&str, String)],
        secret: &[u8],
    ) -> Result<(), Failure> {
        let attributes: HashMap<&str, &str> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let props: HashMap<&str, Value<'_>> = HashMap::from([
            ("org.freedesktop.Secret.Item.Label", Value::from(label)),
            (
                "org.freedesktop.Secret.Item.Attributes",
                Value::from(attributes),
            ),
        ]);
        let sealed = self.seal(secret)?;
        let create = || -> Result<(), Failure> {
            let reply = self.call(
                DEFAULT_COLLECTION,
                COLLECTION,
                "CreateItem",
                &(&props, &sealed, true),
            )?;
            let (_, prompt): (OwnedObjectPath, OwnedObjectPath) = reply.body().deserialize()?;
            self.prompt(&prompt)
        };
        let created = match create() {
            Err(Failure::Locked) => {
                let reply = self.call(SERVICE_PATH, SERVICE, "ReadAlias", &("default",))?;
                let (collection,): (OwnedObjectPath,) = reply.body().deserialize()?;
                if collection.as_str() == "/" {
                    return Err(Failure::NoCollection);
                }
                self.unlock(&[collection])?;
                create()
            }
            other => other,
        };
        match created {
            Err(Failure::NoSuchObject) => Err(Failure::NoCollection),
            other => other,
        }
    }

    /// Replaces the secret of `item`.
    pub fn set_secret(&self, item: &ObjectPath<'_>, secret: &[u8]) -> Result<(), Failure> {
        let sealed = self.seal(secret)?;
        let set = || {
            self.call(item.as_str(), ITEM, "SetSecret", &(&sealed,))
                .map(drop)
        };
        match set() {
            Err(Failure::Locked) => {
                self.unlock(&[item.to_owned().into()])?;
                set()
            }
            other => other,
        }
    }

    /// Replaces the attributes of `item`.
    pub fn set_attributes(
        &self,
        item: &ObjectPath<'_>,
        attrs: &[(&str, String)],
    ) -> Result<(), Failure> {
        let attributes: HashMap<&str, &str> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.call(
            item.as_str(),
            PROPERTIES,
            "Set",
            &(ITEM, "Attributes", Value::from(attributes)),
        )
        .map(drop)
    }

    /// Deletes `item`; one already gone is fine.
    pub fn delete(&self, item: &ObjectPath<'_>) -> Result<(), Failure> {
        match self.call(item.as_str(), ITEM, "Delete", &()) {
            Ok(reply) => {
                let prompt: OwnedObjectPath = reply.body().deserialize()?;
                self.prompt(&prompt)
            }
            Err(Failure::NoSuchObject) => Ok(()),
            Err(Failure::Locked) => {
                self.unlock(&[item.to_owned().into()])?;
                self.delete(item)
            }
            Err(e) => Err(e),
        }
    }
}

async fn open_session(conn: &zbus::Connection, pair: dh::KeyPair) -> Result<Session, Failure> {
    let reply = conn
        .call_method(
            Some(DEST),
            SERVICE_PATH,
            Some(SERVICE),
            "OpenSession",
            &(dh::ALGORITHM, Value::from(pair.public.clone())),
        )
        .await?;
    let (output, path): (OwnedValue, OwnedObjectPath) = reply.body().deserialize()?;
    let theirs: Vec<u8> = output.try_into()?;
    let key = pair
        .agree(&theirs)
        .ok_or(Failure::Garbled("a session key outside the group"))?;
    Ok(Session { path, key })
}

async fn attributes_of(
    conn: &zbus::Connection,
    item: &OwnedObjectPath,
) -> Result<HashMap<String, String>, Failure> {
    let reply = conn
        .call_method(
            Some(DEST),
            item.as_str(),
            Some(PROPERTIES),
            "Get",
            &(ITEM, "Attributes"),
        )
        .await?;
    let value: OwnedValue = reply.body().deserialize()?;
    Ok(HashMap::<String, String>::try_from(value)?)
}

async fn get_secrets(
    conn: &zbus::Connection,
    items: &[OwnedObjectPath],
    session: &Session,
) -> Result<HashMap<OwnedObjectPath, SecretStruct>, Failure> {
    let reply = conn
        .call_method(
            Some(DEST),
            SERVICE_PATH,
            Some(SERVICE),
            "GetSecrets",
            &(items, &session.path),
        )
        .await?;
    Ok(reply.body().deserialize()?)
}

/// Runs both futures to completion, polling both at once, so that the calls they make are
/// all on the wire before the first reply is awaited.
async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (ra.expect("ready"), rb.expect("ready"))
}

/// [`join2`] for any number of futures of one kind; outputs in their order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, o) in futures.iter_mut().zip(out.iter_mut()) {
            if o.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *o = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.expect("ready")).collect()
}
