#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mock-metadata.py: a stand-in for the Vultr-style metadata service, for tests only.

Serves GET /v1.json (the --document file) and GET /latest/user-data and /user-data/user-data
(the --user-data file, 404 when not given) on 127.0.0.1, with fault modes so the HTTP client's
retries, timeouts and caps can be tested against a real server. Python 3 standard library only.

Modes (--mode, or --mode-file holding "MODE [FAIL_COUNT [RETRY_AFTER]]", re-read on every
request; the request counter of the *-then-ok modes restarts whenever that file is replaced):
  ok            serve the files
  refuse        print a port nobody listens on, then idle until killed (through
                --mode-file, where the server already listens: close without answering)
  hang          accept, read the request, never answer
  reset         accept, read the request, reset the connection (RST, no answer)
  500           always 500
  503           always 503 with Retry-After (--retry-after, default 1)
  503-then-ok   the first --fail-count requests 503 with Retry-After, then ok
  429-then-ok   the same with 429
  403           always 403 (a 4xx that must not be retried)
  404           always 404
  nonjson       200 with a body that is not JSON
  truncated     Content-Length larger than the body, then close
  oversized     a 2 MiB body with Content-Length
  oversized-nolength  a 2 MiB body without Content-Length (ends with the connection)
  oversized-then-hang headers announcing 2 MiB, then nothing (the cap must act on the headers)
  oversized-nolength-then-hang  2 MiB without Content-Length, then nothing (the cap must act
                while receiving, not at the end)
  wrongtypes    a v1.json with the wrong JSON types (hostname a number, ...)
  redirect      302 to /redirect-target on this server (a client must not follow it)
  trickle       the real body, one byte per second
  slow-ok       the real answer after --delay seconds (default 1)

The port is printed on the first line of stdout (and written to --port-file). With --log, one
line per request is appended: "GET /v1.json 200" (status "-" when no answer is sent); the line
is written when the request arrives, before the answer. With --header-log, each request's
headers are appended there as "PATH<TAB>Name: value" lines. Runs until killed.
"""

import argparse
import email.utils
import http.server
import json
import os
import socket
import struct
import sys
import threading
import time

MODES = (
    "ok refuse hang reset 500 503 503-then-ok 429-then-ok 403 404 nonjson truncated oversized "
    "oversized-nolength oversized-then-hang oversized-nolength-then-hang wrongtypes redirect "
    "trickle slow-ok"
).split()

USER_DATA_PATHS = ("/latest/user-data", "/user-data/user-data")
REDIRECT_TARGET = "/redirect-target"
OVERSIZED = 2 * 1024 * 1024

WRONGTYPES = {
    "instance-v2-id": 12345,
    "hostname": 42,
    "public-keys": {"not": "a list"},
    "region": "EWR",
    "interfaces": "none",
    "tags": [1, 2, 3],
}


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.key = None  # what the mode came from; a change resets the counter
        self.count = 0  # requests seen since the mode last changed

    def current_mode(self):
        """Return (mode, fail_count, retry_after, key): --mode-file wins when readable."""
        if self.args.mode_file:
            try:
                with open(self.args.mode_file, encoding="utf-8") as f:
                    st = os.fstat(f.fileno())
                    text = f.read()
                words = text.split()
                if words:
                    fail_count = int(words[1]) if len(words) > 1 else self.args.fail_count
                    retry_after = words[2] if len(words) > 2 else self.args.retry_after
                    return words[0], fail_count, retry_after, (text, st.st_ino, st.st_mtime_ns)
            except (OSError, ValueError):
                pass
        return self.args.mode, self.args.fail_count, self.args.retry_after, None

    def next_request(self):
        """Return (mode, fail_count, retry_after, index of this request since the mode last
        changed)."""
        with self.lock:
            mode, fail_count, retry_after, key = self.current_mode()
            if key != self.key:
                self.key = key
                self.count = 0
            index = self.count
            self.count += 1
            return mode, fail_count, retry_after, index

    def log_headers(self, path, headers):
        if not self.args.header_log:
            return
        with self.lock:
            with open(self.args.header_log, "a", encoding="utf-8") as f:
                for k, v in headers.items():
                    f.write(f"{path}\t{k}: {v}\n")

    def log(self, method, path, status):
        if not self.args.log:
            return
        with self.lock:
            with open(self.args.log, "a", encoding="utf-8") as f:
                f.write(f"{method} {path} {status}\n")


def retry_after_header(spec):
    """"1" -> delta-seconds, "date:N" -> an HTTP date N s ahead, "none" -> no header."""
    if spec == "none":
        return []
    if spec.startswith("date:"):
        when = time.time() + int(spec[5:])
        return [("Retry-After", email.utils.formatdate(when, usegmt=True))]
    return [("Retry-After", spec)]


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock-metadata/1"
    sys_version = ""

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002 (BaseHTTPRequestHandler's name)
        if self.server.state.args.verbose:
            super().log_message(format, *args)

    def answer(self, status, body, headers=(), length=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def content(self):
        """The (status, body) the real service would give for self.path."""
        args = self.server.state.args
        path = self.path.split("?", 1)[0]
        if path == "/v1.json":
            return 200, read_file(args.document)
        if path in USER_DATA_PATHS:
            if args.user_data and os.path.exists(args.user_data):
                return 200, read_file(args.user_data)
            return 404, b"Not Found\n"
        if path == REDIRECT_TARGET:
            return 200, b"redirected\n"
        return 404, b"Not Found\n"

    def do_GET(self):  # noqa: N802 (http.server's name)
        state = self.server.state
        state.log_headers(self.path, self.headers)
        mode, fail_count, retry_after, index = state.next_request()
        retry_after = retry_after_header(retry_after)

        if mode == "refuse":
            # Only reachable through --mode-file: hang up without an answer.
            state.log("GET", self.path, "-")
            self.close_connection = True
        elif mode == "ok":
            status, body = self.content()
            state.log("GET", self.path, status)
            self.answer(status, body)
        elif mode == "reset":
            state.log("GET", self.path, "-")
            self.close_connection = True
            # SO_LINGER 0: close() sends a RST instead of a FIN ("connection reset by peer").
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        elif mode == "hang":
            state.log("GET", self.path, "-")
            self.close_connection = True
            time.sleep(3600)
        elif mode in ("500", "503", "403", "404"):
            status = int(mode)
            state.log("GET", self.path, status)
            self.answer(status, b"error\n", retry_after if status == 503 else ())
        elif mode in ("503-then-ok", "429-then-ok"):
            if index < fail_count:
                status = int(mode[:3])
                state.log("GET", self.path, status)
                self.answer(status, b"try later\n", retry_after)
            else:
                status, body = self.content()
                state.log("GET", self.path, status)
                self.answer(status, body)
        elif mode == "nonjson":
            state.log("GET", self.path, 200)
            self.answer(200, b"<html>this is not json</html>\n")
        elif mode == "wrongtypes":
            state.log("GET", self.path, 200)
            self.answer(200, json.dumps(WRONGTYPES).encode())
        elif mode == "truncated":
            status, body = self.content()
            state.log("GET", self.path, status)
            self.close_connection = True
            self.answer(status, body[: len(body) // 2], length=len(body))
        elif mode == "oversized":
            state.log("GET", self.path, 200)
            self.answer(200, b"x" * OVERSIZED)
        elif mode == "oversized-then-hang":
            state.log("GET", self.path, 200)
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Length", str(OVERSIZED))
            self.end_headers()
            self.wfile.flush()
            time.sleep(3600)
        elif mode in ("oversized-nolength", "oversized-nolength-then-hang"):
            state.log("GET", self.path, 200)
            self.close_connection = True
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"x" * 65536
            for _ in range(OVERSIZED // len(chunk)):
                self.wfile.write(chunk)
            self.wfile.flush()
            if mode.endswith("-then-hang"):
                time.sleep(3600)
        elif mode == "redirect":
            if self.path == REDIRECT_TARGET:
                status, body = self.content()
                state.log("GET", self.path, status)
                self.answer(status, body)
            else:
                state.log("GET", self.path, 302)
                port = self.server.server_address[1]
                self.answer(302, b"moved\n",
                            [("Location", f"http://127.0.0.1:{port}{REDIRECT_TARGET}")])
        elif mode == "trickle":
            status, body = self.content()
            state.log("GET", self.path, status)
            self.close_connection = True
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.flush()
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(1)
        elif mode == "slow-ok":
            status, body = self.content()
            state.log("GET", self.path, status)
            time.sleep(state.args.delay)
            self.answer(status, body)
        else:
            state.log("GET", self.path, 500)
            self.answer(500, b"unknown mode\n")

    def refuse_method(self):
        self.server.state.log(self.command, self.path, 405)
        self.answer(405, b"Method Not Allowed\n", [("Allow", "GET")])

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = refuse_method  # noqa: N815


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Clients that hang up (timeouts, caps) are what the tests are about: stay quiet.
        if self.state.args.verbose:
            super().handle_error(request, client_address)


def announce(port, port_file):
    if port_file:
        tmp = f"{port_file}.tmp.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{port}\n")
        os.replace(tmp, port_file)
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()


def idle_forever():
    while True:
        time.sleep(3600)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description="Mock metadata service for vagent's tests.")
    p.add_argument("--port", type=int, default=0, help="0: pick a free one (default)")
    p.add_argument("--bind", default="127.0.0.1", help="the address to listen on")
    p.add_argument("--port-file", help="also write the port to this file")
    p.add_argument("--document", default=os.path.join(here, "fixtures", "v1-typical.json"))
    p.add_argument("--user-data", help="user data file (absent: 404)")
    p.add_argument("--mode", default="ok", choices=MODES)
    p.add_argument("--mode-file", help="re-read the mode from this file on each request")
    p.add_argument("--fail-count", type=int, default=1, help="failures before ok (*-then-ok)")
    p.add_argument("--retry-after", default="1",
                   help='Retry-After: seconds, "date:SECONDS" (an HTTP date), "none"')
    p.add_argument("--delay", type=float, default=1.0, help="seconds (slow-ok)")
    p.add_argument("--log", help="append one line per request to this file")
    p.add_argument("--header-log", help="append each request's headers to this file")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()

    if args.mode == "refuse":
        # A port that was free a moment ago and that nobody listens on.
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((args.bind, args.port))
        port = s.getsockname()[1]
        s.close()
        announce(port, args.port_file)
        idle_forever()

    server = Server((args.bind, args.port), Handler)
    server.state = State(args)
    announce(server.server_address[1], args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
