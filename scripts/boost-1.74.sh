#!/bin/sh
# Builds and runs the test suite at -std=c++14 against Boost 1.74, the oldest Boost the project
# supports, without installing it: Debian 12's own 1.74 packages are downloaded and unpacked into a
# folder, and meson's boost dependency is pointed there, so the system keeps its 1.81. Run as root
# (CI, after the normal setup). Optional argument: the folder for all of it (default _ci/boost-1.74),
# reused by later runs. The examples are not built: each is an asio::spawn coroutine with a
# completion token, which needs Boost 1.80.
set -e
cd "$(dirname "$0")/.."
sh scripts/setup-debian.sh
top=${1:-_ci/boost-1.74}
mkdir -p "$top"
top=$(cd "$top" && pwd)  # a native file takes absolute paths only
root=$top/root
include=$root/usr/include
lib=$root/usr/lib/$(c++ -print-multiarch)
build=$top/build

# Boost's headers (Asio and Boost.System are header-only in 1.74) and Boost.Context, the one
# compiled library the project links.
if [ ! -d "$root" ]; then
  rm -rf "$root.partial" "$top/debs"
  mkdir -p "$root.partial" "$top/debs"
  apt-cache show libboost1.74-dev >/dev/null 2>&1 || apt-get update -qq
  (cd "$top/debs" && apt-get download -qq -o APT::Sandbox::User=root \
    libboost1.74-dev libboost-context1.74-dev libboost-context1.74.0)
  for deb in "$top"/debs/*.deb; do dpkg -x "$deb" "$root.partial"; done
  rm -rf "$top/debs"
  mv "$root.partial" "$root"
fi

# Meson passes Boost's include folder with -I, which would put its headers under -Werror:
# -isystem makes them system headers again (as /usr/include's are), still searched before
# /usr/include. The rpath makes the programs load the 1.74 libboost_context.
cat >"$top/boost-1.74.ini" <<EOF
[properties]
boost_includedir = '$include'
boost_librarydir = '$lib'

[built-in options]
cpp_args = ['-isystem', '$include']
cpp_link_args = ['-Wl,-rpath,$lib']
EOF
[ -d "$build" ] || meson setup "$build" --native-file "$top/boost-1.74.ini" \
  -Dcpp_std=c++14 -Dbenchmarks=false -Dexamples=false -Dvalgrind=true
meson compile -C "$build" -j 2

# Proof that 1.74 was used: no object was compiled against a header of /usr/include/boost (the
# compiler's own dependency lists), and the test programs load the 1.74 library.
if ninja -C "$build" -t deps | grep -q '^ */usr/include/boost/'; then
  echo "error: compiled against /usr/include/boost" >&2
  exit 1
fi
if ! ninja -C "$build" -t deps | grep -q "^ *$include/boost/version.hpp\$"; then
  echo "error: not compiled against $include/boost" >&2
  exit 1
fi
echo "compiled against $include/boost: $(grep '^#define BOOST_LIB_VERSION' "$include/boost/version.hpp")"
for exe in "$build"/tests/tests "$build"/tests/thread_tests; do
  [ -f "$exe" ] || continue
  ldd "$exe" | grep -q "libboost_context.so.1.74.0 => $lib/" || { ldd "$exe" >&2; exit 1; }
done
echo "tests load $lib/libboost_context.so.1.74.0"

# The compile-fail tests call the compiler themselves, without meson's flags: CPLUS_INCLUDE_PATH
# puts the 1.74 headers before /usr/include there too.
CPLUS_INCLUDE_PATH=$include meson test -C "$build" --print-errorlogs
