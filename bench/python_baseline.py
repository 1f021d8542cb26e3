#!/usr/bin/env python3
"""Python's native async generator on asyncio, the per-item baseline the C++ benchmarks are read
against: prints `bench python_native <ns_per_item>`, the median of 5 repetitions.

    /usr/bin/python3 bench/python_baseline.py [--items N]
"""
import asyncio
import statistics
import sys
import time


async def counter(n):
    for i in range(n):
        yield i


async def consume(n):
    total = 0
    async for v in counter(n):
        total += v
    return total


def main():
    items = 300000
    if "--items" in sys.argv:
        items = int(sys.argv[sys.argv.index("--items") + 1])
    samples = []
    for _ in range(5):
        t0 = time.perf_counter_ns()
        asyncio.run(consume(items))
        samples.append((time.perf_counter_ns() - t0) / items)
    print(f"bench python_native {statistics.median(samples):.1f}")


if __name__ == "__main__":
    main()
