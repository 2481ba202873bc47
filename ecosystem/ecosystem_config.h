/*
 * The ecosystem as config/ecosystem.yaml describes it: banks, networks (one
 * switch instance each) and load-generator defaults, as typed structs.
 *
 * Parsed with libyaml; every error names the key path and the bad value, e.g.
 * "config/ecosystem.yaml:14: banks[1].durability: 'fast' is not one of sync, nometasync, async".
 */
#ifndef ECOSYSTEM_CONFIG_H
#define ECOSYSTEM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_NAME_MAX 32
#define CFG_PATH_MAX 256
#define CFG_MAX_BANKS 16
#define CFG_MAX_NETWORKS 8
#define CFG_MAX_BINS 32 /* per bank and network */

enum durability { DURABILITY_SYNC, DURABILITY_NOMETASYNC, DURABILITY_ASYNC };

/* How one agent reaches another's ISO 8583 endpoint: datagrams, or a long-lived TCP link. */
enum cfg_link { CFG_LINK_UDP, CFG_LINK_TCP };
/* TCP message framing: 2-byte big-endian length, or 4 ASCII digits (framing.h). */
enum cfg_framing { CFG_FRAMING_BINARY2, CFG_FRAMING_ASCII4 };

struct cfg_endpoint {
	char host[64]; /* IPv4 dotted quad */
	uint16_t port;
};

/* A TCP listener for standard ISO 8583 hosts (docs/tcp.md); absent: enabled = false. */
struct cfg_tcp {
	bool enabled;
	struct cfg_endpoint listen;
	enum cfg_framing framing;
	uint32_t max_message;    /* bytes; a larger announced length closes the link */
	uint32_t keepalive_s;    /* zero-length frame on a link silent this long; 0 = never */
	uint32_t idle_timeout_s; /* close a link that received nothing this long; 0 = never */
	/* The switch's acquirer edge (networks only; docs/tcp.md, "Idle links"): */
	uint32_t max_inbound;            /* inbound links held at once */
	uint32_t max_inbound_per_source; /* ... from one IP address */
	uint32_t evict_idle_s;   /* a full table's link longest without a message gives way after this */
	uint32_t quiet_timeout_s; /* an inbound link without a message this long closes; 0 = never */
	uint32_t ring_slots;     /* per worker and direction; a half-full send ring pauses reading */
	uint32_t send_wait_ms;   /* a worker finding its send ring full waits this long, then drops */
	uint32_t shed_after_ms;  /* a new 1100 that waited this long since the kernel took it in is
				  * answered 909 without going to its bank; 0 = never (docs/tcp.md) */
};

/* A decimal BIN range: PANs whose first `length` digits lie in [low, high]. */
struct cfg_bin_range {
	char low[12];  /* 6 to 11 digits */
	char high[12]; /* same length as low */
	uint8_t length;
};

/* A bank's membership of a network: the BIN ranges it issues under there. */
struct cfg_bank_network {
	char network[CFG_NAME_MAX];
	size_t bin_count;
	struct cfg_bin_range bins[CFG_MAX_BINS];
};

struct cfg_fraud {
	uint64_t max_amount;              /* minor units; 0 = no limit */
	uint32_t max_approvals_per_minute; /* per card; 0 = no limit */
};

/* Fault injection for soak tests; every share is a probability in [0, 1]. */
struct cfg_faults {
	double delay_probability;
	uint32_t delay_ms;
	double drop_probability;
};

struct cfg_bank {
	char name[CFG_NAME_MAX];
	char institution_id[12]; /* n..11, DE 32/33 */
	struct cfg_endpoint http;
	struct cfg_endpoint iso; /* UDP ISO 8583 endpoint */
	struct cfg_tcp tcp;      /* TCP ISO 8583 listener (switches with link tcp connect here) */
	enum cfg_link link;      /* how the switches reach this bank; tcp needs tcp.listen */
	char lmdb_path[CFG_PATH_MAX];
	uint64_t lmdb_map_size;
	enum durability durability;
	uint32_t batch_max; /* group commit: most authorizations per LMDB transaction */
	uint32_t answer_budget_ms; /* an 1100 that waited longer for the writer is answered 912 untouched; 0 = never */
	struct cfg_fraud fraud;
	struct cfg_faults faults;
	size_t network_count;
	struct cfg_bank_network networks[CFG_MAX_NETWORKS];
	char pan_key_file[CFG_PATH_MAX]; /* pan_protection.key_file (its own, else the global one); "" = none */
};

struct cfg_network {
	char name[CFG_NAME_MAX];
	uint8_t major_industry_id; /* first PAN digit it accepts, e.g. 5 mastercard, 4 visa */
	struct cfg_endpoint http;
	struct cfg_endpoint iso; /* where cardholders (acquirers) send, and banks answer */
	struct cfg_tcp tcp;      /* TCP listener for acquirer hosts (and loadgen link tcp) */
	char lmdb_path[CFG_PATH_MAX];
	char dataplane[16]; /* "socket" or "dpdk" */
	uint32_t bank_timeout_ms;
	/* Reversal advices are stored and forwarded until the bank's 1430 (switch/saf/). */
	uint32_t reversal_retry_ms;     /* first back-off; it doubles ... */
	uint32_t reversal_retry_max_ms; /* ... up to this */
	uint32_t reversal_window;       /* advices out at one bank at once */
	uint32_t reversal_drain_per_s;  /* sends per bank and second */
	uint32_t reversal_retention_s;  /* then the exception queue */
	uint32_t reversal_max_attempts; /* accepted for old configs; ignored: an advice is never abandoned */
	uint32_t outcome_memory; /* outcomes remembered for cardholder reversals */
	uint32_t card_production_ms;
	char pan_key_file[CFG_PATH_MAX]; /* pan_protection.key_file (its own, else the global one); "" = none */
};

enum arrival_process { ARRIVAL_CONSTANT, ARRIVAL_POISSON };

struct cfg_loadgen {
	uint64_t rate;        /* authorizations per second, all networks together */
	uint32_t duration_s;  /* bounded in time ... */
	uint64_t max_requests; /* ... and in count (0 = rate * duration) */
	enum arrival_process arrivals;
	uint32_t cards_per_bank;  /* per bank and network membership */
	uint64_t initial_balance; /* minor units on every generated account */
	uint64_t min_amount, max_amount;
	uint32_t timeout_ms; /* cardholder timeout before it sends 1420 */
	char currency[4];    /* ISO 4217 numeric, e.g. "978" */
	char acquirer_id[12];
	enum cfg_link link; /* towards the switches; tcp needs every network's tcp.listen */
};

#define CFG_MAX_WEBHOOK_HOSTS 16

/*
 * http_security: TLS and API keys of the agents' HTTP control planes
 * (docs/security.md). Absent: enabled = false, and then every agent refuses to
 * serve HTTP on anything but a loopback address. The limits apply either way.
 */
struct cfg_http_security {
	bool enabled;
	char tls_cert[CFG_PATH_MAX];          /* PEM certificate every listener presents */
	char tls_key[CFG_PATH_MAX];           /* its PEM private key */
	char ca[CFG_PATH_MAX];                /* PEM CA the agents' clients verify servers with */
	char secrets_file[CFG_PATH_MAX];      /* hashed API keys (http-keys), checked by every agent */
	char agent_tokens_file[CFG_PATH_MAX]; /* each agent's own token for its calls to the others */
	/* Mutual TLS: a directory with <agent>.pem (CN = the agent's name, signed by `ca`) and
	 * <agent>.key (mode 600) for every bank and network; see cfg_client_cert_path. */
	char client_certs[CFG_PATH_MAX - CFG_NAME_MAX - 8];
	size_t webhook_allow_host_count;      /* hosts a webhook may name despite the rules (http, private) */
	char webhook_allow_hosts[CFG_MAX_WEBHOOK_HOSTS][64];
	uint32_t max_connections;      /* per listener */
	uint32_t per_ip_connections;   /* per listener and source address */
	uint32_t connection_timeout_s; /* an idle connection is closed after this */
	/* rate_limits: per API key, by scope (customer, bank, network, operator); per_minute 0: none. */
	struct cfg_rate_limit {
		uint32_t per_minute, burst;
	} rate_limits[4];
	uint32_t auth_failure_limit;    /* auth_failures.limit: per address and window; 0: off */
	uint32_t auth_failure_window_s; /* auth_failures.window_s */
};

/*
 * MAC keys of the ISO 8583 links (docs/protocol.md, "MAC"): the key file's
 * path (keys never sit in the YAML) and the rotation grace period. A link
 * without a key stops the agent at start unless allow_unprotected (lab use,
 * logged loudly at start).
 */
struct cfg_iso_mac {
	char key_file[CFG_PATH_MAX]; /* "" = none */
	uint32_t grace_s;            /* previous key still accepted this long after a reload */
	bool allow_unprotected;
};

struct ecosystem_config {
	char source[CFG_PATH_MAX];
	struct cfg_iso_mac iso_mac;
	size_t bank_count;
	struct cfg_bank banks[CFG_MAX_BANKS];
	size_t network_count;
	struct cfg_network networks[CFG_MAX_NETWORKS];
	struct cfg_loadgen loadgen;
	struct cfg_http_security http_security;
	char pan_key_file[CFG_PATH_MAX]; /* top-level pan_protection.key_file; "" when absent */
};

/* Loads and validates the file; on failure writes a one-line reason to err and returns false. */
bool ecosystem_config_load(const char *path, struct ecosystem_config *out, char *err, size_t err_size);
/* Same, from a YAML text in memory (tests). */
bool ecosystem_config_parse(const char *yaml, size_t len, const char *source_name,
			    struct ecosystem_config *out, char *err, size_t err_size);

const struct cfg_bank *ecosystem_find_bank(const struct ecosystem_config *c, const char *name);
const struct cfg_network *ecosystem_find_network(const struct ecosystem_config *c, const char *name);
/* http_security.client_certs/<agent><suffix> (".pem", ".key"): an agent's client certificate or key. */
void cfg_client_cert_path(const struct cfg_http_security *h, const char *agent, const char *suffix,
			  char out[CFG_PATH_MAX]);
const char *durability_name(enum durability d);
const char *cfg_link_name(enum cfg_link l);
/* Where a switch sends to this bank: its tcp.listen when link is tcp, else its iso. */
struct cfg_endpoint cfg_bank_switch_endpoint(const struct cfg_bank *b);

#endif
