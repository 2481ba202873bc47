/*
 * Runs the real bank-node binary ($ISO_BUILD_DIR/bank-node/bank-node) for a
 * test: a temporary directory with a generated one-bank config and LMDB
 * environment and a claim on its ports, start and readiness (bounded polling
 * of /stats), stop or kill. Tests talk to it with test_support's HTTP client
 * and UDP peer.
 */
#ifndef TEST_BANK_PROCESS_H
#define TEST_BANK_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "card_population.h"
#include "iso_messages.h"
#include "test_clock.h"
#include "test_http.h"
#include "test_udp_peer.h"

#define TEST_BANK_NAME "test_bank"

struct bank_process_config {
	uint16_t http_port, iso_port;
	const char *durability; /* sync | nometasync | async */
	uint32_t cards_per_bank;
	uint64_t initial_balance;
	uint64_t max_amount; /* fraud limit, 0 = none */
	uint32_t batch_max;
	/* Ports from http_port on that the test may use (claimed for it); 0 means 2: http and iso. */
	uint16_t port_count;
};

struct bank_process {
	char dir[256];
	char config_path[320];
	char lmdb_path[320];
	char log_path[320];
	uint16_t http_port, iso_port;
	pid_t pid;
	int claimed_ports; /* first port of the claimed block, or -1 */
	struct ecosystem_config cfg; /* as written, for the card population */
};

/* Claims the ports, makes the temporary directory and writes the config. */
void bank_process_prepare(struct bank_process *b, const struct bank_process_config *c);
/* Starts the node (extra_args NULL-terminated, may be NULL) and waits until /stats answers. */
bool bank_process_start(struct bank_process *b, const char *const *extra_args);
/* Sends sig and reaps the process; returns its wait status. */
int bank_process_kill(struct bank_process *b, int sig);
/* Stops it if running and removes the directory. */
void bank_process_cleanup(struct bank_process *b);
/* The k-th generated card of the test bank. */
void bank_process_card(const struct bank_process *b, size_t k, struct population_card *out);
/* Prints the node's log to stderr (for failing tests). */
void bank_process_dump_log(const struct bank_process *b);

/* Waits up to timeout_ms for one datagram on peer; the answers in it (0 on timeout, -1 undecodable). */
int bank_process_receive_answers(struct test_udp_peer *peer, struct test_answer *out, int capacity, int timeout_ms);

#endif
