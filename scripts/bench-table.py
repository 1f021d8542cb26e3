#!/usr/bin/env python3
"""Turns the output of bench/bench and bench/bench_memory (lines `bench <case> <ns>` and
`mem <case> <bytes>`, from one run) into the README's Markdown tables: every case, then the
ratios the project holds itself to, each against a baseline measured in the same run.

    ./build/bench/bench > out.txt; ./build/bench/bench_memory >> out.txt
    python3 scripts/bench-table.py out.txt
"""
import sys

# (what, case, baseline, limit)
RATIOS = [
    ("anext from fiber code / raw fiber round trip", "bench anext_fiber", "bench raw_fiber", 2.0),
    ("anext from asio::spawn / spawn post(yield) round trip", "bench anext_spawn", "bench spawn_post", 1.15),
    ("a body's await of asio::post / spawn post(yield) round trip", "bench await_post", "bench spawn_post", 1.3),
    ("anext via callbacks / one post hop", "bench anext_callback", "bench post_hop", 3.0),
    ("anext via plain callbacks (no continuation hint) / one post hop", "bench anext_callback_plain",
     "bench post_hop", 3.0),
    ("use_awaitable consumer / asio::experimental::coro", "bench anext_awaitable", "bench coro20", 0.5),
    ("lifecycle, default policy / raw fiber on a pooled stack unwound by one exception", "bench lifecycle_default",
     "bench lifecycle_raw_unwound", 1.3),
    ("yield_from_ chain 10,000 deep / 1 deep, from a generator body", "bench yield_from_depth_10000",
     "bench yield_from_depth_1", 1.3),
    ("the same, from callbacks", "bench yield_from_depth_10000_callback", "bench yield_from_depth_1_callback", 1.3),
    ("the same, from asio::spawn", "bench yield_from_depth_10000_spawn", "bench yield_from_depth_1_spawn", 1.3),
    ("the same, from use_awaitable", "bench yield_from_depth_10000_awaitable", "bench yield_from_depth_1_awaitable",
     1.3),
    ("resident bytes: 1M generators / 1M raw fibers (16 KiB stacks)", "mem generators_1m", "mem raw_fibers_1m", 1.25),
    ("the same, on stacks of the default policy", "mem generators_default_1m", "mem raw_fibers_1m", 1.25),
]


def read(lines):
    values = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 3 and parts[0] in ("bench", "mem"):
            values[parts[0] + " " + parts[1]] = float(parts[2])
    return values


def main():
    with open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin as f:
        values = read(f)
    print("| case | ns per item |")
    print("|---|---:|")
    for key, v in values.items():
        if key.startswith("bench "):
            print(f"| `{key[6:]}` | {v:.1f} |")
    print()
    print("| ratio | measured | limit | |")
    print("|---|---:|---:|---|")
    failed = 0
    for what, case, base, limit in RATIOS:
        if case not in values or base not in values:
            print(f"| {what} | not measured | ≤ {limit} | |")
            continue
        r = values[case] / values[base]
        ok = r <= limit
        failed += not ok
        print(f"| {what} | {r:.2f} | ≤ {limit} | {'holds' if ok else '**does not hold**'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
