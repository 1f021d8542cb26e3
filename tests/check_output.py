"""Runs an example and checks that its standard output is exactly the expected text."""
import subprocess
import sys

exe, expected_path = sys.argv[1], sys.argv[2]
expected = open(expected_path).read()
run = subprocess.run([exe], capture_output=True, text=True, timeout=60)
if run.returncode != 0 or run.stdout != expected:
    sys.stderr.write(f"exit {run.returncode}\n--- expected\n{expected}--- got\n{run.stdout}--- stderr\n{run.stderr}")
    sys.exit(1)
