/*
 * The real programs of a small ecosystem: a temporary directory with a
 * generated config (big_bank and lil_bank on mastercard, over UDP or TCP;
 * ports from a base, claimed with test_ports so that two build directories
 * never share them), the real switch and bank-node processes started,
 * stopped, killed and frozen with bounded waits, the real load generator in
 * the foreground or the background, their logs echoed at the end (so that a
 * sanitizer report in them fails the test), and the money check over the
 * banks' ledgers. Processes, HTTP, logs and the directory go through
 * tests/support.
 */
#ifndef ECOSYSTEM_HARNESS_H
#define ECOSYSTEM_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "card_population.h"
#include "ecosystem_config.h"

#define ECO_PORT_BLOCK 20

struct eco_settings {
	uint16_t base_port;      /* ECO_PORT_BLOCK ports from here, claimed while the ecosystem lives */
	bool banks_over_tcp;     /* banks[].link: tcp */
	bool lil_bank_over_udp;  /* with banks_over_tcp: a mixed ecosystem */
	uint32_t keepalive_s, idle_timeout_s; /* the switch's listener */
	uint32_t bank_timeout_ms;
	uint32_t cards_per_bank;
	uint64_t initial_balance;
	bool loadgen_tcp;        /* loadgen.link: tcp */
	uint32_t reversal_retry_max_ms; /* the switch's advice back-off cap; 0: 2000 */
	const char *tag;         /* temporary directory name; 0: "tcp-eco" */
	double big_bank_slow_share; /* big_bank answers this share of requests big_bank_slow_ms late */
	uint32_t big_bank_slow_ms;
	uint32_t mac_grace_s;    /* iso_mac.grace_s (every link has a fresh key, test_mac_keys.h); 0: 300 */
	bool acquirer_without_mac; /* acquirer:mastercard runs without MACs (peers that cannot sign) */
	uint32_t shed_after_ms;  /* networks[].tcp.shed_after_ms; 0: not written (the default) */
};

struct eco_env {
	char dir[256];
	char config_path[320];
	uint16_t switch_udp, switch_tcp, switch_http;
	uint16_t bank_udp[2], bank_tcp[2], bank_http[2];
	pid_t switch_pid, bank_pid[2]; /* 0: not running */
	int claimed_ports;             /* the claimed block's first port, -1: none */
	char switch_log[320], bank_log[2][320];
	struct ecosystem_config *cfg;
};

bool eco_prepare(struct eco_env *e, const struct eco_settings *s);
/* Starts bank 0 (big_bank) or 1 (lil_bank) and waits until its HTTP answers. */
bool eco_start_bank(struct eco_env *e, int bank);
/* SIGTERM, reap; returns the exit status (-1: not running, killed, or SIGKILLed after the grace). */
int eco_stop_bank(struct eco_env *e, int bank);
bool eco_start_switch(struct eco_env *e, int workers);
/* Both banks, then the switch with `workers` workers; false (and which one, on stderr) when one did not start. */
bool eco_start_all(struct eco_env *e, int workers);
int eco_stop_switch(struct eco_env *e);
/* SIGKILL and reap: a crash, nothing flushed or said on the way out. */
void eco_kill_bank(struct eco_env *e, int bank);
void eco_kill_switch(struct eco_env *e);
/* SIGSTOP / SIGCONT: a bank that stops answering without closing anything. */
void eco_freeze_bank(struct eco_env *e, int bank, bool frozen);
/* Stops what still runs, prints every log on stderr, removes the directory, releases the ports. */
void eco_cleanup(struct eco_env *e);

/* An integer at path "a.b" in the switch's /stats ("tcp.connected_now"); -1 when absent. */
long long eco_switch_stat(struct eco_env *e, const char *dotted);
/* Polls until eco_switch_stat(dotted) >= want, at most timeout_ms. */
bool eco_wait_switch_stat(struct eco_env *e, const char *dotted, long long want, int timeout_ms);
/*
 * Polls until the switch has nothing in flight: no pending transaction and every
 * reversal it sent completed or abandoned, seen on two polls in a row (the
 * workers' counters are read while they run). False after timeout_ms.
 */
bool eco_wait_switch_settled(struct eco_env *e, int timeout_ms);
/* The balance of account big_bank-<index>, -1 when unavailable. */
long long eco_balance(struct eco_env *e, int bank, size_t index);
/* {"big_bank": /ledger, "lil_bank": /ledger} written to path; false when a bank did not answer. */
bool eco_write_ledgers(struct eco_env *e, const char *path);
/* Runs the real loadgen (extra arguments NULL-terminated) with its report in <dir>/<name>;
 * returns its exit status, -1 when it did not finish in timeout_ms. */
int eco_run_loadgen(struct eco_env *e, const char *name, const char *const *extra, int timeout_ms);
/* The same in the background: its pid (0 on failure); eco_wait_loadgen reaps it. */
pid_t eco_start_loadgen(struct eco_env *e, const char *name, const char *const *extra);
int eco_wait_loadgen(struct eco_env *e, const char *name, pid_t pid, int timeout_ms);
/* python3 cardholder-loadgen/ledger_check.py over the ledgers and the loadgen's summary. */
int eco_ledger_check(struct eco_env *e, const char *before, const char *after, const char *report_name);
/* The same with the switch's /stats, and --exact: not one debit more than the cardholders saw approved. */
int eco_ledger_check_exact(struct eco_env *e, const char *before, const char *after, const char *report_name);
/*
 * Polls until the switch owes nothing: no pending transaction and an empty
 * store-and-forward queue, twice in a row. False after timeout_ms.
 */
bool eco_wait_switch_drained(struct eco_env *e, int timeout_ms);

/* The k-th card of a bank (its only membership is mastercard). */
void eco_card(const struct eco_env *e, int bank, size_t k, struct population_card *out);

#endif
