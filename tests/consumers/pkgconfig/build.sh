#!/bin/sh
# The consumer built against an installed async_generator with pkg-config alone:
#   PKG_CONFIG_PATH=<prefix>/lib/<multiarch>/pkgconfig sh tests/consumers/pkgconfig/build.sh <output>
set -e
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh <output executable>}
flags=$(pkg-config --cflags --libs async_generator)
set -x
${CXX:-c++} -std=c++17 -O2 "$here/../consumer.cpp" -o "$out" $flags
