#!/usr/bin/env bash
# Throwaway PAN protection keys for one run of the ecosystem (docs/data-protection.md):
# creates every pan_protection.key_file the config names (the global one and any
# per bank or network) that does not exist yet, relative paths under RUN-DIR (the
# agents' working directory), with mode 0600 in a 0700 directory. Real deployments
# create their keys once with pan-keys and keep them; this is for scripts and benches.
#
# usage: scripts/pan-keys-for-run.sh CONFIG RUN-DIR PAN-KEYS-BINARY
set -euo pipefail
umask 077
[ $# -eq 3 ] || { echo "usage: ${0##*/} CONFIG RUN-DIR PAN-KEYS-BINARY" >&2; exit 2; }
config=$1 run_dir=$2 pan_keys=$3

# key_file values inside pan_protection blocks, block or flow style.
mapfile -t files < <(awk '
  /pan_protection:/ { inside = 1; indent = match($0, /[^ ]/) }
  inside && /key_file:/ {
    line = $0; sub(/.*key_file:[ \t]*/, "", line); sub(/[ \t]*[},#].*$/, "", line); gsub(/"/, "", line)
    print line; inside = 0; next
  }
  inside && !/pan_protection:/ && match($0, /[^ ]/) && match($0, /[^ ]/) <= indent { inside = 0 }
' "$config" | sort -u)
# None named: the seed's layout (agents:), converted on load with the shipped config's path.
[ ${#files[@]} -gt 0 ] || files=(var/keys/pan.keys)
for f in "${files[@]}"; do
  case "$f" in /*) path=$f ;; *) path="$run_dir/$f" ;; esac
  [ -e "$path" ] && continue
  mkdir -p -m 700 "$(dirname "$path")"
  "$pan_keys" create "$path" >/dev/null
done
