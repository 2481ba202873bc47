/*
 * End-to-end harness of the card lifecycle: a temporary directory with a
 * generated config (one bank "issuer", member of mastercard and visa; the
 * mastercard switch runs, visa does not), the real bank-node and switch
 * binaries started and stopped with bounded waits, and small helpers to
 * create accounts, order cards and pay over UDP through the switch.
 *
 * Ports, from a base in the lifecycle range 17000-17499: bank http base,
 * bank iso +1, mastercard http +2, mastercard iso +3, visa http +4, visa iso
 * +5, the test's webhook listener +6; the seven are claimed for the test
 * (test_ports.h). Tests talk HTTP with test_support's test_http.
 */
#ifndef TEST_LIFECYCLE_ENV_H
#define TEST_LIFECYCLE_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "test_clock.h"
#include "test_http.h"

#define LC_BANK "issuer"
#define LC_BIN "51999100"

struct lc_env {
	char dir[256];
	char config_path[320];
	char bank_log[320], switch_log[320];
	uint16_t bank_http, bank_iso, mc_http, mc_iso, visa_http, webhook;
	pid_t bank_pid, switch_pid;
	unsigned next_stan;
	int claimed_ports; /* first port of the claimed block, or -1 */
};

/* Claims the ports and writes the config; production_ms is mastercard's card_production_ms. */
bool lc_env_prepare(struct lc_env *e, uint16_t base_port, uint32_t production_ms);
/* The same with more lines of the http_security section (each indented by two spaces): the rate
 * limits, say. lc_env_prepare's own: a failed-authentication limit high enough for tests that try
 * every endpoint with bad keys (docs/security.md, "Rate limits"). */
bool lc_env_prepare_with(struct lc_env *e, uint16_t base_port, uint32_t production_ms, const char *security_yaml);
bool lc_env_start_bank(struct lc_env *e);
bool lc_env_start_switch(struct lc_env *e);
/* SIGTERM and reap (bounded); true when it exited with status 0. */
bool lc_env_stop_switch(struct lc_env *e);
bool lc_env_stop_bank(struct lc_env *e);
/* SIGKILL and reap the switch (a crash: no clean shutdown). */
void lc_env_kill_switch(struct lc_env *e);
/* Stops what runs, prints the logs when failed, removes the directory. */
void lc_env_cleanup(struct lc_env *e, bool failed);

/* Creates an account at the bank; true on 201. */
bool lc_create_account(struct lc_env *e, const char *uuid, long long balance);
/* The balance of an account at the bank, -1 when unknown. */
long long lc_balance(struct lc_env *e, const char *uuid);
/* The bank's state of a card ("ordered", ...) into out; false when unknown. */
bool lc_bank_card_state(struct lc_env *e, const char *pan, char *out, size_t size);
/* Polls the bank until the card is in state, at most timeout_ms. */
bool lc_wait_bank_card_state(struct lc_env *e, const char *pan, const char *state, int timeout_ms);
/* Sends a 1100 through the mastercard switch; the DE 39 of the answer into action ("" on timeout). */
bool lc_pay(struct lc_env *e, const char *pan, const char *expiry, uint64_t amount, char action[4]);

#endif
