#!/usr/bin/env python3
"""Peak memory of `integ provider list` on a huge reply, printed as figures and ratios.

A loopback server answers `GET /api/integrations/provider` with N tiny providers (10^6 by
default: a reply of about 40 MB); `integ provider list -o FORMAT` runs against it as a real
process with its output going to /dev/null (so `table` is the plain table of a pipe; with
--tty it runs under a pseudo-terminal, where a short list gets the rich table), and its
peak resident memory is read from the kernel (`os.wait4`'s rusage). Printed per format:
the time, the peak RSS, and the peak RSS divided by the reply's size; and, for scale,
the peak RSS of `integ --version`.

Usage: python benchmarks/memory.py [--count 1000000] [--formats table,json,yaml] [--tty]
                                   [--package-dir DIR]

``--package-dir DIR`` runs the `conductor_integrations` found in DIR instead (say, an
earlier version unpacked with `git archive REV conductor_integrations | tar -x -C DIR`),
to compare before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INTEG = [sys.executable, "-m", "conductor_integrations"]


def reply_body(count: int) -> bytes:
    providers = [{"name": f"p{i:07d}", "type": "openai"} for i in range(count)]
    return json.dumps(providers).encode()


def serve(body: bytes) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def run(argv: list[str], tty: bool, package_dir: str | None = None) -> tuple[int, float, float]:
    """Run ``argv`` with stdout to /dev/null (or a pty): exit code, seconds, peak RSS (MB)."""
    env = {**os.environ, "INTEG_NO_KEYRING": "1", "NO_COLOR": "1", "COLUMNS": "120"}
    # `python -m` looks in the current folder first: the child runs from package_dir (the
    # package there), or from this folder (not the checkout, which may hold another one).
    where = package_dir or os.path.dirname(os.path.abspath(__file__))
    started = time.monotonic()
    if tty:
        import pty

        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(where)
            os.execvpe(argv[0], argv, env)
        while True:  # drain the terminal so that the child never blocks on it
            try:
                if not os.read(fd, 1 << 16):
                    break
            except OSError:
                break
    else:
        pid = os.fork()
        if pid == 0:
            os.chdir(where)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.execvpe(argv[0], argv, env)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.monotonic() - started
    return os.waitstatus_to_exitcode(status), seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--formats", default="table,json,yaml")
    parser.add_argument("--tty", action="store_true", help="run under a pseudo-terminal")
    parser.add_argument("--package-dir", help="run the conductor_integrations package found here")
    args = parser.parse_args()

    body = reply_body(args.count)
    size_mb = len(body) / 2**20
    server, url = serve(body)
    try:
        code, seconds, rss = run([*INTEG, "--version"], False, args.package_dir)
        print(f"integ --version: peak RSS {rss:.0f} MB")
        print(f"reply: {args.count} providers, {size_mb:.1f} MiB{' (under a pty)' if args.tty else ''}")
        print(f"{'format':<8}{'exit':>6}{'seconds':>10}{'peak RSS':>12}{'RSS / reply':>14}")
        for fmt in args.formats.split(","):
            argv = [*INTEG, "provider", "list", "--server", url, "-o", fmt, "--timeout", "120"]
            code, seconds, rss = run(argv, args.tty, args.package_dir)
            print(f"{fmt:<8}{code:>6}{seconds:>9.1f}s{rss:>9.0f} MB{rss / size_mb:>13.1f}x")
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
