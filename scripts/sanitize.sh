#!/bin/sh
# Builds the whole test suite with clang++ and sanitizers, and runs it: any report fails.
#   sh scripts/sanitize.sh <build dir> address,undefined   AddressSanitizer + UndefinedBehaviorSanitizer
#   sh scripts/sanitize.sh <build dir> thread              ThreadSanitizer
# Then, optionally, --vendor=<name>: build against one of ../shared/vendor's snapshots
# (scripts/vendor.sh names them; unpacked into _ci/vendor). More arguments go to meson setup
# (e.g. -Dcpp_std=c++20).
# The library annotates its fiber switches for both (compat/fiber.hpp) when built this way.
set -e
cd "$(dirname "$0")/.."
sh scripts/setup-debian.sh clang
dir=$1
sanitizers=$2
shift 2
# -O1 and line tables only: the usual sanitizer build, and half the compile time of -O2 -g. A
# vendored snapshot's native file carries these flags with its own (a -Dcpp_args would replace them).
flags="-fno-sanitize-recover=all -gline-tables-only"
case ${1:-} in
  --vendor=*)
    native=$(CXX=clang++ sh scripts/vendor.sh "${1#--vendor=}" _ci/vendor $flags)
    shift
    set -- --native-file "$native" "$@"
    ;;
  *)
    set -- -Dcpp_args="$flags" "$@"
    ;;
esac
[ -d "$dir" ] || CXX=clang++ meson setup "$dir" -Db_sanitize="$sanitizers" -Db_lundef=false -Dbenchmarks=false \
  -Doptimization=1 -Ddebug=false "$@"
meson compile -C "$dir"
# handle_segv=0: the stack-overflow test's child process must die of the SIGSEGV, after the
# library's report, not be turned into AddressSanitizer's report and exit code.
ASAN_OPTIONS="detect_leaks=1 handle_segv=0" \
UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1" \
TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
  meson test -C "$dir" --print-errorlogs
