#!/usr/bin/env python3
"""A forge API over TLS that answers as GitHub, GitLab and Gitea do, for the forge tests.

Usage: forge_api_server.py --cert CERT --key KEY --config CONFIG.json --log LOG

Listens on https://127.0.0.1:PORT (PORT chosen by the OS, printed on the first line of
stdout) and answers, by path:

    GET  /api/v3/user                                GitHub (Enterprise Server layout)
    GET  /api/v4/personal_access_tokens/self         GitLab
    GET  /api/v4/user                                GitLab
    POST /api/v4/personal_access_tokens/self/rotate  GitLab
    GET  /api/v1/user                                Gitea / Forgejo

CONFIG.json is re-read on every request, so a test can change the answers at any time:

    {"tokens": {"tok-1": {"login": "octo",
                          "github_expiration": "2026-01-31 12:00:00 UTC",
                          "scopes": "repo, read:org",
                          "gitlab": {"expires_at": "2026-01-31", "created_at": "...",
                                     "scopes": ["api"], "active": true, "revoked": false},
                          "user_status": 403}},
     "status": 500,          # answer every request with this status instead
     "hang": true,           # read the request, then never answer
     "redirect": "https://127.0.0.1:OTHER/api/v3/user",   # answer 302 to there
     "html": true}           # answer 200 with an HTML page (a captive portal)

A token is looked up in the header its forge uses: `Authorization: Bearer T` (GitHub),
`PRIVATE-TOKEN: T` (GitLab), `Authorization: token T` (Gitea); a token that is not listed gets
401. A rotation (`expires_at` in the form body) revokes the old token and answers with a new
one, `rotated-<old>`, valid until then.

Every request is appended to LOG as one JSON object per line: method, path (with any query),
the Authorization and PRIVATE-TOKEN headers as received, and the body. A TLS handshake that
fails is logged as {"tls_error": ...}: a connection that carried no request. The tokens are
test tokens, so the log may hold them. The server exits when its stdin is closed.
"""

import argparse
import json
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROTATED = {}  # new token -> its record, made by rotations
REVOKED = set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    options = None
    context = None
    log_lock = threading.Lock()

    def setup(self):
        # The handshake runs here, in the connection's own thread, so a client that never
        # finishes it cannot hold the others up; a failed one is logged.
        try:
            self.request = self.context.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError) as err:
            self.record({"tls_error": type(err).__name__})
            self.tls_failed = True
            self.request = socket.socket()  # closed below; handle() does nothing
        else:
            self.tls_failed = False
        super().setup()

    def handle(self):
        if not self.tls_failed:
            super().handle()

    def do_GET(self):
        self.answer()

    def do_POST(self):
        self.answer()

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("latin-1") if length else ""
        self.record(
            {
                "method": self.command,
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "private_token": self.headers.get("PRIVATE-TOKEN"),
                "body": body,
            }
        )
        config = load(self.options.config)
        if config.get("hang"):
            time.sleep(120)
            return
        if config.get("redirect"):
            return self.reply(302, {"Location": config["redirect"]}, b"")
        if config.get("status"):
            return self.reply(config["status"], {}, b'{"message": "test status"}')
        if config.get("html"):
            return self.reply(200, {"Content-Type": "text/html"}, b"<html>portal</html>")
        path = urllib.parse.urlsplit(self.path).path
        routes = {
            ("GET", "/api/v3/user"): self.github_user,
            ("GET", "/api/v4/personal_access_tokens/self"): self.gitlab_self,
            ("GET", "/api/v4/user"): self.gitlab_user,
            ("POST", "/api/v4/personal_access_tokens/self/rotate"): self.gitlab_rotate,
            ("GET", "/api/v1/user"): self.gitea_user,
        }
        route = routes.get((self.command, path))
        if route is None:
            return self.json(404, {"message": "404 Not Found"})
        route(config, body)

    def token(self, config, header, prefix):
        value = self.headers.get(header) or ""
        if not value.startswith(prefix):
            return None, None
        token = value[len(prefix):]
        if token in REVOKED:
            return token, None
        record = ROTATED.get(token) or config.get("tokens", {}).get(token)
        return token, record

    def github_user(self, config, _body):
        _, t = self.token(config, "Authorization", "Bearer ")
        if t is None:
            return self.json(401, {"message": "Bad credentials"})
        headers = {}
        if "github_expiration" in t:
            headers["GitHub-Authentication-Token-Expiration"] = t["github_expiration"]
        if "scopes" in t:
            headers["X-OAuth-Scopes"] = t["scopes"]
        self.json(200, {"login": t["login"], "id": 1}, headers)

    def gitlab_self(self, config, _body):
        _, t = self.token(config, "PRIVATE-TOKEN", "")
        if t is None:
            return self.json(401, {"message": "401 Unauthorized"})
        g = t.get("gitlab", {})
        self.json(
            200,
            {
                "id": 7,
                "name": "test",
                "revoked": g.get("revoked", False),
                "created_at": g.get("created_at", "2025-01-01T00:00:00.000Z"),
                "scopes": g.get("scopes", ["api"]),
                "user_id": 3,
                "last_used_at": None,
                "active": g.get("active", True),
                "expires_at": g.get("expires_at"),
            },
        )

    def gitlab_user(self, config, _body):
        _, t = self.token(config, "PRIVATE-TOKEN", "")
        if t is None:
            return self.json(401, {"message": "401 Unauthorized"})
        if t.get("user_status"):
            return self.json(t["user_status"], {"error": "insufficient_scope"})
        self.json(200, {"id": 3, "username": t["login"]})

    def gitlab_rotate(self, config, body):
        old, t = self.token(config, "PRIVATE-TOKEN", "")
        if t is None:
            return self.json(401, {"message": "401 Unauthorized"})
        if t.get("rotate_status"):
            return self.json(t["rotate_status"], {"message": "rotation refused"})
        form = urllib.parse.parse_qs(body)
        expires_at = form.get("expires_at", [None])[0]
        new = "rotated-" + old
        ROTATED[new] = {
            "login": t["login"],
            "gitlab": {"expires_at": expires_at, "scopes": t.get("gitlab", {}).get("scopes", ["api"])},
        }
        REVOKED.add(old)
        self.json(200, {"id": 8, "name": "test", "token": new, "expires_at": expires_at, "active": True})

    def gitea_user(self, config, _body):
        _, t = self.token(config, "Authorization", "token ")
        if t is None:
            return self.json(401, {"message": "unauthorized"})
        self.json(200, {"id": 1, "login": t["login"]})

    def json(self, status, obj, headers=None):
        headers = dict(headers or {})
        headers["Content-Type"] = "application/json"
        self.reply(status, headers, json.dumps(obj).encode())

    def reply(self, status, headers, body):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def record(self, entry):
        with self.log_lock, open(self.options.log, "a") as log:
            log.write(json.dumps(entry) + "\n")

    def log_message(self, format, *args):
        pass  # record() logs every request


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    import os

    os._exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for opt in ("--cert", "--key", "--config", "--log"):
        parser.add_argument(opt, required=True)
    Handler.options = parser.parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(Handler.options.cert, Handler.options.key)
    Handler.context = context
    open(Handler.options.log, "a").close()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
