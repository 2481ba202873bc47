#include "bank_http.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "bank_metrics.h"
#include "prometheus.h"
#include "rate_limit_report.h"
#include "records.h"
#include "pan_mask.h"

bool bank_uuid_valid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		if (dash ? c != '-' : !hex)
			return false;
	}
	return true;
}

void bank_id_normalise(char *id)
{
	if (!bank_uuid_valid(id))
		return;
	/* One account per UUID: "ABC..." and "abc..." are the same id (RFC 4122 compares case-insensitively). */
	for (char *c = id; *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');
}

bool bank_uuid_generate(char out[37])
{
	uint8_t b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return false;
	b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return true;
}

static json_t *customer_json(const char *uuid, const struct account_record *a)
{
	return json_pack("{s:s, s:s, s:I}", "uuid", uuid, "name", a->owner, "balance", (json_int_t)a->balance);
}

struct http_response bank_http_create_account(const struct http_request *r)
{
	struct bank_http *ctx = r->context;
	if (!json_is_object(r->body))
		return http_error(400, "expected a JSON object {\"name\": ..., \"balance\": ...}");
	json_t *name = json_object_get(r->body, "name");
	json_t *balance = json_object_get(r->body, "balance");
	json_t *uuid = json_object_get(r->body, "uuid");
	if (!json_is_string(name) || json_string_length(name) == 0 ||
	    json_string_length(name) >= STORE_NAME_MAX || strlen(json_string_value(name)) != json_string_length(name))
		return http_error(400, "name: a non-empty string of at most %d bytes is required", STORE_NAME_MAX - 1);
	if (!json_is_integer(balance))
		return http_error(400, "balance: an integer number of minor units is required");
	if (json_integer_value(balance) < 0)
		return http_error(400, "balance: must not be negative");
	if (json_integer_value(balance) > BANK_MAX_BALANCE)
		return http_error(400, "balance: at most %lld minor units", (long long)BANK_MAX_BALANCE);
	char id[37];
	if (uuid && !json_is_null(uuid)) {
		if (!json_is_string(uuid) || !bank_uuid_valid(json_string_value(uuid)))
			return http_error(400, "uuid: expected the 8-4-4-4-12 hexadecimal form");
		memcpy(id, json_string_value(uuid), 37);
		bank_id_normalise(id);
	} else if (!bank_uuid_generate(id)) {
		return http_error(500, "cannot generate a uuid");
	}

	struct account_record a;
	memset(&a, 0, sizeof(a));
	a.balance = (int64_t)json_integer_value(balance);
	memcpy(a.currency, ctx->currency, sizeof(a.currency));
	memcpy(a.owner, json_string_value(name), json_string_length(name) + 1);
	struct store_txn *txn;
	int rc = store_write_begin(ctx->store, &txn);
	if (rc)
		return http_error(500, "storage: %s", store_strerror(rc));
	rc = store_account_put(txn, ctx->store, id, &a, STORE_CREATE);
	if (rc == 0)
		rc = store_meta_add(txn, ctx->store, STORE_META_CREATED_TOTAL, a.balance);
	if (rc) {
		store_abort(txn);
		if (rc == STORE_EXISTS)
			return http_error(409, "account %s exists", id);
		if (rc == STORE_INVALID) /* store_meta_add: the sum would pass INT64_MAX */
			return http_error(422, "balance: the bank's total of created money would exceed %lld minor units",
					  (long long)INT64_MAX);
		return http_error(500, "storage: %s", store_strerror(rc));
	}
	rc = store_commit(txn);
	if (rc)
		return http_error(500, "storage: %s", store_strerror(rc));
	return http_json(201, customer_json(id, &a));
}

struct http_response bank_http_get_balance(const struct http_request *r)
{
	struct bank_http *ctx = r->context;
	char id[STORE_ID_MAX];
	if (snprintf(id, sizeof(id), "%s", r->path_rest ? r->path_rest : "") >= (int)sizeof(id))
		return http_error(404, "no account with uuid '%.64s'", r->path_rest);
	bank_id_normalise(id);
	/* A customer reads its own account only. */
	if (!http_caller_is(r, HTTP_SCOPE_CUSTOMER, id))
		return http_error(403, "this key may read its own account only");
	struct store_txn *txn;
	int rc = store_read_begin(ctx->store, &txn);
	if (rc)
		return http_error(500, "storage: %s", store_strerror(rc));
	struct account_record a;
	rc = store_account_get(txn, ctx->store, id, &a);
	store_abort(txn);
	if (rc == STORE_NOT_FOUND)
		return http_error(404, "no account with uuid '%.64s'", id);
	if (rc)
		return http_error(500, "storage: %s", store_strerror(rc));
	return http_json(200, customer_json(id, &a));
}

struct http_response bank_http_get_card(const struct http_request *r)
{
	struct bank_http *ctx = r->context;
	const char *pan = r->path_rest ? r->path_rest : "";
	struct store_txn *txn;
	int rc = store_read_begin(ctx->store, &txn);
	if (rc)
		return http_error(500, "storage: %s", store_strerror(rc));
	struct card_record c;
	rc = store_card_get(txn, ctx->store, pan, &c);
	store_abort(txn);
	/* Shown masked, and without the expiry: only the card's own delivery (order-card) shows the PAN. */
	char masked[PAN_MASK_SIZE];
	pan_mask(pan, masked, sizeof(masked));
	if (rc == STORE_NOT_FOUND)
		return http_error(404, "no card '%s'", masked);
	if (rc)
		return http_error(500, "storage: %s", store_strerror(rc));
	return http_json(200, json_pack("{s:s, s:s, s:s}", "pan", masked, "account", c.account, "state",
					card_state_name((enum card_state)c.state)));
}

struct http_response bank_http_block_card(const struct http_request *r)
{
	struct bank_http *ctx = r->context;
	json_t *pan = json_is_object(r->body) ? json_object_get(r->body, "pan") : NULL;
	if (!json_is_string(pan) || json_string_length(pan) == 0)
		return http_error(400, "expected a JSON object {\"pan\": \"...\"}");
	struct store_txn *txn;
	int rc = store_write_begin(ctx->store, &txn);
	if (rc)
		return http_error(500, "storage: %s", store_strerror(rc));
	struct card_record c;
	rc = store_card_get(txn, ctx->store, json_string_value(pan), &c);
	if (rc == 0) {
		c.state = CARD_BLOCKED;
		rc = store_card_put(txn, ctx->store, json_string_value(pan), &c, STORE_REPLACE);
	}
	char masked[PAN_MASK_SIZE];
	pan_mask(json_string_value(pan), masked, sizeof(masked));
	if (rc) {
		store_abort(txn);
		if (rc == STORE_NOT_FOUND)
			return http_error(404, "no card '%s'", masked);
		return http_error(500, "storage: %s", store_strerror(rc));
	}
	rc = store_commit(txn);
	if (rc)
		return http_error(500, "storage: %s", store_strerror(rc));
	return http_json(200, json_pack("{s:s, s:s}", "pan", masked, "state", "blocked"));
}

struct http_response bank_http_stats(const struct http_request *r)
{
	struct bank_http *ctx = r->context;
	struct group_commit_stats gc = {0};
	if (ctx->writer)
		group_commit_get_stats(ctx->writer, &gc);
	json_t *j = bank_stats_json(ctx->stats, &gc);
	const struct card_order_stats *o = &ctx->orders;
	json_object_set_new(j, "card_orders",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "orders", (json_int_t)o->orders,
				      "cards_ordered", (json_int_t)o->cards_ordered, "duplicate_orders",
				      (json_int_t)o->duplicate_orders, "network_errors", (json_int_t)o->network_errors,
				      "bad_requests", (json_int_t)o->bad_requests, "produced_notices",
				      (json_int_t)o->produced_notices, "cards_produced", (json_int_t)o->cards_produced));
	if (ctx->mac) {
		char body[ISO_MAC_MAX_LINKS * 160 + 64];
		body[0] = '{';
		size_t n = bank_mac_stats_json(ctx->mac, body + 1, sizeof(body) - 2);
		body[1 + n] = '}';
		body[2 + n] = '\0';
		json_t *mac = json_loads(body, 0, NULL);
		json_object_set_new(j, "iso_mac", mac ? mac : json_object());
	}
	json_object_set_new(j, "http_limits", rate_limit_stats_json(r->limits));
	return http_json(200, j);
}

/* Liveness without credentials (a loopback listener only: http_api). */
static struct http_response bank_http_health(const struct http_request *r)
{
	struct bank_http *ctx = r->context;
	return http_json(200, json_pack("{s:s, s:s}", "status", "ok", "bank", ctx->bank ? ctx->bank->name : ""));
}

struct http_response bank_http_metrics(const struct http_request *r)
{
	struct bank_http *ctx = r->context;
	struct group_commit_stats gc = {0};
	if (ctx->writer)
		group_commit_get_stats(ctx->writer, &gc);
	size_t length = 0;
	char *text = bank_metrics_text(ctx->bank ? ctx->bank->name : "", ctx->stats, &gc, r->limits, &length);
	return http_text(200, text, length, PROM_CONTENT_TYPE);
}

struct http_response bank_http_ledger(const struct http_request *r)
{
	struct bank_http *ctx = r->context;
	struct ledger_totals t;
	int rc = store_ledger_totals(ctx->store, &t);
	if (rc)
		return http_error(500, "storage: %s", store_strerror(rc));
	return http_json(200, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "accounts",
					(json_int_t)t.accounts, "total_balance", (json_int_t)t.total_balance,
					"created_total", (json_int_t)t.created_total, "approved_count",
					(json_int_t)t.approved_count, "approved_amount",
					(json_int_t)t.approved_amount, "reversed_count", (json_int_t)t.reversed_count,
					"reversed_amount", (json_int_t)t.reversed_amount, "declined_count",
					(json_int_t)t.declined_count, "tombstones", (json_int_t)t.tombstone_count));
}

size_t bank_http_routes(struct bank_http *ctx, struct http_route *routes, size_t capacity)
{
	const struct http_route table[] = {
		/* Scopes (docs/security.md): 0 is the operator alone. An opening balance is a deposit. */
		{"POST", "/create-account", bank_http_create_account, ctx, 0},
		{"GET", "/get-balance/uuid/*", bank_http_get_balance, ctx, HTTP_SCOPE_CUSTOMER | HTTP_SCOPE_OPERATOR},
		{"GET", "/card/pan/*", bank_http_get_card, ctx, 0},
		{"POST", "/block-card", bank_http_block_card, ctx, 0},
		{"GET", "/stats", bank_http_stats, ctx, 0},
		{"GET", "/ledger", bank_http_ledger, ctx, 0},
		{"POST", "/order-card", bank_http_order_card, ctx, HTTP_SCOPE_CUSTOMER | HTTP_SCOPE_OPERATOR},
		{"POST", "/card-produced", bank_http_card_produced, ctx, HTTP_SCOPE_NETWORK | HTTP_SCOPE_OPERATOR},
		/* Metrics and health: no key on a loopback listener, any key elsewhere (http_api). */
		{"GET", "/metrics", bank_http_metrics, ctx, HTTP_PUBLIC},
		{"GET", "/health", bank_http_health, ctx, HTTP_PUBLIC},
	};
	return http_routes_copy(routes, capacity, table, sizeof(table) / sizeof(table[0]));
}
