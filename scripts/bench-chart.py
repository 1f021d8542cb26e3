#!/usr/bin/env python3
"""Draws the benchmark output (lines `bench <case> <ns>`, from one run) as a PNG with gnuplot: ns per
item for this library's consumer paths beside every baseline, and ns per item against yield_from_
depth. The caption gives the machine and the date.

    python3 scripts/bench-chart.py out.txt docs/performance.png ["caption"]
"""
import os
import re
import platform
import subprocess
import sys
import tempfile
import time

# (case, label, this library's or a baseline)
BARS = [
    ("raw_fiber", "raw Boost.Context fiber switch", "baseline"),
    ("anext_fiber", "anext from a generator body", "ours"),
    ("anext_spawn", "anext from asio::spawn", "ours"),
    ("spawn_post", "asio::spawn post(yield)", "baseline"),
    ("post_hop", "asio::post hop", "baseline"),
    ("post_fiber_hop", "post hop + raw fiber switch", "baseline"),
    ("anext_callback", "anext with a callback (continuation)", "ours"),
    ("anext_callback_plain", "anext with a plain callback", "ours"),
    ("anext_awaitable", "anext with use_awaitable", "ours"),
    ("coro20", "asio::experimental::coro", "baseline"),
    ("spawn_channel", "spawn + channel generator", "baseline"),
    ("python_native", "Python native async generator", "baseline"),
]


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main():
    source, target = sys.argv[1], sys.argv[2]
    values = {}
    with open(source) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "bench":
                values[parts[1]] = float(parts[2])
    caption = sys.argv[3] if len(sys.argv) > 3 else (
        f"{cpu_name()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")
    with tempfile.TemporaryDirectory() as tmp:
        bars = os.path.join(tmp, "bars.dat")
        with open(bars, "w") as f:
            for i, (case, label, kind) in enumerate(b for b in BARS if b[0] in values):
                f.write(f'{i} "{label}" {values[case]} {1 if kind == "ours" else 2}\n')
        # yield_from_depth_<D> (from a generator body) and yield_from_depth_<D>_<consumer>: a line each.
        lines = {}
        for key, v in values.items():
            m = re.fullmatch(r"yield_from_depth_(\d+)(?:_(\w+))?", key)
            if m:
                lines.setdefault(m.group(2) or "fiber", []).append((int(m.group(1)), v))
        plots = []
        for consumer, points in sorted(lines.items()):
            path = os.path.join(tmp, f"depths_{consumer}.dat")
            with open(path, "w") as f:
                for depth, v in sorted(points):
                    f.write(f"{depth} {v}\n")
            plots.append(f'"{path}" using 1:2 with linespoints lw 2 pt 7 title "{consumer}"')
        script = f"""
set terminal pngcairo noenhanced size 1300,620 font "DejaVu Sans,10"
set output "{target}"
set multiplot layout 1,2 margins 0.07,0.98,0.30,0.90 spacing 0.08,0 title "async_generator for C++: ns per item (lower is better); {caption}"
set style fill solid 0.8 border -1
set boxwidth 0.7
set xtics rotate by -40 left nomirror
set ytics nomirror
set logscale y
set ylabel "ns per item (log scale)"
set yrange [1:*]
set key top left
set linetype 1 lc rgb "#1f77b4"
set linetype 2 lc rgb "#aaaaaa"
plot "{bars}" using 1:($4 == 1 ? $3 : 1/0):xtic(2) with boxes lt 1 title "this library", \\
     "{bars}" using 1:($4 == 2 ? $3 : 1/0):xtic(2) with boxes lt 2 title "baselines", \\
     "{bars}" using 1:3:(sprintf("%.0f", $3)) with labels offset 0,0.7 notitle
unset logscale y
set xtics norotate
set xlabel "yield_from_ depth (generators in the chain)"
set ylabel "ns per item"
set yrange [0:*]
set logscale x 10
set xrange [0.7:30000]
set key top left
plot {", ".join(plots)}
unset multiplot
"""
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
