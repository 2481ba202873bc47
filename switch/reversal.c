/*
 * Reversals: the switch's own (after a bank timeout, or an approval the
 * cardholder had reversed first), and the cardholders' 1420/1421, answered by
 * the switch from what it remembers of the original or queued for the bank.
 * Every advice a bank must get goes through the store-and-forward queue
 * (saf/): it is on disk before anyone is told, repeated until the bank's 1430
 * and never abandoned. The slot only waits for the disk; the queue does the
 * rest, and takes the banks' 1430s.
 */
#include <string.h>

#include "network_checks.h"
#include "rcu_cell.h"
#include "saf_messages.h"
#include "switch_core.h"
#include "switch_fields.h"
#include "switch_messages.h"
#include "switch_tx.h"
#include "worker_internal.h"
#include "worker_ownership.h"

/*
 * Hands the advice of a PENDING_ADVICE slot to the forwarder; on a full ring,
 * again on the next millisecond's timer (the record is rebuilt from the slot).
 */
void submit_advice(struct switch_worker *w, uint32_t slot)
{
	struct pending_txn *p = &w->pending.slots[slot];
	char bank[SAF_BANK_NAME_MAX];
	switch_core_bank_name(w->core, &p->bank, bank, sizeof(bank));
	struct saf_record r;
	saf_record_of_pending(p, w->id, slot, bank, &r);
	p->kind = PENDING_ADVICE;
	p->advice_submitted = saf_submit_advice(w->core->saf, w->id, slot, &r);
	if (!p->advice_submitted) {
		COUNT(w, saf_ring_full);
		timer_wheel_schedule(&w->wheel, slot, w->now_ms + 1);
	}
}

void queue_switch_reversal(struct switch_worker *w, uint32_t slot, enum advice_answer answer)
{
	struct pending_txn *p = &w->pending.slots[slot];
	p->answer = (uint8_t)answer;
	p->bank_original[0] = '\0';
	COUNT(w, reversals);
	submit_advice(w, slot);
}

static void queue_cardholder_reversal(struct switch_worker *w, const struct sockaddr_in *peer, const struct iso_msg *m,
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
	strcpy(p->bank_original, bank_de56);
	p->cardholder = *peer;
	p->bank = *bank;
	p->answer = ADVICE_ANSWERS_1430;
	COUNT(w, cardholder_reversals_forwarded);
	submit_advice(w, slot);
}

/*
 * The cardholder's reversal of the transaction in `slot` (still at the bank,
 * or timed out with the switch's own advice not yet on disk), for the bank
 * under the STAN the switch gave the original. The cardholder hears 1430 only
 * once this advice is on disk: a switch killed in between still undoes an
 * approval the bank gives later, and a reversal that overtakes its original
 * leaves the bank a tombstone, so the original is then declined.
 */
static void reverse_pending_at_bank(struct switch_worker *w, const struct sockaddr_in *peer, const struct iso_msg *m,
				    struct original_data *od, uint32_t slot)
{
	struct sockaddr_in bank = w->pending.slots[slot].bank;
	char bank_de56[40];
	pending_stan(w->id, slot, false, od->stan);
	original_data_format(od, bank_de56, sizeof(bank_de56));
	queue_cardholder_reversal(w, peer, m, &bank, bank_de56);
}

/* True when the slot the outcome names still holds the transaction `key`, as a `kind`. */
static bool still_pending(const struct switch_worker *w, const struct outcome *o, const struct txn_key *key,
			  uint8_t kind)
{
	if (o->slot >= w->pending.capacity)
		return false;
	const struct pending_txn *p = &w->pending.slots[o->slot];
	return p->kind == kind && txn_key_equal(&p->key, key);
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
	if (o && o->kind == OUTCOME_PENDING && still_pending(w, o, &key, PENDING_AUTHORIZATION)) {
		/* Still at the bank: its answer is not relayed, and an approval is undone. */
		w->pending.slots[o->slot].cardholder_reversed = true;
		reverse_pending_at_bank(w, peer, m, &od, o->slot);
		return;
	}
	if (o && o->kind == OUTCOME_TIMED_OUT && still_pending(w, o, &key, PENDING_ADVICE)) {
		/* The switch's own advice is on its way to the disk, not there yet. */
		reverse_pending_at_bank(w, peer, m, &od, o->slot);
		return;
	}
	if (o && (o->kind == OUTCOME_PENDING || o->kind == OUTCOME_REFUSED || o->kind == OUTCOME_TIMED_OUT)) {
		/* Nothing to undo at the bank, or the switch's advice undoing it is on disk. */
		COUNT(w, cardholder_reversals_answered);
		send_answer(w, peer, m, ACTION_REVERSAL_ACCEPTED);
		return;
	}
	if (o && o->kind == OUTCOME_APPROVED) {
		memcpy(od.stan, o->bank_stan, 7);
		char bank_de56[40];
		original_data_format(&od, bank_de56, sizeof(bank_de56));
		queue_cardholder_reversal(w, peer, m, &o->bank, bank_de56);
		return;
	}
	/* Unknown to the switch (forgotten, never seen, or from before a restart):
	 * the bank decides (it finds an original journaled under another STAN by
	 * DE 12, 32, 37 and 41), and the switch remembers that the original,
	 * should it still come, is void. */
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
	queue_cardholder_reversal(w, peer, m, &hit.bank->iso, de56);
}

void on_reversal_answer(struct switch_worker *w, const struct sockaddr_in *peer, const uint8_t *frame, size_t length,
			const struct iso_msg *m, bool handed)
{
	(void)frame;
	(void)length;
	(void)handed;
	char original[36], rrn[13], terminal[9], action[4];
	if (field_text(m, 56, original, sizeof(original)) <= 0 || field_text(m, 37, rrn, sizeof(rrn)) <= 0 ||
	    field_text(m, 41, terminal, sizeof(terminal)) <= 0 || field_text(m, 39, action, sizeof(action)) != 3) {
		COUNT(w, unmatched_responses);
		return;
	}
	bank_answered(&w->bank_health, peer);
	COUNT(w, advice_answers);
	int code = (action[0] - '0') * 100 + (action[1] - '0') * 10 + (action[2] - '0');
	if (!saf_submit_acknowledgement(w->core->saf, w->id, original, rrn, terminal, code))
		COUNT(w, saf_ring_full); /* the advice is repeated and answered again */
}

void drain_saf_replies(struct switch_worker *w, unsigned *work)
{
	const struct saf_reply *r;
	for (int i = 0; i < SAF_REPLIES_PER_POLL && (r = saf_reply_peek(w->core->saf, w->id)) != NULL; i++) {
		(*work)++;
		if (r->kind == SAF_REPLY_TRANSMIT) {
			uint8_t *buf = tx_claim(w);
			memcpy(buf, r->frame, r->length);
			tx_commit_sealed(w, &r->to, r->length); /* built by saf_build_advice with its MAC element */
			saf_reply_release(w->core->saf, w->id);
			continue;
		}
		uint32_t slot = r->slot;
		bool stored = r->kind == SAF_REPLY_STORED;
		saf_reply_release(w->core->saf, w->id);
		if (slot >= w->pending.capacity || w->pending.slots[slot].kind != PENDING_ADVICE)
			continue;
		struct pending_txn *p = &w->pending.slots[slot];
		if (!stored)
			COUNT(w, advices_not_stored);
		/* Only now that the advice survives a crash is the cardholder told. */
		if (p->answer == ADVICE_ANSWERS_911) {
			uint8_t *buf = tx_claim(w);
			tx_commit_sealed(w, &p->cardholder,
				  switch_build_pending_answer(p, stored ? ACTION_ISSUER_TIMEOUT : ACTION_SYSTEM_MALFUNCTION,
							      buf, SWITCH_TX_BUFFER));
		} else if (p->answer == ADVICE_ANSWERS_1430) {
			uint8_t *buf = tx_claim(w);
			tx_commit_sealed(w, &p->cardholder,
				  switch_build_pending_reversal_answer(
					  p, stored ? ACTION_REVERSAL_ACCEPTED : ACTION_SYSTEM_MALFUNCTION, buf,
					  SWITCH_TX_BUFFER));
		}
		pending_release(&w->pending, slot);
	}
}
