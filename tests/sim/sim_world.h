/* What one run holds (sim.c steps it; the cardholders, the faults and the checks each read their part). */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "clock_source.h"
#include "ecosystem_config.h"
#include "sim.h"
#include "sim_bank.h"
#include "sim_net.h"
#include "sim_rng.h"
#include "sim_switch.h"
#include "sim_trace.h"

#define SIM_MAX_CARDHOLDERS 48
#define SIM_MAX_BANKS 2
#define SIM_MAX_EVENTS 256

/* TXN_CANCELLED: approved, then reversed by its cardholder (a customer cancelling the payment). */
enum sim_txn_outcome { TXN_OPEN, TXN_APPROVED, TXN_DECLINED, TXN_TIMED_OUT, TXN_CANCELLED };

/* One authorization as its cardholder lived it. */
struct sim_txn {
	uint32_t id;
	uint16_t cardholder;
	uint8_t bank;
	uint8_t outcome; /* enum sim_txn_outcome */
	bool probe;      /* sent after healing: must be answered */
	bool resent;
	bool reversal_acked;
	uint64_t amount;
	uint64_t started_us;
	char action[4];
	char pan[20], expiry[5];
	char stan[7], reversal_stan[7], rrn[13], terminal[9], local_time[13], transmission[11];
};

enum sim_cardholder_state { CH_IDLE, CH_WAITING, CH_REVERSING };

struct sim_cardholder {
	struct sim_node *node;
	uint8_t bank;
	char pan[20], expiry[5];
	uint8_t state;
	bool probed; /* its probe after healing is sent */
	uint32_t txn; /* index in world.txns while not idle */
	uint64_t deadline_us, resend_us, next_start_us;
	uint32_t stan_counter;
};

enum sim_event_kind {
	EV_PARTITION, EV_BANK_CRASH, EV_BANK_RESTART, EV_SWITCH_CRASH, EV_SWITCH_RESTART,
	EV_SLOW_DISK, EV_DISK_NORMAL, EV_CLOCK_JUMP, EV_JUNK,
};

struct sim_event {
	uint64_t at_us, seq;
	uint8_t kind;
	uint8_t target;   /* link or bank */
	int64_t value;    /* a duration, latency, jump or variant */
};

struct sim_world {
	struct sim_options opt;
	struct sim_result *result;
	uint64_t now_us;
	int64_t wall_offset_ns; /* clock jumps so far */
	struct clock_source clock;
	struct sim_rng rng;
	struct sim_trace trace;
	struct sim_net net;
	char dir[256];
	struct ecosystem_config cfg;
	struct sim_switch sw;
	size_t bank_count;
	struct sim_bank banks[SIM_MAX_BANKS];
	uint32_t normal_commit_us[SIM_MAX_BANKS];
	size_t cardholder_count;
	struct sim_cardholder cardholders[SIM_MAX_CARDHOLDERS];
	struct sim_txn *txns;
	size_t txn_count, txn_capacity;
	bool load;         /* cardholders start transactions */
	bool probing;      /* each idle cardholder starts one probe */
	size_t event_count;
	uint64_t event_seq;
	struct sim_event events[SIM_MAX_EVENTS];
	uint32_t timeout_ms, bank_timeout_ms;
	/* the first violation ends the run */
	bool violated;
	uint8_t *approved_entries; /* per txn, journal entries still approved (sim_checks.c scratch) */
};

/* A violation: recorded once (the first), with the trace of txn when it names one. */
void sim_violation(struct sim_world *w, const struct sim_txn *txn, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* sim_cardholders.c */
void sim_cardholders_step(struct sim_world *w);
bool sim_cardholders_idle(const struct sim_world *w);

/* sim_faults.c */
void sim_faults_plan(struct sim_world *w);
void sim_faults_step(struct sim_world *w);
void sim_faults_heal(struct sim_world *w);
void sim_event_add(struct sim_world *w, uint64_t at_us, uint8_t kind, uint8_t target, int64_t value);

/* sim_checks.c: true when no invariant is broken now (final: after healing and draining). */
bool sim_check_banks(struct sim_world *w, bool final);
bool sim_check_final(struct sim_world *w);

#endif
