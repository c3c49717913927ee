#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""storm-service.py: a metadata service on 127.0.0.1 that sheds load the way a real one does,
for bench/storm. Python 3 standard library only; never part of `make check`.

It serves GET [/a/AGENT]/v1.json (the --document file) and [/a/AGENT]/latest/user-data (404)
to at most --capacity requests at a time, each held for --latency seconds; a request above
that is answered at once with --shed-status (503 or 429) and "Retry-After: --retry-after"
(capacity 0: no limit, the healthy service). The /a/AGENT prefix lets bench/storm count
requests per agent. Every request is recorded in memory as (CLOCK_MONOTONIC seconds, agent,
status); on SIGTERM or SIGINT the record is written to --stats as JSON and the service exits.
The port is printed on the first line of stdout (and written to --port-file).
"""

import argparse
import http.server
import json
import os
import signal
import sys
import threading
import time


class State:
    def __init__(self, args):
        self.args = args
        self.slots = threading.BoundedSemaphore(args.capacity) if args.capacity > 0 else None
        self.lock = threading.Lock()
        self.record = []  # (t, agent, status)
        with open(args.document, "rb") as f:
            self.document = f.read()

    def note(self, agent, status):
        t = time.monotonic()  # CLOCK_MONOTONIC: the same clock as bench/storm's
        with self.lock:
            self.record.append((round(t, 4), agent, status))



class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "storm-service/1"
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 (BaseHTTPRequestHandler's name)
        pass

    def answer(self, status, body, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):  # noqa: N802 (http.server's name)
        state = self.server.state
        args = state.args
        path = self.path.split("?", 1)[0]
        agent = -1
        if path.startswith("/a/"):
            rest = path[3:]
            head, _, tail = rest.partition("/")
            if head.isdigit():
                agent = int(head)
                path = "/" + tail
        if state.slots is not None and not state.slots.acquire(blocking=False):
            state.note(agent, args.shed_status)
            self.answer(args.shed_status, b"busy\n", [("Retry-After", args.retry_after)])
            return
        try:
            if args.latency > 0:
                time.sleep(args.latency)
            if path == "/v1.json":
                status, body = 200, state.document
            else:
                status, body = 404, b"Not Found\n"
            state.note(agent, status)
            self.answer(status, body)
        finally:
            if state.slots is not None:
                state.slots.release()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # A fleet connects at once: a real service's accept queue is not 5 deep.
    request_queue_size = 4096

    def handle_error(self, request, client_address):
        pass  # clients that hang up are part of a storm


def main():
    p = argparse.ArgumentParser(description="A load-shedding metadata service for bench/storm.")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--document", required=True)
    p.add_argument("--capacity", type=int, default=0, help="concurrent requests (0: no limit)")
    p.add_argument("--latency", type=float, default=0.0, help="seconds per served request")
    p.add_argument("--retry-after", default="2", help="Retry-After of a shed request")
    p.add_argument("--shed-status", type=int, default=503, choices=(503, 429))
    p.add_argument("--stats", required=True, help="JSON record written on SIGTERM")
    args = p.parse_args()

    server = Server(("127.0.0.1", args.port), Handler)
    server.state = State(args)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = server.server_address[1]
    if args.port_file:
        tmp = f"{args.port_file}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    with server.state.lock:
        record = list(server.state.record)
    tmp = f"{args.stats}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"capacity": args.capacity, "latency": args.latency, "record": record}, f)
    os.replace(tmp, args.stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
