/*
 * The card network switch: N workers, each polling its own queue of a
 * dgram_port (kernel sockets or DPDK), with its own pending transactions,
 * timer wheel and outcome memory. The BIN routes and the card registry are
 * shared read-only under RCU; the control plane replaces them.
 *
 * Ownership: a cardholder transaction belongs to the worker chosen by the hash
 * of its key (acquirer, STAN, local time, RRN, terminal), so that its 1100,
 * the bank's answer (whose STAN names the worker) and a later cardholder
 * reversal all meet on one worker. Messages arriving elsewhere are handed
 * over through SPSC rings.
 */
#ifndef SWITCH_CORE_H
#define SWITCH_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bin_routes.h"
#include "card_registry.h"
#include "dgram_port.h"
#include "ecosystem_config.h"
#include "iso_mac_keys.h"
#include "rcu_cell.h"
#include "saf_forwarder.h"
#include "switch_stats.h"

#define SWITCH_MAX_WORKERS 10 /* the STAN's first digit names the worker */
#define SWITCH_DEFAULT_PENDING 32768
/* Address space of the store-and-forward queue's LMDB map (an advice takes about 300 bytes). */
#define SWITCH_SAF_MAP_SIZE (1ull << 30)

struct switch_worker;

struct switch_settings {
	uint32_t bank_timeout_ms;
	uint32_t outcome_memory;   /* total, split between workers */
	uint32_t pending_per_worker;
	uint8_t major_industry_id;
	uint32_t shed_after_ms; /* stale_shedding.h; 0 = never (no TCP edge, or turned off) */
};

struct switch_core {
	char network[CFG_NAME_MAX];
	char config_path[CFG_PATH_MAX];
	struct switch_settings settings;
	struct dgram_port *port;
	uint16_t worker_count;
	struct switch_worker *workers[SWITCH_MAX_WORKERS];
	pthread_t threads[SWITCH_MAX_WORKERS];
	bool started;
	struct spsc_ring *rings[SWITCH_MAX_WORKERS][SWITCH_MAX_WORKERS]; /* [from][to] */
	struct rcu_cell routes; /* struct route_table */
	struct rcu_cell cards;  /* struct card_registry */
	atomic_uint_fast64_t route_version;
	/* Control plane (HTTP thread, signal thread): serialises route and config
	 * changes and guards the banks the config names, which PUT /routes may cite. */
	pthread_mutex_t control_lock;
	size_t known_bank_count;
	struct route_bank known_banks[CFG_MAX_BANKS];
	atomic_bool stop;
	/* Every reversal advice the network owes a bank, on disk until the bank's 1430 (saf/). */
	struct saf_forwarder *saf;
	/* MAC keys of the links (ecosystem_mac.h: link 0 = acquirers, then the member banks),
	 * reloaded on SIGHUP; and which link a bank's address is (others: the acquirers'). */
	struct iso_mac_keyring mac_keys;
	bool mac_keys_open;
	size_t mac_bank_count;
	struct sockaddr_in mac_bank_addr[CFG_MAX_BANKS];
	int mac_bank_link[CFG_MAX_BANKS];
};

#define SWITCH_MAC_ACQUIRER_LINK 0

/* The MAC link of a peer: its bank's, or the acquirers'. */
static inline int switch_mac_link_of(const struct switch_core *s, const struct sockaddr_in *peer)
{
	for (size_t i = 0; i < s->mac_bank_count; i++)
		if (s->mac_bank_addr[i].sin_addr.s_addr == peer->sin_addr.s_addr &&
		    s->mac_bank_addr[i].sin_port == peer->sin_port)
			return s->mac_bank_link[i];
	return SWITCH_MAC_ACQUIRER_LINK;
}

/* Reads the MAC key file again (SIGHUP); the workers pick the keys up at their next poll. */
bool switch_core_reload_mac_keys(struct switch_core *s, char *err, size_t err_size);

/* The name of the bank whose ISO endpoint is addr (a route's or the config's); "ip:port" when none. */
void switch_core_bank_name(struct switch_core *s, const struct sockaddr_in *addr, char *out, size_t size);

/*
 * Builds the switch of one network of the config over an open port (taken
 * over: closed by switch_core_destroy) with port->queue_count workers.
 * Returns NULL with a reason in err.
 */
struct switch_core *switch_core_create(const struct ecosystem_config *config, const char *config_path,
				       const char *network, struct dgram_port *port,
				       uint32_t pending_per_worker, char *err, size_t err_size);
/* Starts the worker threads. */
bool switch_core_start(struct switch_core *s, char *err, size_t err_size);
/* Stops and joins the workers (idempotent). */
void switch_core_stop(struct switch_core *s);
void switch_core_destroy(struct switch_core *s);

/* Sum of every worker's counters, plus gauges. Safe from any thread. */
struct switch_gauges {
	uint64_t pending;
	uint64_t route_version;
	uint64_t cards;
	uint64_t outcome_evictions;
};
void switch_core_counters(struct switch_core *s, struct switch_counters *sum, struct switch_gauges *g);
void switch_core_worker_counters(struct switch_core *s, uint16_t worker, struct switch_counters *out);

/* Replaces the routes (control plane). False with a reason when the specs are invalid. */
bool switch_core_set_routes(struct switch_core *s, const struct route_spec *specs, size_t count, char *err,
			    size_t err_size);
/* The ISO endpoint the config gives a bank; false when the config has no such bank. */
bool switch_core_bank_endpoint(struct switch_core *s, const char *bank, struct cfg_endpoint *out);
/* Copies the current routes out (caller frees *specs). */
bool switch_core_get_routes(struct switch_core *s, struct route_spec **specs, size_t *count, uint64_t *version);
/* Re-reads the config file: routes and the generated card registry. */
bool switch_core_reload(struct switch_core *s, char *err, size_t err_size);
/* Adds a card or changes its state. */
bool switch_core_put_card(struct switch_core *s, const char *pan, const char *expiry, enum card_state state,
			  char *err, size_t err_size);

#endif
