#!/bin/sh
# Builds and runs the demo (README, first command).
set -e
cd "$(dirname "$0")/.."
sh scripts/setup-debian.sh
[ -d build ] || meson setup build
meson compile -C build demo
./build/examples/demo
