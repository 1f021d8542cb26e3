#!/bin/sh
# What a build compiled against and links, from the build itself: the version macros of the
# headers its programs included (tests/versions prints them), the files those came from in every
# object of the build (the compiler's own dependency lists: one file each, or the build mixed two),
# and the Boost.Context library the tests link.
#   sh scripts/versions.sh <build dir>
set -e
build=${1:?usage: versions.sh <build dir>}
"$build/tests/versions"
deps=$(ninja -C "$build" -t deps)
mixed=0
for header in boost/version.hpp boost/asio/version.hpp asio/version.hpp boost/context/fiber_fcontext.hpp; do
  case $header in
    asio/*) files=$(echo "$deps" | grep -o "[^ ]*/$header\$" | grep -v "/boost/asio/version.hpp\$" | sort -u) ;;
    *) files=$(echo "$deps" | grep -o "[^ ]*/$header\$" | sort -u) ;;
  esac
  [ -n "$files" ] || continue
  echo "  $header: $files"
  [ "$(echo "$files" | wc -l)" -eq 1 ] || mixed=1
done
context=$(ninja -C "$build" -t commands tests/tests | tail -n 1 | tr ' ' '\n' | grep 'boost_context' | head -n 1)
echo "  Boost.Context library: ${context:-none named on the link line}"
if [ $mixed -ne 0 ]; then
  echo "error: the build's objects were compiled against different copies of one header" >&2
  exit 1
fi
