#include "switch_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prometheus.h"
#include "rate_limit_report.h"
#include "saf_http.h"
#include "switch_metrics.h"
#include "switch_tcp.h"
#include "pan_mask.h"

static json_t *counters_json(const struct switch_counters *c)
{
	json_t *o = json_object();
#define COUNTER_JSON(name, help) json_object_set_new(o, #name, json_integer((json_int_t)c->name));
	SWITCH_COUNTERS(COUNTER_JSON)
#undef COUNTER_JSON
	return o;
}

/* Per link: messages refused for a missing or wrong MAC, and accepted under the previous key. */
static json_t *mac_stats_json(struct iso_mac_keyring *kr)
{
	char body[ISO_MAC_MAX_LINKS * 160 + 2];
	body[0] = '{';
	size_t n = iso_mac_keyring_stats_json(kr, body + 1, sizeof(body) - 2);
	body[1 + n] = '}';
	body[2 + n] = '\0';
	json_t *o = json_loads(body, 0, NULL);
	return o ? o : json_object();
}

json_t *switch_stats_json(struct switch_core *s)
{
	struct switch_counters sum;
	struct switch_gauges g;
	switch_core_counters(s, &sum, &g);
	json_t *root = json_object();
	json_object_set_new(root, "network", json_string(s->network));
	json_object_set_new(root, "workers", json_integer(s->worker_count));
	json_object_set_new(root, "totals", counters_json(&sum));
	json_t *gauges = json_object();
	json_object_set_new(gauges, "pending", json_integer((json_int_t)g.pending));
	json_object_set_new(gauges, "route_version", json_integer((json_int_t)g.route_version));
	json_object_set_new(gauges, "cards", json_integer((json_int_t)g.cards));
	json_object_set_new(gauges, "outcome_evictions", json_integer((json_int_t)g.outcome_evictions));
	json_object_set_new(root, "gauges", gauges);
	json_t *per = json_array();
	for (uint16_t i = 0; i < s->worker_count; i++) {
		struct switch_counters one;
		switch_core_worker_counters(s, i, &one);
		json_array_append_new(per, counters_json(&one));
	}
	json_object_set_new(root, "per_worker", per);
	json_object_set_new(root, "saf", saf_stats_json(s->saf));
	json_object_set_new(root, "iso_mac", mac_stats_json(&s->mac_keys));
	json_t *tcp = switch_tcp_stats_json(s->port);
	if (tcp)
		json_object_set_new(root, "tcp", tcp);
	return root;
}

static struct http_response get_metrics(const struct http_request *r)
{
	size_t length = 0;
	char *text = switch_metrics_text(r->context, r->limits, &length);
	return http_text(200, text, length, PROM_CONTENT_TYPE);
}

static struct http_response get_stats(const struct http_request *r)
{
	json_t *j = switch_stats_json(r->context);
	json_object_set_new(j, "http_limits", rate_limit_stats_json(r->limits));
	return http_json(200, j);
}

static struct http_response get_routes(const struct http_request *r)
{
	struct switch_core *s = r->context;
	struct route_spec *specs;
	size_t n;
	uint64_t version;
	if (!switch_core_get_routes(s, &specs, &n, &version))
		return http_error(500, "out of memory");
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:i}", "low", specs[i].low, "high",
						      specs[i].high, "bank", specs[i].bank, "host",
						      specs[i].iso.host, "port", (int)specs[i].iso.port));
	free(specs);
	return http_json(200, json_pack("{s:I, s:o}", "version", (json_int_t)version, "routes", list));
}

static bool copy_string(const json_t *o, const char *key, char *out, size_t size, bool required, size_t i,
			char *err, size_t err_size)
{
	const json_t *v = json_object_get(o, key);
	if (!v) {
		if (required)
			snprintf(err, err_size, "route %zu: \"%s\" is missing", i, key);
		return !required;
	}
	if (!json_is_string(v) || json_string_length(v) >= size) {
		snprintf(err, err_size, "route %zu: \"%s\" must be a string shorter than %zu characters", i, key, size);
		return false;
	}
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return true;
}

long switch_routes_parse(struct switch_core *s, const json_t *body, struct route_spec **specs, char *err,
			 size_t err_size)
{
	const json_t *list = json_is_object(body) ? json_object_get(body, "routes") : body;
	if (!json_is_array(list)) {
		snprintf(err, err_size, "expected a JSON array of routes (or {\"routes\": [...]})");
		return -1;
	}
	size_t n = json_array_size(list);
	*specs = calloc(n ? n : 1, sizeof(**specs));
	if (!*specs) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(list, i);
		struct route_spec *r = &(*specs)[i];
		if (!json_is_object(o)) {
			snprintf(err, err_size, "route %zu is not an object", i);
			goto bad;
		}
		if (!copy_string(o, "low", r->low, sizeof(r->low), true, i, err, err_size) ||
		    !copy_string(o, "high", r->high, sizeof(r->high), false, i, err, err_size) ||
		    !copy_string(o, "bank", r->bank, sizeof(r->bank), true, i, err, err_size) ||
		    !copy_string(o, "host", r->iso.host, sizeof(r->iso.host), false, i, err, err_size))
			goto bad;
		if (r->high[0] == '\0')
			memcpy(r->high, r->low, sizeof(r->high));
		const json_t *port = json_object_get(o, "port");
		if (port) {
			json_int_t p = json_is_integer(port) ? json_integer_value(port) : -1;
			if (p < 1 || p > 65535) {
				snprintf(err, err_size, "route %zu: \"port\" must be an integer 1..65535", i);
				goto bad;
			}
			r->iso.port = (uint16_t)p;
		}
		if (r->iso.host[0] == '\0' && r->iso.port == 0) {
			if (!switch_core_bank_endpoint(s, r->bank, &r->iso)) {
				snprintf(err, err_size, "route %zu: bank '%s' is not in the config; give \"host\" and \"port\"",
					 i, r->bank);
				goto bad;
			}
		} else if (r->iso.host[0] == '\0' || r->iso.port == 0) {
			snprintf(err, err_size, "route %zu: give both \"host\" and \"port\", or neither", i);
			goto bad;
		}
	}
	return (long)n;
bad:
	free(*specs);
	*specs = NULL;
	return -1;
}

static struct http_response put_routes(const struct http_request *r)
{
	struct switch_core *s = r->context;
	char err[256];
	struct route_spec *specs;
	long n = switch_routes_parse(s, r->body, &specs, err, sizeof(err));
	if (n < 0)
		return http_error(400, "%s", err);
	bool ok = switch_core_set_routes(s, specs, (size_t)n, err, sizeof(err));
	free(specs);
	if (!ok)
		return http_error(400, "%s", err);
	return get_routes(r);
}

/* Liveness without credentials (a loopback listener only: http_api). */
static struct http_response get_health(const struct http_request *r)
{
	struct switch_core *s = r->context;
	return http_json(200, json_pack("{s:s, s:s}", "status", "ok", "network", s->network));
}

static struct http_response post_cards(const struct http_request *r)
{
	struct switch_core *s = r->context;
	const char *pan = json_string_value(json_object_get(r->body, "pan"));
	const char *expiry = json_string_value(json_object_get(r->body, "expiry"));
	const char *state = json_string_value(json_object_get(r->body, "state"));
	if (!pan || !expiry)
		return http_error(400, "\"pan\" and \"expiry\" (YYMM) are required strings");
	if (strlen(expiry) != 4 || strspn(expiry, "0123456789") != 4 || (expiry[2] == '0' && expiry[3] == '0') ||
	    (expiry[2] - '0') * 10 + (expiry[3] - '0') > 12)
		return http_error(400, "\"expiry\" must be YYMM with a month 01 to 12");
	enum card_state st = CARD_ACTIVE;
	if (state && strcmp(state, "blocked") == 0)
		st = CARD_BLOCKED;
	else if (state && strcmp(state, "active") != 0)
		return http_error(400, "\"state\" must be \"active\" or \"blocked\"");
	char err[256];
	if (!switch_core_put_card(s, pan, expiry, st, err, sizeof(err)))
		return http_error(400, "%s", err);
	/* The answer names the card masked, without its expiry (docs/data-protection.md). */
	char masked[PAN_MASK_SIZE];
	return http_json(201, json_pack("{s:s, s:s}", "pan", pan_mask(pan, masked, sizeof(masked)), "state",
					st == CARD_BLOCKED ? "blocked" : "active"));
}

struct http_api *switch_http_start(struct switch_core *s, const char *host, uint16_t port, char *err,
				   size_t err_size)
{
	return switch_http_start_with(s, host, port, NULL, 0, NULL, err, err_size);
}

struct http_api *switch_http_start_with(struct switch_core *s, const char *host, uint16_t port,
					const struct http_route *extra, size_t extra_count,
					const struct http_api_security *security, char *err, size_t err_size)
{
	/* Scope 0: the operator alone (docs/security.md); metrics and health: no key on loopback. */
	const struct http_route own[] = {
		{"GET", "/stats", get_stats, s, 0},
		{"GET", "/metrics", get_metrics, s, HTTP_PUBLIC},
		{"GET", "/routes", get_routes, s, 0},
		{"PUT", "/routes", put_routes, s, 0},
		{"POST", "/cards", post_cards, s, 0},
		{"GET", "/health", get_health, s, HTTP_PUBLIC},
	};
	enum { OWN = sizeof(own) / sizeof(own[0]) };
	struct http_route routes[OWN + SAF_HTTP_ROUTES + SWITCH_HTTP_MAX_EXTRA_ROUTES];
	size_t n = http_routes_copy(routes, OWN, own, OWN);
	n += saf_http_routes(s->saf, routes + n);
	for (size_t i = 0; i < extra_count && i < SWITCH_HTTP_MAX_EXTRA_ROUTES; i++)
		routes[n++] = extra[i];
	return http_api_start_secure(host, port, routes, n, 1, security, err, err_size);
}
