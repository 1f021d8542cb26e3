"""Runs an example and checks that its standard output is exactly the expected text.

With --from PREFIX, only the output from its first line starting with PREFIX to the end is compared
(for an example whose earlier lines are not deterministic); no such line is a failure."""
import argparse
import subprocess
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--from", dest="start", metavar="PREFIX")
parser.add_argument("exe")
parser.add_argument("expected_path")
args = parser.parse_args()

expected = open(args.expected_path).read()
run = subprocess.run([args.exe], capture_output=True, text=True, timeout=60)
compared = run.stdout
if args.start is not None:
    lines = run.stdout.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith(args.start)]
    compared = "".join(lines[starts[0]:]) if starts else ""
if run.returncode != 0 or compared != expected:
    what = f" (from the first line starting with {args.start!r})" if args.start is not None else ""
    sys.stderr.write(f"exit {run.returncode}\n--- expected{what}\n{expected}--- got\n{run.stdout}--- stderr\n{run.stderr}")
    sys.exit(1)
