#!/usr/bin/env python3
"""Ratios of smtp-fixture to smtp-sink (and to raw loopback) from one run.

  ratios.py RESULTS_DIR      # reads smtp-fixture.json, smtp-sink.json, loopback.json

Prints the README's performance tables: msg/s and server CPU per 10 000
messages for every throughput scenario with their ratios, the issue's floors
(msg/s >= 1.0x smtp-sink, CPU <= 0.8x smtp-sink) marked met or not, the
large messages against the raw loopback rate, start-up time and idle RSS.
Medians over the runs of each scenario. Stdlib only.
"""
import json
import os
import sys

TPUT = ["conn-s1", "conn-s10", "conn-s50", "keep-s1", "keep-s10", "keep-s50"]


def load(directory, name):
    path = os.path.join(directory, f"{name}.json")
    return json.load(open(path)) if os.path.exists(path) else None


def median(result, scenario, key):
    s = result["scenarios"].get(scenario) if result else None
    return s[key]["median"] if s and s.get(key) else None


def mark(ok):
    return "met" if ok else "**not met**"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    ours, sink, raw = load(out, "smtp-fixture"), load(out, "smtp-sink"), load(out, "loopback")
    if not ours or not sink:
        sys.exit(f"need smtp-fixture.json and smtp-sink.json in {out}")

    print(f"\n## smtp-fixture / smtp-sink, same run ({ours['date']}; medians of {ours['runs']} runs)\n")
    print("| 20 000 x 1 KiB | " + " | ".join(TPUT) + " |\n|---|" + "---|" * len(TPUT))
    rows = {"smtp-fixture msg/s": [], "smtp-sink msg/s": [], "msg/s ratio (floor 1.0)": [],
            "smtp-fixture CPU s / 10k": [], "smtp-sink CPU s / 10k": [], "CPU ratio (ceiling 0.8)": []}
    for sc in TPUT:
        a, b = median(ours, sc, "msg_per_s"), median(sink, sc, "msg_per_s")
        ca, cb = median(ours, sc, "server_cpu_per_10k"), median(sink, sc, "server_cpu_per_10k")
        rows["smtp-fixture msg/s"].append(f"{a:,.0f}" if a else "")
        rows["smtp-sink msg/s"].append(f"{b:,.0f}" if b else "")
        rows["msg/s ratio (floor 1.0)"].append(f"{a / b:.2f} {mark(a / b >= 1.0)}" if a and b else "")
        rows["smtp-fixture CPU s / 10k"].append(f"{ca:.2f}" if ca else "")
        rows["smtp-sink CPU s / 10k"].append(f"{cb:.2f}" if cb else "")
        rows["CPU ratio (ceiling 0.8)"].append(f"{ca / cb:.2f} {mark(ca / cb <= 0.8)}" if ca and cb else "")
    for label, cells in rows.items():
        print(f"| {label} | " + " | ".join(cells) + " |")

    print("\n| large messages (smtp-source as the load) | smtp-fixture | smtp-sink | raw loopback |\n|---|---|---|---|")
    for sc in ["big-1x32MiB", "big-10x10MiB"]:
        cells = [median(r, sc, "MB_per_s") for r in (ours, sink, raw)]
        print(f"| {sc} MB/s | " + " | ".join(f"{c:,.0f}" if c else "" for c in cells) + " |")
    big = ours["scenarios"].get("big-1x32MiB")
    if big and big.get("peak_rss_kb"):
        rss = big["peak_rss_kb"] / 1024
        print(f"\nPeak RSS with one 32 MiB message: {rss:.1f} MiB (ceiling 32 + 16 = 48 MiB: {mark(rss <= 48)})")
    for label, r in (("smtp-fixture", ours), ("smtp-sink", sink)):
        st = r.get("startup")
        if st:
            print(f"{label}: process start to accepting {st['ms']['median']:.1f} ms, "
                  f"idle RSS {st['idle_rss_kb'] / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
