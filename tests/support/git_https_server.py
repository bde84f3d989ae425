#!/usr/bin/env python3
"""A smart-HTTP git server over TLS with token auth, for the end-to-end tests.

Usage: git_https_server.py --cert CERT --key KEY --root DIR --auth AUTH.json --log LOG

Serves the repositories under DIR through git-http-backend (run as CGI) on
https://127.0.0.1:PORT, where PORT is chosen by the OS and printed on the first line of
stdout. Every request needs HTTP Basic auth with a user and token listed in AUTH.json, which
is re-read on each request so a test can grant and revoke tokens at any time:

    {"tokens": [{"user": "alice", "token": "tok-1", "prefix": "acme/"}]}

A token is only valid for repository paths that start with its prefix ("" = every path).
Each request is logged to LOG as one line: METHOD PATH STATUS USER BODY, where USER is the
user the client claimed ("-" if none) and BODY is "chunked" or the body's length. Tokens are
never logged. The server exits when killed or when its stdin is closed.
"""

import argparse
import base64
import hmac
import json
import os
import ssl
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GIT_EXEC_PATH = subprocess.run(
    ["git", "--exec-path"], check=True, capture_output=True, text=True
).stdout.strip()
HTTP_BACKEND = os.path.join(GIT_EXEC_PATH, "git-http-backend")

# Request headers that are not handed to the CGI as HTTP_* variables.
NOT_FORWARDED = {"authorization", "content-type", "content-length", "transfer-encoding"}


class GitHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    options = None  # set in main()
    log_lock = threading.Lock()

    def do_GET(self):
        self.handle_git()

    def do_POST(self):
        self.handle_git()

    def handle_git(self):
        path, _, query = self.path.partition("?")
        path_info = urllib.parse.unquote(path)
        body, body_note = self.read_body()
        user, token = self.basic_auth()
        try:
            allowed = token_allows(self.options.auth, user, token, path_info.lstrip("/"))
        except (OSError, ValueError) as err:
            self.log(path, 500, user, body_note)
            self.reply(500, {"Content-Type": "text/plain"}, f"bad auth file: {err}\n".encode())
            return
        if not allowed:
            self.log(path, 401, user, body_note)
            headers = {"WWW-Authenticate": 'Basic realm="test"', "Content-Type": "text/plain"}
            self.reply(401, headers, b"authentication required\n")
            return
        status, headers, out = self.run_backend(path_info, query, body, user)
        self.log(path, status, user, body_note)
        self.reply(status, headers, out)

    def read_body(self):
        """Returns the request body (chunked transfer decoded) and a note for the log."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks), "chunked"
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length), str(length)

    def basic_auth(self):
        """Returns (user, token) from a Basic Authorization header, or (None, None)."""
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None, None
        try:
            user, sep, token = base64.b64decode(value, validate=True).decode().partition(":")
        except ValueError:
            return None, None
        return (user, token) if sep else (None, None)

    def run_backend(self, path_info, query, body, user):
        """Runs git-http-backend as a CGI; returns (status, headers, body)."""
        env = dict(os.environ)
        env.update(
            GIT_PROJECT_ROOT=self.options.root,
            GIT_HTTP_EXPORT_ALL="1",
            GATEWAY_INTERFACE="CGI/1.1",
            SERVER_PROTOCOL="HTTP/1.1",
            REQUEST_METHOD=self.command,
            PATH_INFO=path_info,
            QUERY_STRING=query,
            CONTENT_TYPE=self.headers.get("Content-Type", ""),
            CONTENT_LENGTH=str(len(body)),
            REMOTE_ADDR=self.client_address[0],
            REMOTE_USER=user,
        )
        for name, value in self.headers.items():
            if name.lower() not in NOT_FORWARDED:
                env["HTTP_" + name.upper().replace("-", "_")] = value
        proc = subprocess.run([HTTP_BACKEND], input=body, env=env, capture_output=True)
        if proc.stderr:
            sys.stderr.buffer.write(proc.stderr)
            sys.stderr.flush()
        head, _, out = proc.stdout.partition(b"\r\n\r\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name.lower() != "content-length":
                headers[name] = value.strip()
        if proc.returncode != 0 and status == 200:
            status = 500
        return status, headers, out

    def reply(self, status, headers, body):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log(self, path, status, user, body_note):
        line = f"{self.command} {path} {status} {user or '-'} {body_note}\n"
        with self.log_lock, open(self.options.log, "a") as log:
            log.write(line)

    def log_message(self, format, *args):
        pass  # our own log() records every request


def token_allows(auth_file, user, token, repo_path):
    """True if the auth file grants `user` with `token` access to `repo_path`."""
    if user is None:
        return False
    with open(auth_file) as f:
        grants = json.load(f)["tokens"]
    return any(
        g["user"] == user
        and hmac.compare_digest(g["token"].encode(), token.encode())
        and repo_path.startswith(g.get("prefix", ""))
        for g in grants
    )


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for opt in ("--cert", "--key", "--root", "--auth", "--log"):
        parser.add_argument(opt, required=True)
    GitHandler.options = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), GitHandler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(GitHandler.options.cert, GitHandler.options.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)

    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
