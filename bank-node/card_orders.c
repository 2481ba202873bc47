#include "card_orders.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bank_http.h"
#include "http_client.h"
#include "records.h"
#include "store.h"
#include "pan_mask.h"

#define REQUEST_ID_MAX 64

static void count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static struct http_response bad_request(struct bank_http *ctx, unsigned status, const char *message)
{
	count(&ctx->orders.bad_requests);
	return http_error(status, "%s", message);
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static bool digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* An optional string member: NULL when absent or null; false when present but not a string. */
static bool optional_string(const json_t *body, const char *key, const char **out)
{
	const json_t *v = json_object_get(body, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return false;
	*out = json_string_value(v);
	return true;
}

static bool member_of(const struct cfg_bank *bank, const char *network)
{
	for (size_t i = 0; i < bank->network_count; i++)
		if (strcmp(bank->networks[i].network, network) == 0)
			return true;
	return false;
}

/* The network to order at: the named one if the bank is a member, else the bank's first membership
 * that the config knows as a network. */
static const struct cfg_network *choose_network(const struct bank_http *ctx, const char *named)
{
	if (named)
		return member_of(ctx->bank, named) ? ecosystem_find_network(ctx->config, named) : NULL;
	for (size_t i = 0; i < ctx->bank->network_count; i++) {
		const struct cfg_network *n = ecosystem_find_network(ctx->config, ctx->bank->networks[i].network);
		if (n)
			return n;
	}
	return NULL;
}

/*
 * The answer to the customer's order-card: the one place the full PAN (and
 * its expiry) is ever shown (docs/data-protection.md). Everything else that
 * names a card shows it masked.
 */
static json_t *card_reference(const struct order_record *o, const char *state, const char *request_id)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "card_id", o->pan, "pan", o->pan, "expiry",
			      o->expiry, "state", state, "network", o->network, "account", o->account, "order_id",
			      o->order_id);
	if (j && request_id)
		json_object_set_new(j, "request_id", json_string(request_id));
	return j;
}

/* Calls one network endpoint; on failure fills *error with the answer to give the customer. */
static json_t *call_network(struct bank_http *ctx, const struct cfg_network *net, const char *path, json_t *body,
			    long expected_low, struct http_response *error)
{
	char url[160];
	snprintf(url, sizeof(url), "http://%s:%u%s", net->http.host, net->http.port, path);
	struct http_post_result res;
	long timeout = ctx->network_timeout_ms > 0 ? ctx->network_timeout_ms : BANK_NETWORK_TIMEOUT_MS;
	http_post_json(url, body, timeout, &res);
	json_decref(body);
	if (res.outcome == HTTP_POST_TIMEOUT) {
		*error = http_error(504, "network %s did not answer %s within %ld ms", net->name, path, timeout);
	} else if (res.outcome != HTTP_POST_ANSWERED) {
		*error = http_error(502, "network %s unreachable for %s: %s", net->name, path, res.error);
	} else if (res.status < expected_low || res.status > 299) {
		const char *why = http_reply_error(&res);
		*error = http_error(502, "network %s refused %s with status %ld: %s", net->name, path, res.status,
				    why[0] ? why : "(no reason given)");
	} else if (!json_is_object(res.reply)) {
		*error = http_error(502, "network %s answered %s without a JSON object", net->name, path);
	} else {
		return res.reply;
	}
	count(&ctx->orders.network_errors);
	json_decref(res.reply);
	return NULL;
}

enum order_lookup { ORDER_NEW, ORDER_RETRY, ORDER_DONE };

/*
 * Finds or creates the order under key (one write transaction). ORDER_DONE:
 * the order already has its card (answer it, *card_state its state now).
 */
static int prepare_order(struct bank_http *ctx, const char *key, bool by_request_id, struct order_record *o,
			 enum order_lookup *lookup, uint8_t *card_state, struct http_response *error)
{
	struct store_txn *txn;
	int rc = store_write_begin(ctx->store, &txn);
	if (rc)
		return rc;
	struct account_record account;
	rc = store_account_get(txn, ctx->store, o->account, &account);
	if (rc == STORE_NOT_FOUND) {
		store_abort(txn);
		*error = bad_request(ctx, 404, "no account with this uuid");
		return -1;
	}
	struct order_record old;
	if (rc == 0)
		rc = store_order_get(txn, ctx->store, key, &old);
	*lookup = ORDER_NEW;
	if (rc == 0) {
		if (strcmp(old.account, o->account) != 0 || strcmp(old.network, o->network) != 0) {
			store_abort(txn);
			*error = bad_request(ctx, 409, "request_id was used for another account or network");
			return -1;
		}
		struct card_record card;
		if (old.state == ORDER_CARD_KNOWN && store_card_get(txn, ctx->store, old.pan, &card) == 0) {
			/* A pending-order key is spent once its card is made: order anew. */
			if (by_request_id || card.state == CARD_ORDERED) {
				*o = old;
				*card_state = card.state;
				*lookup = ORDER_DONE;
			}
		} else if (old.state == ORDER_REQUESTED) {
			/* The network may have made the card already: same order_id. */
			memcpy(o->order_id, old.order_id, sizeof(o->order_id));
			if (!o->webhook[0])
				memcpy(o->webhook, old.webhook, sizeof(o->webhook));
			o->created_unix = old.created_unix;
			*lookup = ORDER_RETRY;
		}
	} else if (rc == STORE_NOT_FOUND) {
		rc = 0;
	}
	if (rc == 0 && *lookup != ORDER_DONE) {
		if (*lookup == ORDER_NEW) {
			char id[37];
			if (!bank_uuid_generate(id)) {
				store_abort(txn);
				*error = http_error(500, "cannot generate an order id");
				return -1;
			}
			memcpy(o->order_id, id, sizeof(id));
			o->created_unix = (int64_t)time(NULL);
		}
		o->state = ORDER_REQUESTED;
		rc = store_order_put(txn, ctx->store, key, o);
	}
	if (rc == 0 && *lookup != ORDER_DONE)
		return store_commit(txn);
	store_abort(txn);
	return rc;
}

/* Stores the network's card as the bank's (ordered, or produced if the network made it already). */
static int store_ordered_card(struct bank_http *ctx, const char *key, struct order_record *o, bool produced,
			      uint8_t *state_out, struct http_response *error)
{
	struct store_txn *txn;
	int rc = store_write_begin(ctx->store, &txn);
	if (rc)
		return rc;
	struct card_record card;
	rc = store_card_get(txn, ctx->store, o->pan, &card);
	if (rc == 0) {
		if (strcmp(card.account, o->account) != 0) {
			store_abort(txn);
			count(&ctx->orders.network_errors);
			char masked[PAN_MASK_SIZE];
			*error = http_error(502, "network %s assigned pan %s, which belongs to another account",
					    o->network, pan_mask(o->pan, masked, sizeof(masked)));
			return -1;
		}
		/* A retry of an order the bank stored before: keep the state it has reached. */
		if (card.state == CARD_ORDERED && produced) {
			card.state = CARD_PRODUCED;
			rc = store_card_put(txn, ctx->store, o->pan, &card, STORE_REPLACE);
		}
	} else if (rc == STORE_NOT_FOUND) {
		memset(&card, 0, sizeof(card));
		snprintf(card.account, sizeof(card.account), "%s", o->account);
		memcpy(card.expiry, o->expiry, sizeof(card.expiry));
		card.state = produced ? CARD_PRODUCED : CARD_ORDERED;
		rc = store_card_put(txn, ctx->store, o->pan, &card, STORE_CREATE);
		if (rc == 0)
			count(&ctx->orders.cards_ordered);
	}
	o->state = ORDER_CARD_KNOWN;
	if (rc == 0)
		rc = store_order_put(txn, ctx->store, key, o);
	if (rc) {
		store_abort(txn);
		return rc;
	}
	*state_out = card.state;
	return store_commit(txn);
}

struct http_response bank_http_order_card(const struct http_request *r)
{
	struct bank_http *ctx = r->context;
	count(&ctx->orders.orders);
	if (!json_is_object(r->body))
		return bad_request(ctx, 400, "expected a JSON object {\"uuid\": ...[, \"network\", \"webhook\", \"request_id\"]}");
	const char *uuid, *network, *webhook, *request_id;
	if (!optional_string(r->body, "uuid", &uuid) || !uuid || !uuid[0] || strlen(uuid) >= STORE_ID_MAX)
		return bad_request(ctx, 400, "uuid: the account's uuid (a string) is required");
	if (!optional_string(r->body, "network", &network) || (network && !network[0]))
		return bad_request(ctx, 400, "network: a network name (string) is expected");
	if (!optional_string(r->body, "webhook", &webhook) ||
	    (webhook && (strlen(webhook) >= STORE_WEBHOOK_MAX || !printable(webhook) ||
			 (strncmp(webhook, "http://", 7) != 0 && strncmp(webhook, "https://", 8) != 0))))
		return bad_request(ctx, 400, "webhook: an http:// or https:// URL of at most 255 characters is expected");
	if (!optional_string(r->body, "request_id", &request_id) ||
	    (request_id && (!request_id[0] || strlen(request_id) > REQUEST_ID_MAX || !printable(request_id))))
		return bad_request(ctx, 400, "request_id: 1 to 64 printable characters are expected");
	const struct cfg_network *net = choose_network(ctx, network);
	if (!net) {
		if (network) {
			count(&ctx->orders.bad_requests);
			return http_error(422, "bank %s has no membership of network '%.32s'", ctx->bank->name, network);
		}
		return http_error(503, "bank %s has no network to order cards at", ctx->bank->name);
	}

	struct order_record o;
	memset(&o, 0, sizeof(o));
	snprintf(o.account, sizeof(o.account), "%s", uuid);
	snprintf(o.network, sizeof(o.network), "%s", net->name);
	if (webhook)
		snprintf(o.webhook, sizeof(o.webhook), "%s", webhook);
	char key[STORE_ORDER_KEY_MAX + 1];
	if (request_id)
		snprintf(key, sizeof(key), "r:%s", request_id);
	else
		snprintf(key, sizeof(key), "p:%s:%s", o.account, o.network);

	enum order_lookup lookup;
	uint8_t card_state = 0;
	struct http_response error;
	int rc = prepare_order(ctx, key, request_id != NULL, &o, &lookup, &card_state, &error);
	if (rc == -1)
		return error;
	if (rc)
		return http_error(500, "storage: %s", store_strerror(rc));
	if (lookup == ORDER_DONE) {
		count(&ctx->orders.duplicate_orders);
		json_t *j = card_reference(&o, card_state_name((enum card_state)card_state), request_id);
		json_object_set_new(j, "duplicate", json_true());
		return http_json(200, j);
	}

	struct store_txn *txn;
	struct account_record account;
	rc = store_read_begin(ctx->store, &txn);
	if (rc == 0) {
		rc = store_account_get(txn, ctx->store, o.account, &account);
		store_abort(txn);
	}
	if (rc)
		return http_error(500, "storage: %s", store_strerror(rc));
	json_t *customer = json_pack("{s:s, s:s, s:s}", "customer", o.account, "bank", ctx->bank->name, "name",
				     account.owner);
	if (o.webhook[0])
		json_object_set_new(customer, "webhook", json_string(o.webhook));
	json_t *reply = call_network(ctx, net, "/create-customer-account", customer, 200, &error);
	if (!reply)
		return error;
	json_decref(reply);
	reply = call_network(ctx, net, "/create-card",
			     json_pack("{s:s, s:s, s:s}", "customer", o.account, "bank", ctx->bank->name, "order_id",
				       o.order_id),
			     200, &error);
	if (!reply)
		return error;
	const char *pan = json_string_value(json_object_get(reply, "pan"));
	const char *expiry = json_string_value(json_object_get(reply, "expiry"));
	const char *net_state = json_string_value(json_object_get(reply, "state"));
	if (!pan || !digits(pan, 12, STORE_PAN_MAX) || !expiry || !digits(expiry, 4, 4)) {
		json_decref(reply);
		count(&ctx->orders.network_errors);
		return http_error(502, "network %s answered /create-card without a valid pan and expiry", net->name);
	}
	memcpy(o.pan, pan, strlen(pan) + 1);
	memcpy(o.expiry, expiry, 5);
	bool produced = net_state && strcmp(net_state, "in_production") != 0;
	json_decref(reply);
	rc = store_ordered_card(ctx, key, &o, produced, &card_state, &error);
	if (rc == -1)
		return error;
	if (rc)
		return http_error(500, "storage: %s", store_strerror(rc));
	json_t *j = card_reference(&o, card_state_name((enum card_state)card_state), request_id);
	if (lookup == ORDER_RETRY)
		json_object_set_new(j, "retried", json_true());
	return http_json(201, j);
}

/* True when pan lies in one of the bank's BIN ranges for network. */
static bool pan_in_bins(const struct cfg_bank *bank, const char *network, const char *pan)
{
	for (size_t i = 0; i < bank->network_count; i++) {
		const struct cfg_bank_network *m = &bank->networks[i];
		if (strcmp(m->network, network) != 0)
			continue;
		for (size_t b = 0; b < m->bin_count; b++) {
			const struct cfg_bin_range *r = &m->bins[b];
			char prefix[12];
			if (strlen(pan) <= r->length)
				continue;
			memcpy(prefix, pan, r->length);
			prefix[r->length] = '\0';
			if (strcmp(prefix, r->low) >= 0 && strcmp(prefix, r->high) <= 0)
				return true;
		}
	}
	return false;
}

/*
 * A notice for a card the bank never stored: the network made it but its answer to
 * /create-card was lost (timeout, bank restart). The bank adopts it as produced when
 * the notice names this bank, an account of it and one of its BINs on that network.
 */
static bool adoptable(const struct bank_http *ctx, const json_t *body, const char *pan, struct card_record *card)
{
	const char *customer, *network, *expiry, *bank;
	if (!optional_string(body, "customer", &customer) || !optional_string(body, "network", &network) ||
	    !optional_string(body, "expiry", &expiry) || !optional_string(body, "bank", &bank))
		return false;
	if (!customer || !network || !expiry || !bank || !digits(expiry, 4, 4) || strlen(customer) >= STORE_ID_MAX ||
	    strcmp(bank, ctx->bank->name) != 0 || !pan_in_bins(ctx->bank, network, pan))
		return false;
	memset(card, 0, sizeof(*card));
	snprintf(card->account, sizeof(card->account), "%s", customer);
	memcpy(card->expiry, expiry, 5);
	card->state = CARD_PRODUCED;
	return true;
}

struct http_response bank_http_card_produced(const struct http_request *r)
{
	struct bank_http *ctx = r->context;
	count(&ctx->orders.produced_notices);
	const char *pan = NULL;
	if (!json_is_object(r->body) || !optional_string(r->body, "pan", &pan) || !pan ||
	    !digits(pan, 12, STORE_PAN_MAX))
		return bad_request(ctx, 400, "expected a JSON object {\"pan\": \"<12 to 19 digits>\", ...}");
	struct store_txn *txn;
	int rc = store_write_begin(ctx->store, &txn);
	if (rc)
		return http_error(500, "storage: %s", store_strerror(rc));
	struct card_record card;
	rc = store_card_get(txn, ctx->store, pan, &card);
	bool changed = false, adopted = false;
	if (rc == 0 && card.state == CARD_ORDERED) {
		card.state = CARD_PRODUCED;
		changed = true;
		rc = store_card_put(txn, ctx->store, pan, &card, STORE_REPLACE);
	} else if (rc == STORE_NOT_FOUND && adoptable(ctx, r->body, pan, &card)) {
		struct account_record account;
		rc = store_account_get(txn, ctx->store, card.account, &account);
		if (rc == 0) {
			changed = adopted = true;
			rc = store_card_put(txn, ctx->store, pan, &card, STORE_CREATE);
		}
	}
	if (rc == 0 && changed)
		rc = store_commit(txn);
	else
		store_abort(txn);
	if (rc == STORE_NOT_FOUND)
		return bad_request(ctx, 404, "no card with this pan");
	if (rc)
		return http_error(500, "storage: %s", store_strerror(rc));
	if (changed)
		count(&ctx->orders.cards_produced);
	/* Notices come at least once: a repeat (or one after activation) changes nothing. The answer
	 * names the card masked: the network needs no PAN back. */
	char masked[PAN_MASK_SIZE];
	return http_json(200, json_pack("{s:s, s:s, s:b, s:b}", "pan", pan_mask(pan, masked, sizeof(masked)), "state",
					card_state_name((enum card_state)card.state), "changed", changed, "adopted",
					adopted));
}
