#include "switch_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "ecosystem_mac.h"
#include "spsc_ring.h"
#include "udp_port.h"
#include "switch_worker.h"

static void free_routes(void *p)
{
	route_table_free(p);
}

static void free_cards(void *p)
{
	card_registry_free(p);
}

static struct route_table *routes_from_config(const struct ecosystem_config *c, const char *network,
					      uint64_t version, char *err, size_t err_size)
{
	size_t n = route_specs_from_config(c, network, NULL, 0);
	struct route_spec *specs = calloc(n ? n : 1, sizeof(*specs));
	if (!specs) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	route_specs_from_config(c, network, specs, n);
	struct route_table *t = route_table_build(specs, n, version, err, err_size);
	free(specs);
	return t;
}

static void learn_banks(struct switch_core *s, const struct ecosystem_config *c)
{
	s->known_bank_count = 0;
	for (size_t b = 0; b < c->bank_count && b < CFG_MAX_BANKS; b++) {
		struct route_bank *k = &s->known_banks[s->known_bank_count++];
		snprintf(k->name, sizeof(k->name), "%s", c->banks[b].name);
		k->endpoint = cfg_bank_switch_endpoint(&c->banks[b]);
	}
}

bool switch_core_bank_endpoint(struct switch_core *s, const char *bank, struct cfg_endpoint *out)
{
	bool found = false;
	pthread_mutex_lock(&s->control_lock);
	for (size_t i = 0; i < s->known_bank_count && !found; i++) {
		if (strcmp(s->known_banks[i].name, bank) == 0) {
			*out = s->known_banks[i].endpoint;
			found = true;
		}
	}
	pthread_mutex_unlock(&s->control_lock);
	return found;
}

/* The store-and-forward queue reloads its advices by bank name: where that bank is now. */
static bool resolve_bank(void *ctx, const char *bank, struct sockaddr_in *out)
{
	struct switch_core *s = ctx;
	for (size_t i = 0; i < s->known_bank_count; i++)
		if (strcmp(s->known_banks[i].name, bank) == 0)
			return endpoint_to_sockaddr(s->known_banks[i].endpoint.host, s->known_banks[i].endpoint.port,
						    out) == 0;
	return false;
}

/* The forwarder answered worker through its ring: wake it if it sleeps. */
static void wake_worker(void *ctx, uint16_t worker)
{
	struct switch_core *s = ctx;
	switch_worker_wake(s->workers[worker]);
}

static bool open_saf(struct switch_core *s, const struct cfg_network *net, char *err, size_t err_size)
{
	char dir[CFG_PATH_MAX + 8];
	snprintf(dir, sizeof(dir), "%s/saf", net->lmdb_path);
	const struct saf_forwarder_config c = {
		.dir = dir,
		.map_size = SWITCH_SAF_MAP_SIZE,
		.pan_key_file = net->pan_key_file,
		.queue = {.first_retry_ms = net->reversal_retry_ms,
			  .max_retry_ms = net->reversal_retry_max_ms,
			  .window = net->reversal_window,
			  .drain_per_s = net->reversal_drain_per_s,
			  .retention_ms = (uint64_t)net->reversal_retention_s * 1000u},
		.workers = s->worker_count,
		.resolve = resolve_bank,
		.resolve_ctx = s,
		.replied = wake_worker,
		.replied_ctx = s,
	};
	char why[512];
	s->saf = saf_forwarder_create(&c, why, sizeof(why));
	if (!s->saf)
		snprintf(err, err_size, "store-and-forward queue: %s", why);
	return s->saf != NULL;
}

static bool is_member(const struct cfg_bank *b, const char *network)
{
	for (size_t m = 0; m < b->network_count; m++)
		if (strcmp(b->networks[m].network, network) == 0)
			return true;
	return false;
}

/* Before the workers: each keys its own contexts from the keyring. */
static bool open_mac_keys(struct switch_core *s, const struct ecosystem_config *c, const char *network, char *err,
			  size_t err_size)
{
	char why[512];
	if (!ecosystem_mac_keyring_open(c, MAC_AGENT_NETWORK, network, "switch", &s->mac_keys, why, sizeof(why))) {
		iso_mac_keyring_destroy(&s->mac_keys);
		snprintf(err, err_size, "%s", why);
		return false;
	}
	s->mac_keys_open = true;
	/* The member banks in config order: links 1.. (ecosystem_mac_links). */
	int link = SWITCH_MAC_ACQUIRER_LINK + 1;
	for (size_t b = 0; b < c->bank_count; b++) {
		if (!is_member(&c->banks[b], network))
			continue;
		struct cfg_endpoint e = cfg_bank_switch_endpoint(&c->banks[b]);
		if (endpoint_to_sockaddr(e.host, e.port, &s->mac_bank_addr[s->mac_bank_count]) == 0)
			s->mac_bank_link[s->mac_bank_count++] = link;
		link++;
	}
	return true;
}

bool switch_core_reload_mac_keys(struct switch_core *s, char *err, size_t err_size)
{
	return iso_mac_keyring_reload(&s->mac_keys, err, err_size);
}

void switch_core_bank_name(struct switch_core *s, const struct sockaddr_in *addr, char *out, size_t size)
{
	const struct route_table *t = rcu_cell_read(&s->routes);
	for (size_t i = 0; t && i < t->bank_count; i++) {
		const struct sockaddr_in *b = &t->banks[i].iso;
		if (b->sin_addr.s_addr == addr->sin_addr.s_addr && b->sin_port == addr->sin_port) {
			snprintf(out, size, "%s", t->banks[i].name);
			return;
		}
	}
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &addr->sin_addr, ip, sizeof(ip));
	snprintf(out, size, "%s:%u", ip, ntohs(addr->sin_port));
}

struct switch_core *switch_core_create(const struct ecosystem_config *config, const char *config_path,
				       const char *network, struct dgram_port *port,
				       uint32_t pending_per_worker, char *err, size_t err_size)
{
	const struct cfg_network *net = ecosystem_find_network(config, network);
	if (!net) {
		snprintf(err, err_size, "network '%s' is not in %s", network, config->source);
		return NULL;
	}
	if (port->queue_count == 0 || port->queue_count > SWITCH_MAX_WORKERS) {
		snprintf(err, err_size, "%u workers asked; 1 to %d are possible", port->queue_count, SWITCH_MAX_WORKERS);
		return NULL;
	}
	if (pending_per_worker == 0 || pending_per_worker > PENDING_MAX_SLOTS) {
		snprintf(err, err_size, "pending slots per worker must be 1 to %d", PENDING_MAX_SLOTS);
		return NULL;
	}
	struct switch_core *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	snprintf(s->network, sizeof(s->network), "%s", network);
	snprintf(s->config_path, sizeof(s->config_path), "%s", config_path ? config_path : "");
	s->settings.bank_timeout_ms = net->bank_timeout_ms;
	s->settings.outcome_memory = net->outcome_memory;
	s->settings.pending_per_worker = pending_per_worker;
	s->settings.major_industry_id = net->major_industry_id;
	s->settings.shed_after_ms = net->tcp.enabled ? net->tcp.shed_after_ms : 0;
	s->worker_count = port->queue_count;
	atomic_init(&s->stop, false);
	atomic_init(&s->route_version, 1);
	pthread_mutex_init(&s->control_lock, NULL);
	learn_banks(s, config);

	struct route_table *routes = routes_from_config(config, network, 1, err, err_size);
	struct card_registry *cards = routes ? card_registry_from_population(config, network) : NULL;
	if (!routes || !cards) {
		if (routes && !cards)
			snprintf(err, err_size, "cannot build the card registry (out of memory or bad population)");
		route_table_free(routes);
		pthread_mutex_destroy(&s->control_lock);
		free(s);
		return NULL;
	}
	rcu_cell_init(&s->routes, routes, free_routes);
	rcu_cell_init(&s->cards, cards, free_cards);
	s->port = port;
	if (!open_mac_keys(s, config, network, err, err_size)) {
		s->port = NULL;
		switch_core_destroy(s);
		return NULL;
	}

	for (uint16_t from = 0; from < s->worker_count; from++)
		for (uint16_t to = 0; to < s->worker_count; to++) {
			if (from == to)
				continue;
			s->rings[from][to] = spsc_ring_create(SWITCH_HANDOVER_RING, sizeof(struct handover_msg));
			if (!s->rings[from][to])
				goto oom;
		}
	for (uint16_t i = 0; i < s->worker_count; i++) {
		s->workers[i] = switch_worker_create(s, (uint8_t)i);
		if (!s->workers[i])
			goto oom;
	}
	if (!open_saf(s, net, err, err_size)) {
		s->port = NULL;
		switch_core_destroy(s);
		return NULL;
	}
	return s;
oom:
	snprintf(err, err_size, "out of memory for %u workers", s->worker_count);
	s->port = NULL; /* the caller still owns it */
	switch_core_destroy(s);
	return NULL;
}

bool switch_core_start(struct switch_core *s, char *err, size_t err_size)
{
	/* Before the workers: they hand it advices from their first timeout on. */
	if (!saf_forwarder_start(s->saf, err, err_size))
		return false;
	for (uint16_t i = 0; i < s->worker_count; i++) {
		if (pthread_create(&s->threads[i], NULL, switch_worker_main, s->workers[i]) != 0) {
			snprintf(err, err_size, "cannot start worker %u", i);
			atomic_store(&s->stop, true);
			for (uint16_t j = 0; j < i; j++)
				pthread_join(s->threads[j], NULL);
			saf_forwarder_stop(s->saf);
			return false;
		}
		char name[16];
		snprintf(name, sizeof(name), "switch-w%u", i);
		pthread_setname_np(s->threads[i], name);
	}
	s->started = true;
	return true;
}

void switch_core_stop(struct switch_core *s)
{
	atomic_store(&s->stop, true);
	if (!s->started)
		return;
	for (uint16_t i = 0; i < s->worker_count; i++)
		switch_worker_wake(s->workers[i]); /* a sleeping worker sees stop at once */
	for (uint16_t i = 0; i < s->worker_count; i++)
		pthread_join(s->threads[i], NULL);
	/* After the workers, which hand it their last advices as they stop. */
	saf_forwarder_stop(s->saf);
	s->started = false;
}

void switch_core_destroy(struct switch_core *s)
{
	if (!s)
		return;
	switch_core_stop(s);
	for (uint16_t i = 0; i < s->worker_count; i++)
		switch_worker_destroy(s->workers[i]);
	for (uint16_t a = 0; a < SWITCH_MAX_WORKERS; a++)
		for (uint16_t b = 0; b < SWITCH_MAX_WORKERS; b++)
			spsc_ring_free(s->rings[a][b]);
	saf_forwarder_destroy(s->saf);
	rcu_cell_destroy(&s->routes);
	rcu_cell_destroy(&s->cards);
	if (s->mac_keys_open)
		iso_mac_keyring_destroy(&s->mac_keys);
	if (s->port && s->port->ops->close)
		s->port->ops->close(s->port);
	pthread_mutex_destroy(&s->control_lock);
	free(s);
}

void switch_core_worker_counters(struct switch_core *s, uint16_t worker, struct switch_counters *out)
{
	const struct switch_counters *c = &s->workers[worker]->counters;
#define LOAD_COUNTER(name, help) out->name = __atomic_load_n(&c->name, __ATOMIC_RELAXED);
	SWITCH_COUNTERS(LOAD_COUNTER)
#undef LOAD_COUNTER
}

void switch_core_counters(struct switch_core *s, struct switch_counters *sum, struct switch_gauges *g)
{
	memset(sum, 0, sizeof(*sum));
	memset(g, 0, sizeof(*g));
	for (uint16_t i = 0; i < s->worker_count; i++) {
		struct switch_counters one;
		switch_core_worker_counters(s, i, &one);
#define ADD_COUNTER(name, help) sum->name += one.name;
		SWITCH_COUNTERS(ADD_COUNTER)
#undef ADD_COUNTER
		g->pending += __atomic_load_n(&s->workers[i]->pending.in_use, __ATOMIC_RELAXED);
		g->outcome_evictions += __atomic_load_n(&s->workers[i]->outcomes.evictions, __ATOMIC_RELAXED);
	}
	g->route_version = atomic_load(&s->route_version);
	const struct card_registry *cards = rcu_cell_lock(&s->cards);
	g->cards = cards ? cards->count : 0;
	rcu_cell_unlock(&s->cards);
}

bool switch_core_set_routes(struct switch_core *s, const struct route_spec *specs, size_t count, char *err,
			    size_t err_size)
{
	pthread_mutex_lock(&s->control_lock);
	/* The version moves only when a table is published. */
	uint64_t version = atomic_load(&s->route_version) + 1;
	struct route_table *t = route_table_build(specs, count, version, err, err_size);
	if (t) {
		rcu_cell_replace(&s->routes, t);
		atomic_store(&s->route_version, version);
	}
	pthread_mutex_unlock(&s->control_lock);
	return t != NULL;
}

bool switch_core_get_routes(struct switch_core *s, struct route_spec **specs, size_t *count, uint64_t *version)
{
	const struct route_table *t = rcu_cell_lock(&s->routes);
	*count = t->spec_count;
	*version = t->version;
	*specs = calloc(t->spec_count ? t->spec_count : 1, sizeof(**specs));
	if (*specs)
		memcpy(*specs, t->specs, t->spec_count * sizeof(**specs));
	rcu_cell_unlock(&s->routes);
	return *specs != NULL;
}

bool switch_core_reload(struct switch_core *s, char *err, size_t err_size)
{
	struct ecosystem_config *c = malloc(sizeof(*c));
	if (!c) {
		snprintf(err, err_size, "out of memory");
		return false;
	}
	bool ok = false;
	pthread_mutex_lock(&s->control_lock);
	if (!ecosystem_config_load(s->config_path, c, err, err_size))
		goto out;
	if (!ecosystem_find_network(c, s->network)) {
		snprintf(err, err_size, "network '%s' is no longer in %s", s->network, s->config_path);
		goto out;
	}
	uint64_t version = atomic_load(&s->route_version) + 1;
	struct route_table *routes = routes_from_config(c, s->network, version, err, err_size);
	if (!routes)
		goto out;
	struct card_registry *cards = card_registry_from_population(c, s->network);
	if (!cards) {
		snprintf(err, err_size, "cannot build the card registry");
		route_table_free(routes);
		goto out;
	}
	rcu_cell_replace(&s->routes, routes);
	atomic_store(&s->route_version, version);
	rcu_cell_replace(&s->cards, cards);
	learn_banks(s, c);
	ok = true;
out:
	pthread_mutex_unlock(&s->control_lock);
	free(c);
	return ok;
}

bool switch_core_put_card(struct switch_core *s, const char *pan, const char *expiry, enum card_state state,
			  char *err, size_t err_size)
{
	const struct card_registry *current = rcu_cell_lock(&s->cards);
	struct card_registry *next = card_registry_clone(current, 1);
	bool ok = next && card_registry_put(next, pan, strlen(pan), expiry, state);
	if (ok)
		rcu_cell_replace_locked(&s->cards, next);
	rcu_cell_unlock(&s->cards);
	if (!ok) {
		snprintf(err, err_size, "%s", next ? "pan must be 12 to 19 digits and expiry 4 digits (YYMM)"
						   : "out of memory");
		card_registry_free(next);
	}
	return ok;
}
