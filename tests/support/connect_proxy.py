#!/usr/bin/env python3
"""A tiny HTTP CONNECT proxy for the forge tests.

Usage: connect_proxy.py --log LOG

Listens on 127.0.0.1:PORT (printed on the first line of stdout), accepts `CONNECT host:port`,
appends `CONNECT host:port` to LOG, opens a tunnel to that address (127.0.0.1 only) and
relays bytes both ways. Anything else gets 405. It sees only the TLS stream inside the
tunnel, never a header or a token. Exits when its stdin is closed.
"""

import argparse
import os
import select
import socket
import sys
import threading

LOG_LOCK = threading.Lock()


def relay(a, b):
    sockets = [a, b]
    while True:
        readable, _, _ = select.select(sockets, [], [], 60)
        if not readable:
            return
        for s in readable:
            data = s.recv(65536)
            if not data:
                return
            (b if s is a else a).sendall(data)


def handle(client, log):
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split()
        if len(parts) != 3 or parts[0] != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        with LOG_LOCK, open(log, "a") as f:
            f.write(f"CONNECT {parts[1]}\n")
        host, _, port = parts[1].rpartition(":")
        if host not in ("127.0.0.1", "localhost"):
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        upstream = socket.create_connection((host, int(port)), timeout=10)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        relay(client, upstream)
        upstream.close()
    except OSError:
        pass
    finally:
        client.close()


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", required=True)
    log = parser.parse_args().log
    open(log, "a").close()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(listener.getsockname()[1], flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=handle, args=(client, log), daemon=True).start()


if __name__ == "__main__":
    main()
