#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""storm-policy.py: the retry policies of other agents, replayed against the same service as
vagent in bench/storm. Python 3 standard library only; never part of `make check`.

One asyncio process, one coroutine per simulated agent; each makes real HTTP/1.1 GETs of
/a/AGENT/v1.json over its own TCP connection to the storm service on 127.0.0.1, on the same
start schedule as bench/storm's vagent agents, following a policy built from the documented
parameters (not from their code):

  cloud-init  Vultr datasource defaults (retries 30, timeout 10, wait 5) through url_helper's
              readurl(): up to 31 tries, each with a 10 s timeout, a fixed 5 s sleep after any
              failure (an error status or a connection error); Retry-After is not read.
  afterburn   retry::Retry defaults (initial_backoff 1 s, max_backoff 5 s, max_retries 10):
              up to 11 tries, sleeps 1, 2, 4, 5, 5, ... s after any non-200 answer or error;
              no jitter, Retry-After not read; reqwest's default 30 s timeout per try.

Only the document request is replayed (what the service's capacity is spent on). Writes one
JSON line per agent to --out: {"agent", "start", "end", "tries", "ok"}; --starts and the
times are CLOCK_MONOTONIC seconds, the clock bench/storm and the service use.
"""

import argparse
import asyncio
import json
import sys
import time

POLICIES = {
    # name: (tries, per-try timeout, sleep after failure n (1-based))
    "cloud-init": (31, 10.0, lambda n: 5.0),
    "afterburn": (11, 30.0, lambda n: min(5.0, 1.0 * 2 ** (n - 1))),
}


async def get(port, agent, timeout):
    """One GET; the HTTP status, or None on a connection error or timeout."""

    async def go():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                f"GET /a/{agent}/v1.json HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            await writer.drain()
            line = await reader.readline()
            parts = line.split()
            status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None
            await reader.read()  # the body, to the close
            return status
        finally:
            writer.close()

    try:
        return await asyncio.wait_for(go(), timeout)
    except (OSError, asyncio.TimeoutError, ValueError):
        return None


async def agent_run(port, agent, start_at, policy, results):
    tries_max, timeout, sleep = POLICIES[policy]
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    start = time.monotonic()
    tries, ok = 0, False
    while tries < tries_max:
        tries += 1
        if await get(port, agent, timeout) == 200:
            ok = True
            break
        if tries < tries_max:
            await asyncio.sleep(sleep(tries))
    results.append(
        {"agent": agent, "start": round(start, 4), "end": round(time.monotonic(), 4),
         "tries": tries, "ok": ok}
    )


async def main_async(args):
    starts = [float(x) for x in open(args.starts, encoding="utf-8").read().split()]
    results = []
    await asyncio.gather(
        *(agent_run(args.port, i, s, args.policy, results) for i, s in enumerate(starts))
    )
    with open(args.out, "w", encoding="utf-8") as f:
        for r in sorted(results, key=lambda r: r["agent"]):
            f.write(json.dumps(r) + "\n")


def main():
    p = argparse.ArgumentParser(description="Replay another agent's retry policy.")
    p.add_argument("--policy", required=True, choices=sorted(POLICIES))
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--starts", required=True, help="file: one CLOCK_MONOTONIC start time (s) per agent")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
