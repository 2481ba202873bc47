#!/usr/bin/env bash
# Installs, from Debian 12's own packages, everything the build, the tests and
# the main job need. Does nothing (and needs no network) when all are present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  dpdk dpdk-dev libdpdk-dev
  liburcu-dev liblmdb-dev lmdb-utils libjemalloc-dev libcriterion-dev
  libmicrohttpd-dev libjansson-dev libyaml-dev libcurl4-openssl-dev
  python3 gnuplot-nox iproute2 procps valgrind
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
