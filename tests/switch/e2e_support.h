/*
 * End-to-end harness for the switch: a temporary directory with a generated
 * two-bank ecosystem config (ports from the switch's test range, claimed
 * for the test), the real switch binary and, when asked, real bank-node
 * processes, started and stopped with bounded waits. Tests talk to them with
 * test_support's HTTP client and UDP peer.
 */
#ifndef SWITCH_E2E_SUPPORT_H
#define SWITCH_E2E_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "card_population.h"
#include "ecosystem_config.h"
#include "test_clock.h"
#include "test_http.h"
#include "test_udp_peer.h"

struct e2e_settings {
	uint16_t base_port;      /* switch iso, switch http, big iso, big http, lil iso, lil http follow */
	uint32_t bank_timeout_ms;
	uint32_t reversal_retry_ms;
	uint32_t reversal_retry_max_ms; /* the advice back-off's cap */
	uint32_t outcome_memory;
	uint32_t cards_per_bank;
	uint64_t initial_balance;
	uint64_t big_max_amount; /* big_bank's fraud limit */
	/* Every link keyed (test_mac_keys.h); false: links without MACs, for tests whose fake
	 * banks and cardholders do not sign (the switch's own behaviour, not its security). */
	bool macs;
	uint32_t mac_grace_s;    /* with macs: iso_mac.grace_s (0: 300) */
};

struct e2e_env {
	char dir[256];
	char config_path[320];
	char switch_log[320];
	uint16_t switch_iso, switch_http, big_iso, big_http, lil_iso, lil_http;
	pid_t switch_pid;    /* 0 when not running */
	pid_t bank_pid[2];
	int claimed_ports;   /* first port of the claimed block, or -1 */
	char bank_log[2][320];
	struct ecosystem_config *cfg;
};

/* Claims the six ports, makes the temporary directory and writes the config. */
bool e2e_prepare(struct e2e_env *e, const struct e2e_settings *s);
/* Starts the switch with `workers` workers and waits until its HTTP API answers. */
bool e2e_start_switch(struct e2e_env *e, int workers);
/* Starts bank-node for bank 0 (big_bank) or 1 (lil_bank) and waits until it answers. */
bool e2e_start_bank(struct e2e_env *e, int bank);
/* SIGTERM and reap the switch; returns its wait status (-1 if not running). */
int e2e_stop_switch(struct e2e_env *e);
/* Stops everything still running, prints logs when failed, removes the directory. */
void e2e_cleanup(struct e2e_env *e, bool failed);

/* The k-th generated card of a bank (0 big_bank, 1 lil_bank) on mastercard. */
void e2e_card(const struct e2e_env *e, int bank, size_t k, struct population_card *out);

/* totals.<name> of the switch's GET /stats, -1 when unavailable. */
long long e2e_switch_stat(const struct e2e_env *e, const char *name);
/* Polls until totals.<name> >= want (bounded by timeout_ms). Returns the last value seen. */
long long e2e_wait_stat(const struct e2e_env *e, const char *name, long long want, int timeout_ms);

/*
 * The switch packs frames for one peer into one datagram (docs/protocol.md:
 * one or more frames per datagram). A reader hands them out one at a time,
 * each with its 2-byte header; bytes that do not split into frames come out
 * whole, so that the caller's decode check fails on them.
 */
struct e2e_frame_reader {
	struct test_udp_peer *peer;
	size_t length, at;
	uint8_t datagram[65536];
};
void e2e_frame_reader_init(struct e2e_frame_reader *r, struct test_udp_peer *peer);
/* The next frame (from what is left of the last datagram, else a new one); 0 when none came in time. */
size_t e2e_receive_frame(struct e2e_frame_reader *r, uint8_t *out, size_t capacity, int timeout_ms);
/* e2e_receive_frame with a reader kept per peer by the test process (at most E2E_FRAME_READERS peers). */
#define E2E_FRAME_READERS 64
size_t e2e_receive_frame_from(struct test_udp_peer *peer, uint8_t *out, size_t capacity, int timeout_ms);

#endif
