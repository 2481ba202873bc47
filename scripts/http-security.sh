# Sourced by scripts/ecosystem.sh, bench/soak/soak.sh, bench/macro/sweep.sh and
# bench/tcp/tcp_vs_udp.sh: the HTTP security of one run (docs/security.md).
#
#   http_security_prepare RUN_DIR CONFIG HTTP_KEYS_BINARY [IP ...]
#     When CONFIG has an http_security section (paths relative to the agents'
#     working directory, RUN_DIR): a throwaway CA and certificate for the IPs
#     (scripts/http-certs.sh; default 127.0.0.1), a client certificate for every
#     bank and network (mutual TLS, in RUN_DIR/secrets/agents), a key for every agent in the
#     agent tokens file, and an operator key for this script, kept in
#     RUN_DIR/secrets/operator.header (mode 600) so that it never shows in a
#     process list. Without the section: plain http, no key.
#   http_security_load RUN_DIR
#     The same settings for a run prepared earlier (ecosystem.sh status).
#   api [curl options ...] HOST:PORT/PATH
#     curl as the operator: https with the run's CA and key (or plain http).
api_scheme=http
api_options=()

http_security_prepare() {
  local run_dir=$1 config keys
  # Absolute: the key tool runs from the run directory (the config's own paths are relative to it).
  config=$(realpath "$2") && keys=$(realpath "$3") || return 1
  shift 3
  api_scheme=http
  api_options=()
  grep -q '^http_security:' "$config" || return 0
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  local clients=() name
  while read -r name; do clients+=(--client "$name"); done < <("$keys" --config "$config" agents)
  [ ${#clients[@]} -gt 0 ] || { echo "http-security.sh: no agents in $config" >&2; return 1; }
  bash "$here/http-certs.sh" "$run_dir/secrets" "${clients[@]}" "$@"
  (cd "$run_dir" && "$keys" --config "$config" agent-tokens >/dev/null) ||
    { echo "http-security.sh: the agents' API keys could not be made (above)" >&2; return 1; }
  local token
  token=$(cd "$run_dir" && "$keys" --config "$config" create --scope operator --subject "${0##*/}") ||
    { echo "http-security.sh: the operator's API key could not be made (above)" >&2; return 1; }
  (umask 077 && printf 'Authorization: Bearer %s\n' "$token" >"$run_dir/secrets/operator.header")
  api_scheme=https
  api_options=(--cacert "$run_dir/secrets/http_ca.pem" -H "@$run_dir/secrets/operator.header")
}

http_security_load() {
  api_scheme=http
  api_options=()
  [ -s "$1/secrets/operator.header" ] || return 0
  api_scheme=https
  api_options=(--cacert "$1/secrets/http_ca.pem" -H "@$1/secrets/operator.header")
}

api() {
  local n=$#
  local target=${!n}
  curl "${api_options[@]}" "${@:1:n-1}" "$api_scheme://$target"
}
