#!/bin/sh
# Builds the cancellation and thread tests with ThreadSanitizer (clang++) and runs them: any report
# fails. The library annotates its fiber switches (compat/fiber.hpp) when built this way.
set -e
cd "$(dirname "$0")/.."
sh scripts/setup-debian.sh clang
dir=${1:-_ci/tsan}
[ -d "$dir" ] || CXX=clang++ meson setup "$dir" -Db_sanitize=thread -Db_lundef=false -Dexamples=false -Dbenchmarks=false
meson compile -C "$dir" tests/thread_tests
TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" "$dir/tests/thread_tests" --no-intro
