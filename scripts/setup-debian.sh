#!/bin/sh
# Installs the Debian 12 packages the project needs (python3-async-generator: the reference the
# differential test, tests/differential, compares against), when any is missing (run as root); arguments
# name more packages a caller needs.
set -e
packages="g++ meson ninja-build pkg-config libboost1.81-dev libboost-context1.81-dev libboost-json1.81-dev doctest-dev python3-async-generator $*"
missing=""
for p in $packages; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
