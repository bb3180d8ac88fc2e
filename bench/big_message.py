#!/usr/bin/env python3
"""One 32 MiB message, sent by a client that has the message ready.

  big_message.py --out DIR NAME 'SERVER COMMAND with {port}'   # measure one server
  big_message.py --report DIR --raw DIR_WITH_loopback.json      # table + ratios

Why this exists beside the shared harness: smtp-source builds its 32 MiB
message in memory *after* it starts and *before* it connects (about 30 ms of
the ~70 ms a run takes here, and 8 500 page faults), so with it as the load
no server can get near the raw loopback rate, whose client sends a ready
buffer. examples/loadgen builds its payload before the clock starts, as the
raw anchor does, so the two rates compare the servers' side of the transfer.

Every run is bounded (one message, --cap); only 127.0.0.1 is used. A fresh
server process per NAME; peak RSS is its VmHWM after all runs. Stdlib only.
"""
import argparse
import json
import os
import re
import shlex
import socket
import statistics
import subprocess
import sys
import time

HOST = "127.0.0.1"
SIZE = 32 << 20


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_port(port, proc, limit=30.0):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited rc={proc.returncode}")
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.001)
    raise TimeoutError(f"port {port} not open after {limit}s")


def hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def measure(a):
    port = free_port()
    proc = subprocess.Popen(shlex.split(a.command.format(port=port)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    rates = []
    try:
        wait_port(port, proc)
        for _ in range(a.runs):
            out = subprocess.run([a.loadgen, "--addr", f"{HOST}:{port}", "--sessions", "1",
                                  "--messages", "1", "--size", str(SIZE), "--mode", "new",
                                  "--duration-cap", a.cap],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
            text = out.stdout.decode(errors="replace")
            found = re.search(r"throughput: \S+ msg/s, ([0-9.]+) MB/s", text)
            if out.returncode != 0 or not found:
                raise RuntimeError(f"loadgen failed (rc {out.returncode}):\n{text[-500:]}")
            rates.append(float(found.group(1)))
        hwm = hwm_kb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
    result = {"name": a.name, "command": a.command, "runs_MB_per_s": rates,
              "median_MB_per_s": statistics.median(rates), "peak_rss_kb": hwm,
              "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, f"big-loadgen-{a.name}.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"{a.name} 1x32MiB by loadgen: median {result['median_MB_per_s']:.0f} MB/s "
          f"({min(rates):.0f}-{max(rates):.0f}), peak RSS {hwm / 1024:.1f} MiB", file=sys.stderr)


def report(a):
    raw = json.load(open(os.path.join(a.raw, "loopback.json")))
    anchor = raw["scenarios"]["big-1x32MiB"]["MB_per_s"]["median"]
    print("\n### One 32 MiB message sent by loadgen (payload ready before the clock starts, "
          "like the raw anchor)\n")
    print(f"raw loopback (socat, same run): {anchor:.0f} MB/s\n")
    print("| server | MB/s, median (min–max) | of raw loopback | peak RSS MiB |\n|---|---|---|---|")
    for name in sorted(os.listdir(a.report)):
        if not (name.startswith("big-loadgen-") and name.endswith(".json")):
            continue
        r = json.load(open(os.path.join(a.report, name)))
        rates = r["runs_MB_per_s"]
        print(f"| {r['name']} | {r['median_MB_per_s']:.0f} ({min(rates):.0f}–{max(rates):.0f}) | "
              f"{r['median_MB_per_s'] / anchor * 100:.0f} % | {r['peak_rss_kb'] / 1024:.1f} |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", nargs="?")
    p.add_argument("command", nargs="?", help="server start command; {port} is replaced")
    p.add_argument("--out", default="results/latest")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--cap", default="60s", help="loadgen --duration-cap per run")
    p.add_argument("--loadgen", default="target/release/examples/loadgen")
    p.add_argument("--report", metavar="DIR")
    p.add_argument("--raw", metavar="DIR", help="directory holding the harness's loopback.json")
    a = p.parse_args()
    if a.report:
        report(a)
    elif a.name and a.command and "{port}" in a.command:
        measure(a)
    else:
        p.error("need NAME and a COMMAND containing {port}, or --report DIR --raw DIR")


if __name__ == "__main__":
    main()
