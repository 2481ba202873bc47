/*
 * A pending transaction's timer fired: a bank that did not answer an
 * authorization in time (911 to the cardholder, the switch reverses it at the
 * bank), or a reversal still unanswered (repeated as 1421, or abandoned after
 * reversal_max_attempts).
 */
#include "bank_health.h"
#include "network_checks.h"
#include "switch_messages.h"
#include "switch_tx.h"
#include "worker_internal.h"

void on_timer(struct switch_worker *w, uint32_t slot)
{
	struct pending_txn *p = &w->pending.slots[slot];
	switch (p->kind) {
	case PENDING_AUTHORIZATION:
		COUNT(w, timed_out);
		bank_timed_out(&w->bank_health, &p->bank, w->now_ms, w->core->settings.bank_timeout_ms);
		if (!p->cardholder_reversed) {
			uint8_t *buf = tx_claim(w);
			tx_commit(w, &p->cardholder,
				  switch_build_pending_answer(p, ACTION_ISSUER_TIMEOUT, buf, SWITCH_TX_BUFFER));
		}
		settle(w, p, OUTCOME_TIMED_OUT, NULL, NULL);
		start_reversal(w, slot);
		break;
	case PENDING_REVERSAL:
	case PENDING_FORWARDED_REVERSAL:
		if (p->attempts >= w->core->settings.reversal_max_attempts) {
			COUNT(w, reversals_abandoned);
			pending_release(&w->pending, slot);
		} else {
			send_reversal(w, slot, true);
		}
		break;
	default:
		break;
	}
}
