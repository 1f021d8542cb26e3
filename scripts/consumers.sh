#!/bin/sh
# Installs the library into a scratch prefix (meson install), then builds and runs the consumer
# (tests/consumers/consumer.cpp) the three ways a project can use it: pkg-config, CMake's
# find_package(async_generator CONFIG), and a meson subproject. Prints PASS or FAIL for each and
# exits non-zero if any failed. Arguments go to meson setup of the library (e.g. -Dasio=standalone),
# and of the subproject as its options. Everything is built under a temporary folder, removed at
# the end (kept when AG_KEEP_TMP=1).
set -e
cd "$(dirname "$0")/.."
repo=$(pwd)
sh scripts/setup-debian.sh cmake

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ag-consumers.XXXXXX")
if [ "${AG_KEEP_TMP:-0}" = 1 ]; then
  trap 'echo "kept $tmp"' EXIT
else
  trap 'rm -rf "$tmp"' EXIT
fi
trap 'exit 130' INT TERM
prefix=$tmp/prefix
expected="consumer: 0 1 2"
library_options="$*"
subproject_options=""
for option in "$@"; do subproject_options="$subproject_options -Dasync_generator:${option#-D}"; done
echo "async_generator built with: ${library_options:-its default options}"
failed=0

# run_step <name> <function>: runs the function (under set -e) with its output in $tmp/<name>.log,
# shown on failure, and records a failure in $failed. Never call it as a condition (if, ||, &&):
# there the shell would ignore set -e inside the function.
run_step() {
  set +e
  (set -e; "$2") >"$tmp/$1.log" 2>&1
  rc=$?
  set -e
  if [ $rc -eq 0 ]; then
    echo "PASS $1"
  else
    echo "FAIL $1 (exit $rc); its log:"
    sed 's/^/  | /' "$tmp/$1.log" | tail -n 60
    failed=1
  fi
}

# Checks a consumer's output line; the program also exits non-zero on a wrong line.
check_run() {
  out=$("$1") || { echo "exit status $?, output: $out"; return 1; }
  echo "output: $out"
  [ "$out" = "$expected" ] || { echo "expected: $expected"; return 1; }
}

install_tree() {
  meson setup "$tmp/build" --prefix="$prefix" -Dtests=false -Dexamples=false -Dbenchmarks=false $library_options
  meson compile -C "$tmp/build" -j 2
  meson install -C "$tmp/build" --no-rebuild
  pc=$(find "$prefix" -name async_generator.pc)
  config=$(find "$prefix" -name async_generatorConfig.cmake)
  for f in "$prefix/include/async_generator.hpp" "$prefix/include/async_generator/compat/config.hpp" \
      "$(find "$prefix" -name 'libasync_generator.*' | head -n 1)" "$pc" "$config" \
      "$(dirname "$config")/async_generatorConfigVersion.cmake"; do
    [ -n "$f" ] && [ -f "$f" ] || { echo "missing from the installed tree: $f"; return 1; }
  done
  cat "$pc"
}

way_pkg_config() {
  PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name async_generator.pc)") \
    sh tests/consumers/pkgconfig/build.sh "$tmp/pkg-config-consumer"
  check_run "$tmp/pkg-config-consumer"
}

# The installed files record the Asio of the build, and a program compiled for the other one does
# not link: the missing symbol names the build of the library it needs.
way_other_asio() {
  export PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name async_generator.pc)")
  asio=$(pkg-config --variable=asio async_generator)
  grep -q "set(async_generator_ASIO \"$asio\")" "$(find "$prefix" -name async_generatorConfig.cmake)"
  case $asio in
    boost) other=1 needs=standalone ;;
    standalone) other=0 needs=boost ;;
    *) echo "async_generator.pc records no asio: '$asio'"; return 1 ;;
  esac
  echo "recorded: asio=$asio; compiling for the other Asio"
  if ${CXX:-c++} -std=c++17 $(pkg-config --cflags async_generator) -UASYNC_GENERATOR_STANDALONE_ASIO \
      -DASYNC_GENERATOR_STANDALONE_ASIO=$other tests/consumers/consumer.cpp -o "$tmp/other-asio" \
      $(pkg-config --libs async_generator) 2>"$tmp/other-asio.err"; then
    echo "linked, but must not"
    return 1
  fi
  grep -q "library_built_for_${needs}_asio" "$tmp/other-asio.err" || { cat "$tmp/other-asio.err"; return 1; }
  grep -m 1 "library_built_for_${needs}_asio" "$tmp/other-asio.err"
}

# The same for a sanitizer that changes the layout of the library's types (AddressSanitizer,
# ThreadSanitizer): a program built with one against a library built without does not link.
way_sanitizer_layout() {
  export PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name async_generator.pc)")
  for sanitizer in address thread; do
    echo "compiling with -fsanitize=$sanitizer against the library as installed"
    if ${CXX:-c++} -std=c++17 -fsanitize=$sanitizer $(pkg-config --cflags async_generator) tests/consumers/consumer.cpp \
        -o "$tmp/sanitizer-$sanitizer" $(pkg-config --libs async_generator) 2>"$tmp/sanitizer-$sanitizer.err"; then
      echo "linked, but must not"
      return 1
    fi
    grep -q "library_built_with_${sanitizer}_sanitizer" "$tmp/sanitizer-$sanitizer.err" ||
      { cat "$tmp/sanitizer-$sanitizer.err"; return 1; }
    grep -m 1 "library_built_with_${sanitizer}_sanitizer" "$tmp/sanitizer-$sanitizer.err"
  done
}

way_cmake() {
  cmake -S tests/consumers/cmake -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
  cmake --build "$tmp/cmake" -j 2 --verbose
  check_run "$tmp/cmake/consumer"
}

way_meson_subproject() {
  src=$tmp/subproject
  mkdir -p "$src/subprojects"
  cp tests/consumers/subproject/meson.build tests/consumers/consumer.cpp "$src/"
  ln -s "$repo" "$src/subprojects/async_generator"
  # Forced, so an async_generator.pc found on the machine cannot stand in for the subproject.
  meson setup "$tmp/subproject-build" "$src" --force-fallback-for=async_generator $subproject_options
  meson compile -C "$tmp/subproject-build" -j 2
  check_run "$tmp/subproject-build/consumer"
}

run_step install install_tree
if [ $failed -ne 0 ]; then
  echo "FAIL pkg-config, cmake, meson-subproject (nothing installed)"
  exit 1
fi
run_step pkg-config way_pkg_config
run_step cmake way_cmake
run_step meson-subproject way_meson_subproject
run_step other-asio way_other_asio
run_step sanitizer-layout way_sanitizer_layout
exit $failed
