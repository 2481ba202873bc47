/*
 * The bank's decisions inside the writer's transaction: authorizations
 * (journal lookup for duplicates and tombstones, rules, debit, activation,
 * journal entry) and reversals (exactly-once credit). Runs on the writer
 * thread only, which also owns the velocity counters.
 */
#ifndef BANK_CORE_H
#define BANK_CORE_H

#include <stdint.h>

#include "bank_request.h"
#include "rules.h"
#include "store.h"
#include "velocity.h"

struct bank_core {
	struct store *store;
	struct bank_rules rules;
	struct velocity_table velocity;
	int64_t now_unix; /* wall clock of the current batch */
	int today_yymm;
	uint64_t now_ns;           /* CLOCK_MONOTONIC of the current batch */
	uint64_t answer_budget_ns; /* shed a 1100 that waited longer; 0 = never */
	uint32_t approval_seq;
};

bool bank_core_init(struct bank_core *core, struct store *store, const struct bank_rules *rules,
		    size_t expected_cards);
void bank_core_free(struct bank_core *core);
/* The clock for the next decisions (the writer sets it once per batch; tests set any date). */
void bank_core_set_time(struct bank_core *core, int64_t now_unix);

/*
 * Load shedding: an authorization that has waited for the writer longer than
 * the budget and would be a new decision is answered 912 (issuer unavailable)
 * without touching the ledger. Its sender times out soon; answering it late
 * would only make the network reverse it, and the work would delay the
 * requests behind it past their own timeouts. What the journal already knows
 * (a duplicate, a repeat's original, a reversal that came first) is answered
 * from it however late: a 912 there would call a standing debit refused.
 * Reversals are never shed: they move money back.
 */
void bank_core_set_answer_budget(struct bank_core *core, uint32_t budget_ms);
void bank_core_set_monotonic(struct bank_core *core, uint64_t now_ns);

/*
 * Decides req inside txn: sets req->action, req->approval and req->outcome.
 * Returns 0, or a store status after which the transaction must be aborted.
 */
int bank_core_apply(struct bank_core *core, struct store_txn *txn, struct bank_request *req);

#endif
