#!/usr/bin/env bash
# Checks that every external program in scripts/programs.tsv is on the PATH,
# before a build or a test starts, so a missing one is one clear message naming
# its Debian package instead of a test failing half-way.
#   bash scripts/check-programs.sh           all programs
# Exit 0 when all are there; 1 with one line per missing program otherwise.
set -euo pipefail
manifest="$(dirname "$0")/programs.tsv"

missing=0
packages=()
while IFS=$'\t' read -r program package needed_by; do
  case "$program" in ''|'#'*) continue ;; esac
  if ! command -v "$program" >/dev/null 2>&1; then
    echo "missing program: $program (Debian package $package), needed by: $needed_by" >&2
    packages+=("$package")
    missing=$((missing + 1))
  fi
done < "$manifest"

if [ "$missing" -gt 0 ]; then
  echo "$missing program(s) missing: run 'bash scripts/install-deps.sh' as root," \
       "or apt-get install $(printf '%s\n' "${packages[@]}" | sort -u | tr '\n' ' ')" >&2
  exit 1
fi
echo "external programs: all $(grep -cvE '^(#|$)' "$manifest") present"
