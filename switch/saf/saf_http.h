/*
 * What an operator sees of the store-and-forward queue: its figures in the
 * switch's /stats, and the advices themselves (PANs masked to the first six
 * and last four digits):
 *   GET /saf[?limit=N]             queued advices, oldest first (default 100, at most 10000)
 *   GET /saf/exceptions[?limit=N]  advices that need a person: expired, unreadable, bank gone
 */
#ifndef SAF_HTTP_H
#define SAF_HTTP_H

#include <jansson.h>

#include "http_api.h"
#include "saf_forwarder.h"

#define SAF_HTTP_ROUTES 2

/* The "saf" object of /stats. */
json_t *saf_stats_json(struct saf_forwarder *f);
/* Fills routes (at least SAF_HTTP_ROUTES) for f; returns how many. */
size_t saf_http_routes(struct saf_forwarder *f, struct http_route *routes);

#endif
