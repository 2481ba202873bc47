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
	uint32_t approval_seq;
};

bool bank_core_init(struct bank_core *core, struct store *store, const struct bank_rules *rules,
		    size_t expected_cards);
void bank_core_free(struct bank_core *core);
/* The clock for the next decisions (the writer sets it once per batch; tests set any date). */
void bank_core_set_time(struct bank_core *core, int64_t now_unix);

/*
 * Decides req inside txn: sets req->action, req->approval and req->outcome.
 * Returns 0, or an LMDB error after which the transaction must be aborted.
 */
int bank_core_apply(struct bank_core *core, MDB_txn *txn, struct bank_request *req);

#endif
