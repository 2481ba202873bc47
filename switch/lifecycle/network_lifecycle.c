#include "network_lifecycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card_production.h"
#include "http_client.h"
#include "lifecycle_http.h"
#include "notification_outbox.h"
#include "pan_vault.h"

struct network_lifecycle *network_lifecycle_start(const struct ecosystem_config *config, const char *network,
						  struct switch_core *core, char *err, size_t err_size)
{
	struct network_lifecycle *lc = calloc(1, sizeof(*lc));
	if (!lc || !(lc->config = malloc(sizeof(*lc->config)))) {
		free(lc);
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	memcpy(lc->config, config, sizeof(*config));
	lc->net = ecosystem_find_network(lc->config, network);
	if (!lc->net) {
		snprintf(err, err_size, "network '%s' is not in the config", network);
		goto fail;
	}
	lc->core = core;
	lc->delivery_timeout_ms = 2000;
	lc->backoff_first_ms = 200;
	lc->backoff_max_ms = 10000;
	lc->max_attempts = 10;
	http_client_global_init();
	lc->vault = pan_vault_load(lc->net->pan_key_file, err, err_size);
	if (!lc->vault)
		goto fail;
	if (network_store_open(&lc->store, lc->net->lmdb_path, LIFECYCLE_MAP_SIZE, lc->vault, err, err_size))
		goto fail;
	if (!network_lifecycle_republish(lc, err, err_size))
		goto fail_store;
	lc->outbox = notification_outbox_start(lc, err, err_size);
	if (!lc->outbox)
		goto fail_store;
	lc->production = card_production_start(lc, err, err_size);
	if (!lc->production) {
		notification_outbox_stop(lc->outbox);
		goto fail_store;
	}
	return lc;
fail_store:
	network_store_close(&lc->store);
fail:
	pan_vault_free(lc->vault);
	free(lc->config);
	free(lc);
	return NULL;
}

void network_lifecycle_stop(struct network_lifecycle *lc)
{
	if (!lc)
		return;
	card_production_stop(lc->production);
	notification_outbox_stop(lc->outbox);
	network_store_close(&lc->store);
	pan_vault_free(lc->vault);
	free(lc->config);
	free(lc);
}

size_t network_lifecycle_routes(struct network_lifecycle *lc, struct http_route *routes, size_t capacity)
{
	const struct http_route table[] = {
		{"POST", "/create-customer-account", lifecycle_create_customer, lc},
		{"POST", "/create-card-contract", lifecycle_create_customer, lc},
		{"POST", "/create-card", lifecycle_create_card, lc},
		{"GET", "/card/pan/*", lifecycle_get_card, lc},
		{"GET", "/notifications", lifecycle_notifications, lc},
		{"GET", "/notifications/*", lifecycle_notifications, lc},
		{"GET", "/lifecycle/stats", lifecycle_stats, lc},
	};
	return http_routes_copy(routes, capacity, table, sizeof(table) / sizeof(table[0]));
}
