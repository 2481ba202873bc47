#include "rate_limit_report.h"

#include <stdio.h>

json_t *rate_limit_stats_json(const struct rate_limiter *l)
{
	struct rate_limit_stats s;
	rate_limiter_stats(l, &s);
	json_t *limited = json_object();
	for (int i = 0; i < RATE_LIMIT_SCOPES; i++)
		json_object_set_new(limited, rate_limit_scope_name(i), json_integer((json_int_t)s.limited[i]));
	return json_pack("{s:o, s:I, s:I, s:I, s:I, s:I}", "rate_limited", limited, "auth_failures",
			 (json_int_t)s.auth_failures, "auth_throttled", (json_int_t)s.auth_throttled, "key_evictions",
			 (json_int_t)s.key_evictions, "address_evictions", (json_int_t)s.address_evictions,
			 "mtls_refused", (json_int_t)s.mtls_refused);
}

#define LABELS_MAX 4

void rate_limit_metrics(struct prom_text *t, const char *prefix, const struct prom_label *labels,
			size_t label_count, const struct rate_limiter *l)
{
	struct rate_limit_stats s;
	rate_limiter_stats(l, &s);
	if (label_count > LABELS_MAX - 1)
		label_count = LABELS_MAX - 1;
	struct prom_label with[LABELS_MAX];
	for (size_t i = 0; i < label_count; i++)
		with[i] = labels[i];
	char name[128];

	snprintf(name, sizeof name, "%s_http_rate_limited_total", prefix);
	prom_family(t, name, PROM_COUNTER, "requests answered 429 because their API key was over its scope's rate");
	for (int i = 0; i < RATE_LIMIT_SCOPES; i++) {
		with[label_count] = (struct prom_label){"scope", rate_limit_scope_name(i)};
		prom_sample(t, name, with, label_count + 1, s.limited[i]);
	}
	snprintf(name, sizeof name, "%s_http_auth_failures_total", prefix);
	prom_family(t, name, PROM_COUNTER, "unknown, wrong, expired or revoked API keys, counted per source address");
	prom_sample(t, name, labels, label_count, s.auth_failures);
	snprintf(name, sizeof name, "%s_http_auth_throttled_total", prefix);
	prom_family(t, name, PROM_COUNTER, "requests answered 429 because their address failed to authenticate too often");
	prom_sample(t, name, labels, label_count, s.auth_throttled);
	snprintf(name, sizeof name, "%s_http_mtls_refused_total", prefix);
	prom_family(t, name, PROM_COUNTER,
		    "requests answered 401 because a bank or network key came without its agent's client certificate");
	prom_sample(t, name, labels, label_count, s.mtls_refused);
	snprintf(name, sizeof name, "%s_http_limit_evictions_total", prefix);
	prom_family(t, name, PROM_COUNTER, "entries of the rate limiter's fixed tables pushed out by a new one");
	with[label_count] = (struct prom_label){"table", "keys"};
	prom_sample(t, name, with, label_count + 1, s.key_evictions);
	with[label_count] = (struct prom_label){"table", "addresses"};
	prom_sample(t, name, with, label_count + 1, s.address_evictions);
}
