#!/usr/bin/env bash
# A throwaway CA and one server certificate for the agents' HTTP listeners
# (http_security in the config), made with the openssl CLI at the start of a
# run: the main job, the soak, the sweep and the tests all run over TLS.
#
#   bash scripts/http-certs.sh DIR [IP ...]      (default: 127.0.0.1)
#
# Writes DIR/http_ca.pem, DIR/http_cert.pem (subjectAltName: the IPs and
# localhost) and DIR/http_key.pem (mode 600). The CA's private key is deleted
# at once: nothing else can ever be signed with it.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
dir=$1
shift
ips=("$@")
[ ${#ips[@]} -gt 0 ] || ips=(127.0.0.1)
umask 077
mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.ca.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
san="DNS:localhost"
for ip in "${ips[@]}"; do san+=",IP:$ip"; done
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$tmp/ca.key" -out "$dir/http_ca.pem" -days 7 \
  -subj "/CN=iso8583-switch throwaway CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign" 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
openssl req "${ec[@]}" -keyout "$dir/http_key.pem" -out "$tmp/server.csr" -subj "/CN=iso8583-switch agent" \
  2>"$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
  "$san" >"$tmp/ext"
openssl x509 -req -in "$tmp/server.csr" -CA "$dir/http_ca.pem" -CAkey "$tmp/ca.key" -CAserial "$tmp/ca.srl" \
  -CAcreateserial -out "$dir/http_cert.pem" -days 7 -extfile "$tmp/ext" 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
chmod 600 "$dir/http_key.pem"
chmod 644 "$dir/http_ca.pem" "$dir/http_cert.pem"
