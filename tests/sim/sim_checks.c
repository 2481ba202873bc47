/*
 * The invariants, over what the cardholders saw and what the banks' LMDB
 * journals and ledgers hold (store_scan, store_ledger_totals), and the
 * switch's store-and-forward queue:
 *   - money is conserved per bank: balances + debits still standing = money created;
 *   - no double debit: one cardholder transaction, at most one standing debit;
 *   - every approval a cardholder saw stands in its issuer's journal;
 *   - (final) nobody is charged for an authorization they saw declined or timed out
 *     (and reversed), or cancelled (reversed after its approval), and the debits standing
 *     are exactly the approvals kept;
 *   - (final) every reversal advice was acknowledged: none queued, none expired;
 *   - (final) liveness: every cardholder got an answer to its probe after healing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_world.h"

struct scan {
	struct sim_world *w;
	uint64_t foreign;    /* approved entries of no transaction of this run */
	char foreign_rrn[13];
};

static void visit_journal(const void *key, size_t key_len, const void *value, size_t value_len, void *ctx)
{
	struct scan *s = ctx;
	struct journal_record j;
	if (key_len != JOURNAL_KEY_LEN || value_len != sizeof(j))
		return;
	memcpy(&j, value, sizeof(j));
	if (j.state != JOURNAL_APPROVED)
		return;
	const char *rrn = (const char *)key + JOURNAL_KEY_RRN_AT;
	unsigned id;
	char text[13];
	memcpy(text, rrn, 12);
	text[12] = '\0';
	if (sscanf(text, "R%11u", &id) != 1 || id >= s->w->txn_count) {
		s->foreign++;
		memcpy(s->foreign_rrn, text, sizeof(text));
		return;
	}
	if (s->w->approved_entries[id] < 255)
		s->w->approved_entries[id]++;
}

static bool check_bank(struct sim_world *w, uint8_t index, bool final)
{
	struct sim_bank *b = &w->banks[index];
	if (!b->up)
		return true; /* looked at when it is back */
	struct ledger_totals t;
	int rc = store_ledger_totals(&b->store, &t);
	if (rc) {
		sim_violation(w, NULL, "%s: ledger unreadable: %s", b->bank->name, store_strerror(rc));
		return false;
	}
	if (t.overflow || t.total_balance + (int64_t)t.approved_amount != t.created_total) {
		sim_violation(w, NULL, "%s: money not conserved: balances %lld + standing debits %llu != created %lld",
			      b->bank->name, (long long)t.total_balance, (unsigned long long)t.approved_amount,
			      (long long)t.created_total);
		return false;
	}
	memset(w->approved_entries, 0, w->txn_count);
	struct scan s = {.w = w};
	struct store_txn *txn;
	rc = store_read_begin(&b->store, &txn);
	if (rc == 0) {
		rc = store_scan(txn, &b->store, STORE_JOURNAL, visit_journal, &s);
		store_abort(txn);
	}
	if (rc) {
		sim_violation(w, NULL, "%s: journal unreadable: %s", b->bank->name, store_strerror(rc));
		return false;
	}
	if (s.foreign) {
		sim_violation(w, NULL, "%s: %llu standing debit(s) of no cardholder transaction (e.g. RRN %s)",
			      b->bank->name, (unsigned long long)s.foreign, s.foreign_rrn);
		return false;
	}
	uint64_t seen_approved = 0;
	for (size_t i = 0; i < w->txn_count; i++) {
		const struct sim_txn *x = &w->txns[i];
		if (x->bank != index)
			continue;
		uint8_t debits = w->approved_entries[i];
		if (debits > 1) {
			sim_violation(w, x, "%s: double debit: %u standing debits for %s", b->bank->name, debits, x->rrn);
			return false;
		}
		if (x->outcome == TXN_APPROVED) {
			seen_approved += x->amount;
			if (debits == 0) {
				sim_violation(w, x, "%s: the cardholder saw %s approved; the journal does not debit it",
					      b->bank->name, x->rrn);
				return false;
			}
		} else if (final && debits) {
			sim_violation(w, x, "%s: the cardholder saw %s %s (%s) and is charged %llu", b->bank->name, x->rrn,
				      x->outcome == TXN_TIMED_OUT	 ? "time out"
				      : x->outcome == TXN_OPEN	 ? "unanswered"
				      : x->outcome == TXN_CANCELLED ? "approved, then reversed it"
								     : "declined",
				      x->action[0] ? x->action : "no answer", (unsigned long long)x->amount);
			return false;
		}
	}
	if (final && seen_approved != t.approved_amount) {
		sim_violation(w, NULL, "%s: standing debits %llu, approvals seen by cardholders %llu", b->bank->name,
			      (unsigned long long)t.approved_amount, (unsigned long long)seen_approved);
		return false;
	}
	return true;
}

bool sim_check_banks(struct sim_world *w, bool final)
{
	for (uint8_t i = 0; i < w->bank_count; i++)
		if (!check_bank(w, i, final))
			return false;
	return true;
}

bool sim_check_final(struct sim_world *w)
{
	if (!sim_check_banks(w, true))
		return false;
	uint64_t queued = 0, exceptions = 0;
	if (!sim_switch_saf_counts(&w->sw, &queued, &exceptions)) {
		sim_violation(w, NULL, "the switch's store-and-forward queue is unreadable");
		return false;
	}
	if (exceptions) {
		sim_violation(w, NULL, "%llu reversal advice(s) abandoned to the exception queue", (unsigned long long)exceptions);
		return false;
	}
	if (queued) {
		sim_violation(w, NULL, "%llu reversal advice(s) never acknowledged after healing", (unsigned long long)queued);
		return false;
	}
	for (size_t i = 0; i < w->txn_count; i++) {
		const struct sim_txn *x = &w->txns[i];
		if (x->probe && (x->outcome != TXN_APPROVED && x->outcome != TXN_DECLINED)) {
			sim_violation(w, x, "liveness: probe %s after healing got no answer", x->rrn);
			return false;
		}
		if (x->probe && x->action[0] == '9') {
			sim_violation(w, x, "liveness: probe %s after healing answered %s", x->rrn, x->action);
			return false;
		}
		if ((x->outcome == TXN_TIMED_OUT || x->outcome == TXN_CANCELLED) && !x->reversal_acked) {
			sim_violation(w, x, "the reversal of %s was never acknowledged to its cardholder", x->rrn);
			return false;
		}
	}
	return true;
}
