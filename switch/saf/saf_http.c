#include "saf_http.h"

#include <stdlib.h>
#include <string.h>

#include "pan_mask.h"

#define SAF_LIST_DEFAULT 100
#define SAF_LIST_MAX 10000

static json_t *bank_json(const struct saf_bank_stats *b)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "depth", (json_int_t)b->depth, "in_flight",
			 (json_int_t)b->in_flight, "oldest_age_ms", (json_int_t)b->oldest_age_ms, "sent",
			 (json_int_t)b->sent, "repeats", (json_int_t)b->repeats, "acknowledged",
			 (json_int_t)b->acknowledged, "expired", (json_int_t)b->expired);
}

json_t *saf_stats_json(struct saf_forwarder *f)
{
	struct saf_stats s;
	saf_forwarder_stats(f, &s);
	uint64_t on_disk = 0, exceptions = 0;
	bool counted = saf_forwarder_counts(f, &on_disk, &exceptions) == 0;
	json_t *o = json_object();
	json_object_set_new(o, "healthy", json_boolean(s.healthy));
	json_object_set_new(o, "queued", json_integer((json_int_t)s.queued));
	json_object_set_new(o, "on_disk", counted ? json_integer((json_int_t)on_disk) : json_null());
	json_object_set_new(o, "exceptions", counted ? json_integer((json_int_t)exceptions) : json_null());
	const struct {
		const char *name;
		uint64_t value;
	} counters[] = {
		{"stored", s.stored},
		{"loaded", s.loaded},
		{"unreadable_at_start", s.unreadable},
		{"unknown_bank_at_start", s.unknown_bank},
		{"store_failures", s.store_failures},
		{"not_durable", s.not_durable},
		{"acknowledged", s.acknowledged},
		{"unmatched_acknowledgements", s.unmatched_acks},
		{"not_final_answers", s.not_final_acks},
		{"transmit_ring_full", s.transmit_ring_full},
		{"reply_ring_full", s.reply_ring_full},
	};
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		json_object_set_new(o, counters[i].name, json_integer((json_int_t)counters[i].value));
	json_t *banks = json_object();
	for (size_t b = 0; b < s.bank_count; b++)
		json_object_set_new(banks, s.banks[b].name, bank_json(&s.banks[b]));
	json_object_set_new(o, "banks", banks);
	return o;
}

static const char *kind_name(uint8_t kind)
{
	return kind == SAF_CARDHOLDER_REVERSAL ? "cardholder_reversal" : "switch_reversal";
}

static json_t *advice_json(const struct saf_record *r)
{
	char masked[PAN_MASK_SIZE];
	return json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)r->seq,
			 "bank", r->bank, "kind", kind_name(r->kind), "queued_unix_ms", (json_int_t)r->queued_unix_ms,
			 "pan", pan_mask(r->f.pan, masked, sizeof(masked)), "amount", r->f.amount, "currency",
			 r->f.currency, "stan", r->f.stan, "original", r->f.original, "rrn", r->f.rrn, "terminal",
			 r->f.terminal);
}

static size_t limit_of(const struct http_request *r, bool *ok)
{
	const char *text = r->query(r, "limit");
	*ok = true;
	if (!text)
		return SAF_LIST_DEFAULT;
	char *end;
	long v = strtol(text, &end, 10);
	if (*text == '\0' || *end || v < 1 || v > SAF_LIST_MAX) {
		*ok = false;
		return 0;
	}
	return (size_t)v;
}

static void add_advice(void *ctx, const struct saf_record *r)
{
	json_array_append_new(ctx, advice_json(r));
}

static void add_exception(void *ctx, uint64_t seq, const struct saf_exception *e)
{
	bool whole = e->reason != SAF_UNREADABLE && saf_record_check(&e->entry.record, sizeof(e->entry.record));
	json_array_append_new(ctx, json_pack("{s:I, s:s, s:I, s:I, s:o}", "seq", (json_int_t)seq, "reason",
					     saf_exception_reason_name(e->reason), "moved_unix_ms",
					     (json_int_t)e->moved_unix_ms, "raw_length", (json_int_t)e->raw_length,
					     "advice", whole ? advice_json(&e->entry.record) : json_null()));
}

/* Lists queued advices (context: false) or exceptions (true) of the forwarder the route names. */
static struct http_response list(const struct http_request *r, bool exceptions)
{
	bool ok;
	size_t limit = limit_of(r, &ok);
	if (!ok)
		return http_error(400, "limit must be an integer from 1 to %d", SAF_LIST_MAX);
	json_t *items = json_array();
	int rc = exceptions ? saf_forwarder_list_exceptions(r->context, limit, add_exception, items)
			    : saf_forwarder_list_queued(r->context, limit, add_advice, items);
	if (rc != 0) {
		json_decref(items);
		return http_error(500, "the store-and-forward queue cannot be read");
	}
	return http_json(200, json_pack("{s:o}", exceptions ? "exceptions" : "advices", items));
}

static struct http_response get_queued(const struct http_request *r)
{
	return list(r, false);
}

static struct http_response get_exceptions(const struct http_request *r)
{
	return list(r, true);
}

size_t saf_http_routes(struct saf_forwarder *f, struct http_route *routes)
{
	/* The operator alone (scope 0): advices carry masked PANs, amounts and terminals. */
	routes[0] = (struct http_route){"GET", "/saf", get_queued, f, 0};
	routes[1] = (struct http_route){"GET", "/saf/exceptions", get_exceptions, f, 0};
	return SAF_HTTP_ROUTES;
}
