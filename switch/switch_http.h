/*
 * The switch's control plane over HTTP (http/http_api.h):
 *   GET  /stats   counters summed over workers, per worker, and gauges
 *   GET  /routes  the BIN routes in force and their version
 *   PUT  /routes  replaces every route: [{"low","high","bank"[,"host","port"]}...]
 *   POST /cards   adds a card or changes its state: {"pan","expiry","state"}
 */
#ifndef SWITCH_HTTP_H
#define SWITCH_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "http_api.h"
#include "switch_core.h"

struct http_api *switch_http_start(struct switch_core *s, const char *host, uint16_t port, char *err,
				   size_t err_size);
/* Same, serving extra routes as well (the card lifecycle's, switch/lifecycle/lifecycle_http.h). */
#define SWITCH_HTTP_MAX_EXTRA_ROUTES 16
/* security NULL: plain HTTP without keys, loopback only (http_api_start_secure). */
struct http_api *switch_http_start_with(struct switch_core *s, const char *host, uint16_t port,
					const struct http_route *extra, size_t extra_count,
					const struct http_api_security *security, char *err, size_t err_size);

/* Helpers the handlers use, exposed for tests and for main's final report. */
json_t *switch_stats_json(struct switch_core *s);
/* Parses a PUT /routes body; returns the count or -1 with a reason in err. Caller frees *specs. */
long switch_routes_parse(struct switch_core *s, const json_t *body, struct route_spec **specs, char *err,
			 size_t err_size);

#endif
