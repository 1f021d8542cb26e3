#!/bin/sh
# Builds against one of the newest upstream snapshots of ../shared/vendor (see its README): unpacks
# it into a folder outside the project tree (once), writes a meson native file that puts its
# headers ahead of the system's, and prints that file's path.
#   sh scripts/vendor.sh <name> <folder> [more cpp_args ...]
#     boost-1.90  Boost.Asio 1.38.0 (Boost 1.90) and Boost.Context of 2026-05-08, whose fcontext
#                 assembly, fcontext.cpp and stack_traits.cpp are compiled into the libboost_context.a
#                 the build links; the rest of Boost is the system's (1.81)
#     boost-1.83  Boost.Asio 1.28.2 (Boost 1.83, Ubuntu 24.04's) ahead of the system's Boost 1.81
#     asio-1.38   standalone Asio 1.38.2 (with -Dasio=standalone)
# Arguments after the folder go to cpp_args too (a native file's cpp_args would be replaced by a
# -Dcpp_args of meson setup). Example:
#   meson setup build-1.90 --native-file "$(sh scripts/vendor.sh boost-1.90 _ci/vendor)"
# scripts/versions.sh <build> then shows which headers and Boost.Context the build used.
set -e
cd "$(dirname "$0")/.."
name=${1:?usage: vendor.sh boost-1.90|boost-1.83|asio-1.38 <folder> [cpp_args...]}
top=${2:?usage: vendor.sh <name> <folder> [cpp_args...]}
shift 2
[ -d ../shared/vendor ] || { echo "vendor.sh: no ../shared/vendor beside the repository (its README says what it holds)" >&2; exit 1; }
vendor=$(cd ../shared/vendor && pwd)
mkdir -p "$top"
top=$(cd "$top" && pwd)  # a native file takes absolute paths only

# unpack <archive base name>: prints the folder of its headers
unpack() {
  if [ ! -d "$top/$1" ]; then
    rm -rf "$top/$1.partial"
    mkdir -p "$top/$1.partial"
    tar -xJf "$vendor/$1.tar.xz" -C "$top/$1.partial"
    mv "$top/$1.partial" "$top/$1"
  fi
  echo "$top/$1/$1/include"
}

properties=""
case $name in
  boost-1.90)
    asio=$(unpack boost-asio-1.38.0)
    context=$(unpack boost-context-2026-05-08)
    lib=$top/boost-context-2026-05-08/lib
    if [ ! -f "$lib/libboost_context.a" ]; then
      src=$top/boost-context-2026-05-08/boost-context-2026-05-08/src
      rm -rf "$lib.partial" && mkdir -p "$lib.partial"
      for part in jump make ontop; do
        ${CC:-cc} -c "$src/asm/${part}_x86_64_sysv_elf_gas.S" -o "$lib.partial/$part.o"
      done
      # fcontext.cpp wraps the assembly's C symbols in the C++ names the headers declare (since 1.88).
      for part in posix/stack_traits fcontext; do
        ${CXX:-c++} -O2 -fPIC -DBOOST_CONTEXT_SOURCE -DBOOST_CONTEXT_STATIC_LINK -isystem "$context" \
          -c "$src/$part.cpp" -o "$lib.partial/$(basename $part).o"
      done
      ar rcs "$lib.partial/libboost_context.a" "$lib.partial"/*.o
      rm "$lib.partial"/*.o
      # The rest of Boost's libraries are the system's (the demo's Boost.JSON), static as this one.
      for other in "/usr/lib/$(${CXX:-c++} -print-multiarch)"/libboost_*.a; do
        case $other in */libboost_context*) ;; *) ln -s "$other" "$lib.partial/" ;; esac
      done
      mv "$lib.partial" "$lib"
    fi
    includes="'-isystem', '$asio', '-isystem', '$context'"
    # meson's boost dependency: the system's headers (behind the ones above), this Boost.Context
    properties="boost_includedir = '/usr/include'
boost_librarydir = '$lib'"
    ;;
  boost-1.83)
    includes="'-isystem', '$(unpack boost-asio-1.83.0)'"
    ;;
  asio-1.38)
    includes="'-isystem', '$(unpack asio-1.38.2)'"
    ;;
  *)
    echo "vendor.sh: unknown snapshot $name (boost-1.90, boost-1.83, asio-1.38)" >&2
    exit 2
    ;;
esac

extra=""
for arg in "$@"; do extra="$extra, '$arg'"; done
native=$top/$name.ini
cat >"$native" <<EOF
[properties]
$properties

[built-in options]
cpp_args = [$includes$extra]
EOF
echo "$native"
