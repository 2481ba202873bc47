/*
 * Runs the real bank-node binary ($ISO_BUILD_DIR/bank-node/bank-node) for a
 * test: a temporary directory with a generated one-bank config and LMDB
 * environment, start and readiness (bounded polling of /stats), stop or kill,
 * and small HTTP and UDP clients to talk to it.
 */
#ifndef TEST_BANK_PROCESS_H
#define TEST_BANK_PROCESS_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "card_population.h"
#include "iso_messages.h"

#define TEST_BANK_NAME "test_bank"

struct bank_process_config {
	uint16_t http_port, iso_port;
	const char *durability; /* sync | nometasync | async */
	uint32_t cards_per_bank;
	uint64_t initial_balance;
	uint64_t max_amount; /* fraud limit, 0 = none */
	uint32_t batch_max;
};

struct bank_process {
	char dir[256];
	char config_path[320];
	char lmdb_path[320];
	char log_path[320];
	uint16_t http_port, iso_port;
	pid_t pid;
	struct ecosystem_config cfg; /* as written, for the card population */
};

/* Makes the temporary directory and writes the config. */
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

/* One HTTP exchange; returns the status (0 on transport failure), *out the JSON body or NULL. */
long test_http(uint16_t port, const char *method, const char *path, const char *body, json_t **out);
/* GET path, expecting 200, and the integer at key; -1 if absent. */
long long test_http_int(uint16_t port, const char *path, const char *key);

struct iso_client {
	int fd;
	struct sockaddr_in bank;
};

bool iso_client_open(struct iso_client *c, uint16_t bank_port);
void iso_client_close(struct iso_client *c);
bool iso_client_send(struct iso_client *c, const uint8_t *data, size_t length);
/* Waits up to timeout_ms for one datagram; returns the answers in it (0 on timeout, -1 bad). */
int iso_client_receive(struct iso_client *c, struct test_answer *out, int capacity, int timeout_ms);

/* Monotonic milliseconds. */
int64_t test_now_ms(void);

#endif
