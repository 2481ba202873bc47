#!/usr/bin/env bash
# A throwaway CA, one server certificate for the agents' HTTP listeners and
# one client certificate per agent (http_security in the config), made with the
# openssl CLI at the start of a run: the main job, the soak, the sweep and the
# tests all run over TLS, the agents' calls to each other over mutual TLS.
#
#   bash scripts/http-certs.sh DIR [--client NAME ...] [IP ...]   (default IP: 127.0.0.1)
#
# Writes DIR/http_ca.pem, DIR/http_cert.pem (subjectAltName: the IPs and
# localhost), DIR/http_key.pem (mode 600) and, for every --client NAME,
# DIR/agents/NAME.pem (CN=NAME, clientAuth) and DIR/agents/NAME.key (mode 600).
# The CA's private key is deleted at once: nothing else can ever be signed with it.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
dir=$1
shift
ips=()
clients=()
while [ $# -gt 0 ]; do
  if [ "$1" = --client ]; then
    [ $# -ge 2 ] || { echo "http-certs.sh: --client needs a name" >&2; exit 2; }
    # Agent names become file names and a CN: nothing but letters, digits, '_', '-', '.'.
    [[ $2 =~ ^[A-Za-z0-9_.-]{1,63}$ ]] || { echo "http-certs.sh: bad agent name '$2'" >&2; exit 2; }
    clients+=("$2")
    shift 2
  else
    ips+=("$1")
    shift
  fi
done
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

# sign KEY_OUT CERT_OUT SUBJECT EXTENSIONS: a new EC P-256 key and its certificate from the CA.
sign() {
  openssl req "${ec[@]}" -keyout "$1" -out "$tmp/req.csr" -subj "$3" 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
  printf '%s' "$4" >"$tmp/ext"
  openssl x509 -req -in "$tmp/req.csr" -CA "$dir/http_ca.pem" -CAkey "$tmp/ca.key" -CAserial "$tmp/ca.srl" \
    -CAcreateserial -out "$2" -days 7 -extfile "$tmp/ext" 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
  chmod 600 "$1"
  chmod 644 "$2"
}
sign "$dir/http_key.pem" "$dir/http_cert.pem" "/CN=iso8583-switch agent" \
  "$(printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' "$san")"
# The agents' client certificates (mutual TLS, docs/security.md): the CN is the agent's name, the
# subject its bank or network API key must carry; clientAuth only, so none can serve as a server.
if [ ${#clients[@]} -gt 0 ]; then
  mkdir -p "$dir/agents"
  for name in "${clients[@]}"; do
    sign "$dir/agents/$name.key" "$dir/agents/$name.pem" "/CN=$name" \
      "$(printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n')"
  done
fi
chmod 644 "$dir/http_ca.pem"
