/*
 * Reversals: the switch's own (after a bank timeout, or an approval the
 * cardholder had reversed first), and the cardholders' 1420/1421, answered by
 * the switch from what it remembers of the original or forwarded to the bank;
 * then the banks' 1430s to either.
 */
#include <string.h>

#include "network_checks.h"
#include "rcu_cell.h"
#include "switch_messages.h"
#include "switch_tx.h"
#include "worker_internal.h"
#include "worker_ownership.h"

void send_reversal(struct switch_worker *w, uint32_t slot, bool repeat)
{
	struct pending_txn *p = &w->pending.slots[slot];
	uint8_t *buf = tx_claim(w);
	tx_commit(w, &p->bank, switch_build_reversal(p, w->id, slot, repeat, buf, SWITCH_TX_BUFFER));
	p->attempts++;
	COUNT(w, reversals);
	timer_wheel_schedule(&w->wheel, slot, w->now_ms + w->core->settings.reversal_retry_ms);
}

/* The switch takes over undoing an authorization at the bank: 1420 now, 1421 until a 1430. */
void start_reversal(struct switch_worker *w, uint32_t slot)
{
	struct pending_txn *p = &w->pending.slots[slot];
	p->kind = PENDING_REVERSAL;
	p->attempts = 0;
	p->bank_original[0] = '\0';
	send_reversal(w, slot, false);
}

static void forward_reversal(struct switch_worker *w, const struct sockaddr_in *peer, const struct iso_msg *m,
			     const struct sockaddr_in *bank, const char *bank_de56)
{
	uint32_t slot = pending_alloc(&w->pending);
	if (slot == UINT32_MAX) {
		COUNT(w, pending_full);
		send_answer(w, peer, m, ACTION_SYSTEM_MALFUNCTION);
		return;
	}
	struct pending_txn *p = &w->pending.slots[slot];
	if (!pending_fields_capture(m, &p->f) || strlen(bank_de56) >= sizeof(p->bank_original)) {
		pending_release(&w->pending, slot);
		send_answer(w, peer, m, ACTION_FORMAT_ERROR);
		return;
	}
	p->kind = PENDING_FORWARDED_REVERSAL;
	p->cardholder = *peer;
	p->bank = *bank;
	strcpy(p->bank_original, bank_de56);
	char stan[7];
	pending_stan(w->id, slot, true, stan);
	uint8_t *buf = tx_claim(w);
	tx_commit(w, bank, switch_build_forwarded_reversal(m, stan, bank_de56, buf, SWITCH_TX_BUFFER));
	p->attempts = 1;
	timer_wheel_schedule(&w->wheel, slot, w->now_ms + w->core->settings.reversal_retry_ms);
	COUNT(w, cardholder_reversals_forwarded);
}

void on_cardholder_reversal(struct switch_worker *w, const struct sockaddr_in *peer, const uint8_t *frame, size_t length,
			    const struct iso_msg *m, bool handed)
{
	struct txn_key key;
	if (!handed)
		COUNT(w, cardholder_reversals);
	char de56[40];
	struct original_data od;
	int n = iso_field_text(m, 56, de56, sizeof(de56));
	if (n < 0 || !original_data_parse(de56, (size_t)n, &od) || !txn_key_of_reversal(m, &key) || !iso_has(m, 2) ||
	    !iso_has(m, 11)) {
		send_answer(w, peer, m, ACTION_FORMAT_ERROR);
		return;
	}
	uint8_t owner = key_owner(w, &key);
	if (owner != w->id) {
		hand_over(w, owner, peer, frame, length);
		return;
	}

	struct outcome *o = outcome_memory_find(&w->outcomes, &key);
	if (o && o->kind == OUTCOME_PENDING) {
		struct pending_txn *p = &w->pending.slots[o->slot];
		if (p->kind == PENDING_AUTHORIZATION && txn_key_equal(&p->key, &key)) {
			/* Still at the bank: the switch will undo an approval itself. */
			p->cardholder_reversed = true;
		}
		COUNT(w, cardholder_reversals_answered);
		send_answer(w, peer, m, ACTION_REVERSAL_ACCEPTED);
		return;
	}
	if (o && (o->kind == OUTCOME_REFUSED || o->kind == OUTCOME_TIMED_OUT)) {
		/* Nothing to undo at the bank, or the switch is undoing it already. */
		COUNT(w, cardholder_reversals_answered);
		send_answer(w, peer, m, ACTION_REVERSAL_ACCEPTED);
		return;
	}
	if (o && o->kind == OUTCOME_APPROVED) {
		memcpy(od.stan, o->bank_stan, 7);
		char bank_de56[40];
		original_data_format(&od, bank_de56, sizeof(bank_de56));
		forward_reversal(w, peer, m, &o->bank, bank_de56);
		return;
	}
	/* Unknown to the switch (forgotten or never seen): the bank decides, and
	 * the switch remembers that the original, should it still come, is void. */
	if (!o) {
		bool existed;
		set_outcome(outcome_memory_upsert(&w->outcomes, &key, &existed), OUTCOME_REVERSED_EARLY, NULL, NULL);
	}
	char pan[20];
	int pan_len = iso_field_text(m, 2, pan, sizeof(pan));
	struct route_hit hit;
	const struct route_table *routes = rcu_cell_read(&w->core->routes);
	if (pan_len < 0 || !routes || !route_table_lookup(routes, pan, (size_t)pan_len, &hit)) {
		COUNT(w, no_route);
		COUNT(w, cardholder_reversals_answered);
		send_answer(w, peer, m, ACTION_ORIGINAL_NOT_FOUND);
		return;
	}
	de56[n] = '\0';
	forward_reversal(w, peer, m, &hit.bank->iso, de56);
}

void on_reversal_answer(struct switch_worker *w, const uint8_t *frame, size_t length, const struct iso_msg *m,
			const struct stan_owner *owner)
{
	/* Rebuilt for the cardholder, not relayed: the frame is not needed. */
	(void)frame;
	(void)length;
	uint32_t slot;
	struct pending_txn *p = pending_match_owned(&w->pending, m, owner, &slot);
	if (!p) {
		/* Typically the bank's answer to a 1421 repeat after its 1430 to the
		 * 1420 already settled the reversal. */
		if (pending_is_late(&w->pending, m))
			COUNT(w, late_responses);
		else
			COUNT(w, unmatched_responses);
		return;
	}
	timer_wheel_cancel(&w->wheel, slot);
	bank_answered(&w->bank_health, &p->bank);
	if (p->kind == PENDING_REVERSAL) {
		COUNT(w, reversals_completed);
	} else {
		/* Back to the cardholder in its own terms: its STAN and its DE 56. */
		uint8_t *buf = tx_claim(w);
		tx_commit(w, &p->cardholder,
			  switch_build_forwarded_reversal(m, p->f.stan, p->f.original, buf, SWITCH_TX_BUFFER));
	}
	pending_release(&w->pending, slot);
}
