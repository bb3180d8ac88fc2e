#!/usr/bin/env python3
"""Ratios of smtp-fixture to smtp-sink (and to raw loopback) from one run.

  ratios.py RESULTS_DIR      # reads smtp-fixture.json, smtp-sink.json, loopback.json
                             # and the paired rounds in RESULTS_DIR/rounds/N/
                             # (with minimal-floor.json in a round when
                             # compare.sh also ran bench/minimal_sink.c)

Prints the README's performance tables: msg/s and server CPU per 10 000
messages for every throughput scenario with their ratios, the issue's floors
(msg/s >= 1.0x smtp-sink, CPU <= 0.8x smtp-sink) marked met or not, the
large messages against the raw loopback rate, start-up time and idle RSS.

When the rounds include the minimal floor (bench/minimal_sink.c: canned
replies, no parsing, the fewest system calls a sink can make), four more
rows show what any server could reach in the same rounds: the floor's msg/s
ratio to smtp-sink, its CPU, its CPU ratio to smtp-sink, and ours to it.

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


FLOOR = "minimal-floor"


def rounds(out):
    """[(ours, sink, floor or None)] per paired round, oldest first."""
    base = os.path.join(out, "rounds")
    if not os.path.isdir(base):
        return []
    found = []
    for name in sorted(os.listdir(base), key=lambda n: int(n) if n.isdigit() else 0):
        here = os.path.join(base, name)
        a, b = load(here, "smtp-fixture"), load(here, "smtp-sink")
        if a and b:
            found.append((a, b, load(here, FLOOR)))
    return found


def per_round(pairs, sc, key):
    """(median of x, median of y, [x / y per round]) over the rounds that have both."""
    values = [(median(x, sc, key), median(y, sc, key)) for x, y in pairs]
    values = [(x, y) for x, y in values if x and y]
    if not values:
        return None, None, []
    return (statistics.median(x for x, _ in values), statistics.median(y for _, y in values),
            [x / y for x, y in values])


def median_messages(found):
    """How many messages a throughput run sent, as the harness recorded it."""
    counts = [r["scenarios"][sc]["messages"] for r, _, _ in found for sc in TPUT
              if sc in r["scenarios"] and r["scenarios"][sc].get("messages")]
    return f"{statistics.median(counts):,.0f}".replace(",", " ") if counts else "runs of"


def ratio_cell(ratios, floor=None, ceiling=None):
    if not ratios:
        return ""
    r = statistics.median(ratios)
    spread = f" ({min(ratios):.2f}–{max(ratios):.2f})" if len(ratios) > 1 else ""
    if floor is None and ceiling is None:
        return f"{r:.2f}{spread}"
    return f"{r:.2f}{spread} {mark(r >= floor if floor is not None else r <= ceiling)}"


def throughput(ours, sink, found):
    if found:
        print(f"\n## smtp-fixture / smtp-sink: {len(found)} paired rounds ({found[0][0]['date']}), "
              "ratio = median of the per-round ratios (range)\n")
    else:
        print(f"\n## smtp-fixture / smtp-sink, same run ({ours['date']}; medians of {ours['runs']} runs)\n")
        found = [(ours, sink, None)]
    pairs = [(a, b) for a, b, _ in found]
    floors = [(f, b) for _, b, f in found if f]
    mine_to_floor = [(a, f) for a, _, f in found if f]
    print(f"| {median_messages(found)} x 1 KiB | " + " | ".join(TPUT) + " |\n|---|" + "---|" * len(TPUT))
    rows = {"smtp-fixture msg/s": [], "smtp-sink msg/s": [], "msg/s ratio (floor 1.0)": [],
            "smtp-fixture CPU s / 10k": [], "smtp-sink CPU s / 10k": [], "CPU ratio (ceiling 0.8)": []}
    if floors:
        rows.update({"floor / smtp-sink msg/s": [], "minimal floor CPU s / 10k": [],
                     "floor / smtp-sink CPU (the best any server can do)": [], "smtp-fixture / floor CPU": []})

    def number(value, form):
        return form.format(value) if value else ""

    for sc in TPUT:
        a, b, ratios = per_round(pairs, sc, "msg_per_s")
        rows["smtp-fixture msg/s"].append(number(a, "{:,.0f}"))
        rows["smtp-sink msg/s"].append(number(b, "{:,.0f}"))
        rows["msg/s ratio (floor 1.0)"].append(ratio_cell(ratios, floor=1.0))
        a, b, ratios = per_round(pairs, sc, "server_cpu_per_10k")
        rows["smtp-fixture CPU s / 10k"].append(number(a, "{:.2f}"))
        rows["smtp-sink CPU s / 10k"].append(number(b, "{:.2f}"))
        rows["CPU ratio (ceiling 0.8)"].append(ratio_cell(ratios, ceiling=0.8))
        if floors:
            rows["floor / smtp-sink msg/s"].append(ratio_cell(per_round(floors, sc, "msg_per_s")[2]))
            f, _, ratios = per_round(floors, sc, "server_cpu_per_10k")
            rows["minimal floor CPU s / 10k"].append(number(f, "{:.2f}"))
            rows["floor / smtp-sink CPU (the best any server can do)"].append(ratio_cell(ratios, ceiling=0.8))
            rows["smtp-fixture / floor CPU"].append(ratio_cell(per_round(mine_to_floor, sc, "server_cpu_per_10k")[2]))
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
