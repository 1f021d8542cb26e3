"""A compile-fail test: the file must not compile, and the compiler must say `expected`; the same
file with COMPILE_FAIL_CONTROL defined must compile, so the failure is the one intended.

usage: compile_fail.py <expected message> <file.cpp> -- <compiler command and flags...>
"""
import subprocess
import sys

expected, source, sep, *compiler = sys.argv[1:]
assert sep == "--", "usage: compile_fail.py <expected> <file.cpp> -- <compiler...>"

control = subprocess.run(compiler + ["-fsyntax-only", "-DCOMPILE_FAIL_CONTROL", source], capture_output=True, text=True)
if control.returncode != 0:
    print("the control variant does not compile:\n" + control.stderr)
    sys.exit(1)
refused = subprocess.run(compiler + ["-fsyntax-only", source], capture_output=True, text=True)
if refused.returncode == 0:
    print("compiled, but must be refused with: " + expected)
    sys.exit(1)
if expected not in refused.stderr:
    print("refused, but without the message " + repr(expected) + ":\n" + refused.stderr)
    sys.exit(1)
print("refused with: " + expected)
