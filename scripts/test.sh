#!/bin/sh
# Builds and runs the whole test suite (README, second command). Extra arguments go to meson setup
# of a separate build folder, e.g. `sh scripts/test.sh build-cxx14 -Dcpp_std=c++14`.
set -e
cd "$(dirname "$0")/.."
sh scripts/setup-debian.sh
dir=${1:-build}
[ $# -gt 0 ] && shift
[ -d "$dir" ] || meson setup "$dir" "$@"
meson compile -C "$dir"
meson test -C "$dir" --print-errorlogs
