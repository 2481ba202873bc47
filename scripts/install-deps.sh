#!/usr/bin/env bash
# Installs, from Debian 12's own packages, everything the build, the tests, the
# benchmarks and the main job need: the libraries below, and the package of every
# program listed in scripts/programs.tsv. Does nothing (and needs no network)
# when all are present.
set -euo pipefail
here="$(dirname "$0")"

# Libraries and toolchain pieces that are not programs on the PATH.
packages=(
  build-essential libclang-rt-14-dev
  dpdk-dev libdpdk-dev
  liburcu-dev liblmdb-dev lmdb-utils libjemalloc-dev libcriterion-dev
  libmicrohttpd-dev libjansson-dev libyaml-dev libcurl4-openssl-dev libssl-dev libgnutls28-dev
  procps
)
# The package of every program the scripts and tests call.
while IFS=$'\t' read -r program package _; do
  case "$program" in ''|'#'*) continue ;; esac
  packages+=("$package")
done < "$here/programs.tsv"
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)

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
