#include "lifecycle_http.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "card_production.h"
#include "card_registry.h"
#include "lifecycle_registry.h"
#include "luhn.h"
#include "switch_core.h"
#include "pan_mask.h"

#define PAN_LENGTH 16
#define CARD_VALIDITY_YEARS 4
#define PAN_ATTEMPTS 1000 /* collisions skipped before giving up */

static struct http_response refuse(struct network_lifecycle *lc, unsigned status, const char *fmt, const char *arg)
{
	lifecycle_count(&lc->stats.bad_requests);
	return http_error(status, fmt, arg);
}

static struct http_response storage_error(struct network_lifecycle *lc, int rc)
{
	lifecycle_count(&lc->stats.storage_errors);
	return http_error(500, "storage: %s", store_strerror(rc));
}

/* A printable identifier without '/', ':' or spaces (it becomes part of store keys). */
static bool identifier(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n >= max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= 0x7f || c == '/' || c == ':')
			return false;
	}
	return true;
}

static bool webhook_valid(const char *url)
{
	size_t n = strlen(url);
	if (n >= NET_URL_MAX || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 0x7f)
			return false;
	return true;
}

/* Member `key` as a string: NULL when absent or null, "" marks a non-string (an error). */
static const char *member(const json_t *body, const char *key, bool *bad)
{
	const json_t *v = json_object_get(body, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		*bad = true;
		return NULL;
	}
	return json_string_value(v);
}

static const struct cfg_bank_network *membership(const struct network_lifecycle *lc, const char *bank)
{
	const struct cfg_bank *b = ecosystem_find_bank(lc->config, bank);
	if (!b)
		return NULL;
	for (size_t i = 0; i < b->network_count; i++)
		if (strcmp(b->networks[i].network, lc->net->name) == 0 && b->networks[i].bin_count > 0)
			return &b->networks[i];
	return NULL;
}

bool lifecycle_make_pan(const char *bin, uint64_t index, char pan[NET_PAN_MAX])
{
	size_t bin_len = strlen(bin);
	if (bin_len >= PAN_LENGTH - 1)
		return false;
	int width = (int)(PAN_LENGTH - 1 - bin_len);
	uint64_t limit = 1;
	for (int i = 0; i < width; i++)
		limit *= 10;
	if (index >= limit)
		return false;
	char body[32];
	/* Checking the length also tells gcc's -Wformat-truncation (Release) it was considered. */
	if (snprintf(body, sizeof(body), "%s%0*llu", bin, width, (unsigned long long)index) != PAN_LENGTH - 1)
		return false;
	memcpy(pan, body, PAN_LENGTH - 1);
	pan[PAN_LENGTH - 1] = luhn_check_digit(pan, PAN_LENGTH - 1);
	pan[PAN_LENGTH] = '\0';
	return true;
}

void lifecycle_expiry(int64_t unix_seconds, int years, char out[5])
{
	time_t t = (time_t)unix_seconds;
	struct tm tm;
	gmtime_r(&t, &tm);
	unsigned yy = (unsigned)(tm.tm_year + 1900 + years) % 100u, mm = (unsigned)tm.tm_mon % 12u + 1u;
	out[0] = (char)('0' + yy / 10);
	out[1] = (char)('0' + yy % 10);
	out[2] = (char)('0' + mm / 10);
	out[3] = (char)('0' + mm % 10);
	out[4] = '\0';
}

static json_t *customer_json(const struct network_lifecycle *lc, const char *id, const struct net_customer *c)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "customer", id, "bank", c->bank, "network", lc->net->name,
			      "name", c->name);
	json_object_set_new(j, "webhook", c->webhook[0] ? json_string(c->webhook) : json_null());
	return j;
}

static const char *card_state_text(uint8_t state)
{
	return state == NET_CARD_PRODUCED ? "produced" : "in_production";
}

/* Who reads the card: its issuing bank (create-card: the full PAN and expiry, which the bank
 * stores and delivers once to its customer), or anyone else (masked, no expiry). */
enum card_reader { CARD_FOR_ISSUER, CARD_FOR_DISPLAY };

static json_t *card_json(const struct network_lifecycle *lc, const char *pan, const struct net_card *c,
			 enum card_reader reader)
{
	char masked[PAN_MASK_SIZE];
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "pan",
			      reader == CARD_FOR_ISSUER ? pan : pan_mask(pan, masked, sizeof(masked)), "state",
			      card_state_text(c->state), "customer", c->customer, "bank", c->bank, "network",
			      lc->net->name, "ready_at_ms", (json_int_t)c->due_ms);
	if (j && reader == CARD_FOR_ISSUER)
		json_object_set_new(j, "expiry", json_string(c->expiry));
	json_object_set_new(j, "order_id", c->order_id[0] ? json_string(c->order_id) : json_null());
	return j;
}

struct http_response lifecycle_create_customer(const struct http_request *r)
{
	struct network_lifecycle *lc = r->context;
	if (!json_is_object(r->body))
		return refuse(lc, 400, "%s", "expected a JSON object {\"customer\", \"bank\", \"name\"?, \"webhook\"?}");
	bool bad = false;
	const char *id = member(r->body, "customer", &bad);
	if (!id && !bad)
		id = member(r->body, "uuid", &bad);
	const char *bank = member(r->body, "bank", &bad);
	const char *name = member(r->body, "name", &bad);
	const char *webhook = member(r->body, "webhook", &bad);
	if (bad || !id || !identifier(id, NET_ID_MAX))
		return refuse(lc, 400, "%s", "customer: an id of 1 to 47 printable characters (no '/', ':') is required");
	if (!bank)
		return refuse(lc, 400, "%s", "bank: the issuing bank's name is required");
	if (!membership(lc, bank))
		return refuse(lc, 422, "bank '%.32s' is not a member of this network", bank);
	if (name && strlen(name) >= NET_NAME_MAX)
		return refuse(lc, 400, "%s", "name: at most 127 bytes");
	if (webhook && !webhook_valid(webhook))
		return refuse(lc, 400, "%s", "webhook: an http:// or https:// URL of at most 255 characters is expected");

	struct store_txn *t;
	int rc = network_store_write_begin(&lc->store, &t);
	if (rc)
		return storage_error(lc, rc);
	struct net_customer c;
	rc = net_customer_get(t, &lc->store, id, &c);
	bool created = rc == STORE_NOT_FOUND;
	if (rc == 0 && strcmp(c.bank, bank) != 0) {
		store_abort(t);
		return refuse(lc, 409, "customer %.47s has an account of another bank here", id);
	}
	if (created) {
		memset(&c, 0, sizeof(c));
		snprintf(c.bank, sizeof(c.bank), "%s", bank);
		c.created_ms = lifecycle_wall_ms();
		rc = 0;
	}
	/* The same customer again (a retried order): the contract stands, name and webhook follow the latest. */
	if (name)
		snprintf(c.name, sizeof(c.name), "%s", name);
	if (webhook)
		snprintf(c.webhook, sizeof(c.webhook), "%s", webhook);
	if (rc == 0)
		rc = net_customer_put(t, &lc->store, id, &c);
	if (rc == 0)
		rc = store_commit(t);
	else
		store_abort(t);
	if (rc)
		return storage_error(lc, rc);
	lifecycle_count(created ? &lc->stats.customers_created : &lc->stats.customers_updated);
	return http_json(created ? 201 : 200, customer_json(lc, id, &c));
}

static bool in_registry(struct network_lifecycle *lc, const char *pan)
{
	const struct card_registry *reg = rcu_cell_lock(&lc->core->cards);
	bool known = card_registry_find(reg, pan, strlen(pan)) != NULL;
	rcu_cell_unlock(&lc->core->cards);
	return known;
}

/* Picks the next free PAN of the bank's first BIN here, above the generated population. */
static int assign_pan(struct network_lifecycle *lc, struct store_txn *t, const char *bank,
		      const struct cfg_bank_network *m, const struct net_card *card, char pan[NET_PAN_MAX])
{
	char counter[64];
	snprintf(counter, sizeof(counter), "pan_index:%s", bank);
	for (int attempt = 0; attempt < PAN_ATTEMPTS; attempt++) {
		uint64_t index;
		int rc = net_counter_next(t, &lc->store, counter, lc->config->loadgen.cards_per_bank, &index);
		if (rc)
			return rc;
		if (!lifecycle_make_pan(m->bins[0].low, index, pan))
			return STORE_FULL; /* the BIN has no room left */
		if (in_registry(lc, pan))
			continue;
		rc = net_card_put(t, &lc->store, pan, card, STORE_CREATE);
		if (rc != STORE_EXISTS)
			return rc;
	}
	return STORE_FULL;
}

struct http_response lifecycle_create_card(const struct http_request *r)
{
	struct network_lifecycle *lc = r->context;
	if (!json_is_object(r->body))
		return refuse(lc, 400, "%s", "expected a JSON object {\"customer\", \"bank\", \"order_id\"?}");
	bool bad = false;
	const char *id = member(r->body, "customer", &bad);
	const char *bank = member(r->body, "bank", &bad);
	const char *order_id = member(r->body, "order_id", &bad);
	if (bad || !id || !identifier(id, NET_ID_MAX))
		return refuse(lc, 400, "%s", "customer: an id of 1 to 47 printable characters (no '/', ':') is required");
	if (!bank)
		return refuse(lc, 400, "%s", "bank: the issuing bank's name is required");
	if (order_id && !identifier(order_id, NET_ORDER_ID_MAX))
		return refuse(lc, 400, "%s", "order_id: 1 to 39 printable characters (no '/', ':') are expected");
	const struct cfg_bank_network *m = membership(lc, bank);
	if (!m)
		return refuse(lc, 422, "bank '%.32s' is not a member of this network", bank);

	struct store_txn *t;
	int rc = network_store_write_begin(&lc->store, &t);
	if (rc)
		return storage_error(lc, rc);
	struct net_customer customer;
	rc = net_customer_get(t, &lc->store, id, &customer);
	if (rc == STORE_NOT_FOUND) {
		store_abort(t);
		return refuse(lc, 404, "no customer account '%.47s' here: POST /create-customer-account first", id);
	}
	if (rc == 0 && strcmp(customer.bank, bank) != 0) {
		store_abort(t);
		return refuse(lc, 409, "customer %.47s has an account of another bank here", id);
	}
	char pan[NET_PAN_MAX];
	struct net_card card;
	if (rc == 0 && order_id) {
		rc = net_order_get(t, &lc->store, bank, order_id, pan);
		if (rc == 0)
			rc = net_card_get(t, &lc->store, pan, &card);
		if (rc == 0) {
			/* The bank retried an order we took: the same card, never a second one. */
			store_abort(t);
			lifecycle_count(&lc->stats.duplicate_orders);
			json_t *j = card_json(lc, pan, &card, CARD_FOR_ISSUER);
			json_object_set_new(j, "duplicate", json_true());
			return http_json(200, j);
		}
		if (rc == STORE_NOT_FOUND)
			rc = 0;
	}
	int64_t now = lifecycle_wall_ms();
	memset(&card, 0, sizeof(card));
	snprintf(card.customer, sizeof(card.customer), "%s", id);
	snprintf(card.bank, sizeof(card.bank), "%s", bank);
	if (order_id)
		snprintf(card.order_id, sizeof(card.order_id), "%s", order_id);
	lifecycle_expiry(now / 1000, CARD_VALIDITY_YEARS, card.expiry);
	card.state = NET_CARD_IN_PRODUCTION;
	card.ordered_ms = now;
	card.due_ms = now + lc->net->card_production_ms;
	if (rc == 0)
		rc = assign_pan(lc, t, bank, m, &card, pan);
	if (rc == 0)
		rc = net_production_add(t, &lc->store, card.due_ms, pan);
	if (rc == 0 && order_id)
		rc = net_order_put(t, &lc->store, bank, order_id, pan);
	if (rc) {
		store_abort(t);
		if (rc == STORE_FULL)
			return refuse(lc, 507, "no free card number left in the BIN of bank %.32s", bank);
		return storage_error(lc, rc);
	}
	rc = store_commit(t);
	if (rc)
		return storage_error(lc, rc);
	lifecycle_count(&lc->stats.cards_created);
	/* Known to the network from now on, refused (119) until it is made. */
	network_lifecycle_register(lc, pan);
	card_production_kick(lc->production);
	return http_json(201, card_json(lc, pan, &card, CARD_FOR_ISSUER));
}

struct http_response lifecycle_get_card(const struct http_request *r)
{
	struct network_lifecycle *lc = r->context;
	const char *pan = r->path_rest ? r->path_rest : "";
	if (!identifier(pan, NET_PAN_MAX))
		return refuse(lc, 400, "%s", "a PAN of at most 19 digits is expected");
	struct store_txn *t;
	int rc = network_store_read_begin(&lc->store, &t);
	if (rc)
		return storage_error(lc, rc);
	struct net_card card;
	rc = net_card_get(t, &lc->store, pan, &card);
	store_abort(t);
	char masked[PAN_MASK_SIZE];
	if (rc == STORE_NOT_FOUND)
		return refuse(lc, 404, "no card '%s' ordered at this network", pan_mask(pan, masked, sizeof(masked)));
	if (rc)
		return storage_error(lc, rc);
	return http_json(200, card_json(lc, pan, &card, CARD_FOR_DISPLAY));
}

struct notification_list {
	struct network_lifecycle *lc;
	struct store_txn *txn;
	json_t *items;
};

static void add_notification(const char *text, size_t len, void *ctx)
{
	struct notification_list *l = ctx;
	json_t *n = json_loadb(text, len, 0, NULL);
	if (!json_is_object(n)) {
		json_decref(n);
		return;
	}
	const char *delivery = "poll";
	json_t *outbox_seq = json_object_get(n, "outbox_seq");
	if (json_is_integer(outbox_seq)) {
		struct outbox_header h;
		int rc = net_outbox_get(l->txn, &l->lc->store, (uint64_t)json_integer_value(outbox_seq), &h, NULL, NULL);
		if (rc == STORE_NOT_FOUND) {
			delivery = "delivered";
		} else if (rc == 0) {
			delivery = h.state == OUTBOX_PARKED ? "parked" : "pending";
			json_object_set_new(n, "attempts", json_integer(h.attempts));
			if (h.last_error[0])
				json_object_set_new(n, "last_error", json_string(h.last_error));
		} else {
			delivery = "unknown";
		}
		json_object_del(n, "outbox_seq");
	}
	json_object_set_new(n, "delivery", json_string(delivery));
	json_array_append_new(l->items, n);
}

struct http_response lifecycle_notifications(const struct http_request *r)
{
	struct network_lifecycle *lc = r->context;
	const char *id = r->path_rest && r->path_rest[0] ? r->path_rest : r->query(r, "customer");
	if (!id || !identifier(id, NET_ID_MAX))
		return refuse(lc, 400, "%s", "name the customer: /notifications?customer=<id> or /notifications/<id>");
	struct store_txn *t;
	int rc = network_store_read_begin(&lc->store, &t);
	if (rc)
		return storage_error(lc, rc);
	struct net_customer c;
	rc = net_customer_get(t, &lc->store, id, &c);
	struct notification_list l = {lc, t, json_array()};
	if (rc == 0)
		rc = net_notification_list(t, &lc->store, id, add_notification, &l);
	store_abort(t);
	if (rc) {
		json_decref(l.items);
		if (rc == STORE_NOT_FOUND)
			return refuse(lc, 404, "no customer account '%.47s' at this network", id);
		return storage_error(lc, rc);
	}
	return http_json(200, json_pack("{s:s, s:s, s:o}", "customer", id, "network", lc->net->name, "notifications",
					l.items));
}

struct http_response lifecycle_stats(const struct http_request *r)
{
	struct network_lifecycle *lc = r->context;
	json_t *j = json_object();
	json_object_set_new(j, "network", json_string(lc->net->name));
#define LIFECYCLE_JSON(name) json_object_set_new(j, #name, json_integer((json_int_t)atomic_load(&lc->stats.name)));
	LIFECYCLE_COUNTERS(LIFECYCLE_JSON)
#undef LIFECYCLE_JSON
	return http_json(200, j);
}
