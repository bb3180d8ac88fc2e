#!/usr/bin/env python3
"""Ratios of smtp-fixture to smtp-sink (and to raw loopback) from one run.

  ratios.py RESULTS_DIR      # reads smtp-fixture.json, smtp-sink.json, loopback.json
                             # and the paired rounds in RESULTS_DIR/rounds/N/

Prints the README's performance tables: msg/s and server CPU per 10 000
messages for every throughput scenario with their ratios, the issue's floors
(msg/s >= 1.0x smtp-sink, CPU <= 0.8x smtp-sink) marked met or not, the
large messages against the raw loopback rate, start-up time and idle RSS.

Throughput comes from the paired rounds when there are any: a ratio is taken
inside each round (both servers measured back to back) and the median of
those ratios is reported, with their range; the figures beside it are the
medians over the rounds. Without rounds, the medians of each server's runs.
Stdlib only.
"""
import json
import os
import statistics
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


def rounds(out):
    """[(ours, sink)] per paired round, oldest first."""
    base = os.path.join(out, "rounds")
    if not os.path.isdir(base):
        return []
    pairs = []
    for name in sorted(os.listdir(base), key=lambda n: int(n) if n.isdigit() else 0):
        a, b = load(os.path.join(base, name), "smtp-fixture"), load(os.path.join(base, name), "smtp-sink")
        if a and b:
            pairs.append((a, b))
    return pairs


def throughput(ours, sink, pairs):
    if pairs:
        print(f"\n## smtp-fixture / smtp-sink: {len(pairs)} paired rounds ({pairs[0][0]['date']}), "
              "ratio = median of the per-round ratios (range)\n")
    else:
        print(f"\n## smtp-fixture / smtp-sink, same run ({ours['date']}; medians of {ours['runs']} runs)\n")
        pairs = [(ours, sink)]
    print("| 20 000 x 1 KiB | " + " | ".join(TPUT) + " |\n|---|" + "---|" * len(TPUT))
    rows = {"smtp-fixture msg/s": [], "smtp-sink msg/s": [], "msg/s ratio (floor 1.0)": [],
            "smtp-fixture CPU s / 10k": [], "smtp-sink CPU s / 10k": [], "CPU ratio (ceiling 0.8)": []}

    def cells(sc, key, ceiling=None, floor=None):
        values = [(median(a, sc, key), median(b, sc, key)) for a, b in pairs]
        values = [(x, y) for x, y in values if x and y]
        if not values:
            return "", "", ""
        ratios = [x / y for x, y in values]
        r = statistics.median(ratios)
        ok = r >= floor if floor is not None else r <= ceiling
        spread = f" ({min(ratios):.2f}–{max(ratios):.2f})" if len(ratios) > 1 else ""
        return (statistics.median(x for x, _ in values), statistics.median(y for _, y in values),
                f"{r:.2f}{spread} {mark(ok)}")

    for sc in TPUT:
        a, b, ratio = cells(sc, "msg_per_s", floor=1.0)
        rows["smtp-fixture msg/s"].append(f"{a:,.0f}" if a else "")
        rows["smtp-sink msg/s"].append(f"{b:,.0f}" if b else "")
        rows["msg/s ratio (floor 1.0)"].append(ratio)
        ca, cb, ratio = cells(sc, "server_cpu_per_10k", ceiling=0.8)
        rows["smtp-fixture CPU s / 10k"].append(f"{ca:.2f}" if ca else "")
        rows["smtp-sink CPU s / 10k"].append(f"{cb:.2f}" if cb else "")
        rows["CPU ratio (ceiling 0.8)"].append(ratio)
    for label, row in rows.items():
        print(f"| {label} | " + " | ".join(row) + " |")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    ours, sink, raw = load(out, "smtp-fixture"), load(out, "smtp-sink"), load(out, "loopback")
    pairs = rounds(out)
    if not (ours and sink) and not pairs:
        sys.exit(f"need smtp-fixture.json and smtp-sink.json (or rounds/) in {out}")
    if pairs or any(median(ours, sc, "msg_per_s") for sc in TPUT):
        throughput(ours, sink, pairs)
    if not ours or not sink:
        return

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
