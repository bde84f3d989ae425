"""Runs a command on a pseudo-terminal, as a person at a terminal would.

usage: pty_run.py ANSWERS_FILE -- COMMAND [ARGS...]

Each line of ANSWERS_FILE is typed (followed by Enter) when the command's output ends in a
prompt (": "). Everything the terminal showed is printed on stdout; the exit status is the
command's. Used by the integration tests for prompts, no-echo token entry and colours.
"""

import os
import pty
import select
import sys
import time


def main() -> int:
    answers = open(sys.argv[1], "rb").read().splitlines()
    argv = sys.argv[sys.argv.index("--") + 1 :]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    shown = b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
            if shown.rstrip(b" ").endswith(b":") and answers:
                time.sleep(0.05)
                os.write(fd, answers.pop(0) + b"\r")
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(shown)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
