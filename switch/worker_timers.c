/*
 * A pending transaction's timer fired: a bank that did not answer an
 * authorization in time (the switch queues its reversal advice; the
 * cardholder gets 911 once the advice is on disk), or an advice whose
 * hand-over to the store-and-forward thread found its ring full (again).
 */
#include "bank_health.h"
#include "worker_internal.h"

void on_timer(struct switch_worker *w, uint32_t slot)
{
	struct pending_txn *p = &w->pending.slots[slot];
	switch (p->kind) {
	case PENDING_AUTHORIZATION:
		COUNT(w, timed_out);
		bank_timed_out(&w->bank_health, &p->bank, w->now_ms, w->core->settings.bank_timeout_ms);
		settle(w, p, OUTCOME_TIMED_OUT, NULL, NULL);
		/* A cardholder who reversed while the bank was silent has its 1430 already. */
		queue_switch_reversal(w, slot, p->cardholder_reversed ? ADVICE_TELLS_NOBODY : ADVICE_ANSWERS_911);
		break;
	case PENDING_ADVICE:
		if (!p->advice_submitted)
			submit_advice(w, slot);
		break;
	default:
		break;
	}
}
