/*
 * Authorizations: a cardholder's 1100 checked, answered by the switch or
 * forwarded to its bank under the switch's STAN, and the bank's 1110 relayed
 * back; the outcome of each is remembered for the cardholder's reversals.
 * The fast path: one 1100 in and out, one 1110 in and out. A repeat (1101)
 * takes the same path; see on_authorization for what memory does with it.
 */
#include <string.h>

#include "bank_health.h"
#include "clock_source.h"
#include "mti.h"
#include "network_checks.h"
#include "rcu_cell.h"
#include "saf_reloaded_keys.h"
#include "stale_shedding.h"
#include "switch_fields.h"
#include "switch_messages.h"
#include "switch_tx.h"
#include "tsc_clock.h"
#include "worker_internal.h"
#include "worker_ownership.h"

/*
 * Pending slots are reused oldest first (pending_table.h), so the slot an
 * authorization takes has not been touched for a long while: the worker
 * starts loading the slot a few authorizations ahead, with its timer.
 */
#define PENDING_PREFETCH_AHEAD 4

/* Always inlined: GCC takes a function that only loads and prefetches for pure, and drops calls to it. */
static inline __attribute__((always_inline)) void prefetch_pending(const struct switch_worker *w, uint32_t slot)
{
	if (slot == UINT32_MAX)
		return;
	const char *p = (const char *)&w->pending.slots[slot];
	for (size_t at = 0; at < sizeof(struct pending_txn); at += 64)
		__builtin_prefetch(p + at, 1);
	__builtin_prefetch(p + sizeof(struct pending_txn) - 1, 1);
	timer_wheel_prefetch(&w->wheel, slot);
}

void set_outcome(struct outcome *o, enum outcome_kind kind, const char *bank_stan, const struct sockaddr_in *bank)
{
	memset(o, 0, sizeof(*o));
	o->kind = (uint8_t)kind;
	o->action = -1;
	if (bank_stan)
		memcpy(o->bank_stan, bank_stan, 7);
	if (bank)
		o->bank = *bank;
}

/*
 * Records how a pending transaction ended, in place when its entry is still
 * there. The slot stays named: a timed-out transaction's slot carries its
 * reversal advice until the disk has it (reversal.c looks there).
 */
struct outcome *settle(struct switch_worker *w, const struct pending_txn *p, enum outcome_kind kind, const char *bank_stan,
	    const struct sockaddr_in *bank)
{
	struct outcome *o = outcome_memory_at(&w->outcomes, p->outcome_index, &p->key);
	if (!o) {
		bool existed;
		o = outcome_memory_upsert(&w->outcomes, &p->key, &existed);
	}
	set_outcome(o, kind, bank_stan, bank);
	o->slot = (uint32_t)(p - w->pending.slots);
	return o;
}

/* Has the message being handled waited shed_after_ms since it arrived? (stale_shedding.h) */
static bool waited_too_long(struct switch_worker *w)
{
	if (!w->rx_arrival_ns)
		return false; /* UDP, or no stamp: the fast path pays this one test */
	if (!w->realtime_now_ns)
		w->realtime_now_ns = (uint64_t)clock_realtime_ns();
	return stale_request(w->rx_arrival_ns, w->realtime_now_ns, w->core->settings.shed_after_ms);
}

/* The switch's own answer, remembered: a repeat of the transaction hears it again. */
static void refuse(struct switch_worker *w, const struct sockaddr_in *peer, const struct iso_msg *m, struct outcome *o,
		   int action)
{
	send_answer(w, peer, m, action);
	set_outcome(o, OUTCOME_REFUSED, NULL, NULL);
	o->action = (int16_t)action;
}

/*
 * A 1101 of a transaction the switch remembers: the answer the cardholder
 * heard, again (docs/protocol.md, "Repeats"). Never a new trip to the bank:
 * its answer could be lost, and the timeout's reversal would take back an
 * approval the cardholder already heard.
 */
static void answer_again(struct switch_worker *w, const struct sockaddr_in *peer, const struct iso_msg *m,
			 const struct outcome *o)
{
	COUNT(w, repeats);
	if (o->kind == OUTCOME_TIMED_OUT)
		send_answer(w, peer, m, ACTION_ISSUER_TIMEOUT); /* the advice undoing it is queued */
	else if (o->kind == OUTCOME_APPROVED && o->action >= 0 && o->approval[0])
		send_answer_again(w, peer, m, o->action, o->approval);
	else if (o->kind == OUTCOME_REFUSED && o->action >= 0)
		send_answer(w, peer, m, o->action);
	else
		send_answer(w, peer, m, ACTION_DUPLICATE); /* nothing the cardholder heard to repeat */
}

void on_authorization(struct switch_worker *w, const struct sockaddr_in *peer, const uint8_t *frame, size_t length,
		      const struct iso_msg *m, bool handed)
{
	struct txn_key key;
	if (!handed)
		COUNT(w, authorizations);
	if (!txn_key_of_request(m, &key)) {
		/* Without its key the cardholder's answer cannot be remembered, but it can be given. */
		COUNT(w, refused_by_checks);
		send_answer(w, peer, m, ACTION_FORMAT_ERROR);
		return;
	}
	/* One hash (a chain of multiplies) for the owner and the outcome memory. */
	uint64_t key_hash = txn_key_hash(&key);
	uint8_t owner = hash_owner(w, key_hash);
	if (owner != w->id) {
		hand_over(w, owner, peer, frame, length);
		return;
	}
	/* The key's index line loads while the checks run: they only read, so
	 * running them before the duplicate test changes nothing but the order. */
	uint32_t hash = (uint32_t)key_hash;
	outcome_memory_prefetch_hash(&w->outcomes, hash);
	struct network_check_context ctx = {
		.routes = rcu_cell_read(&w->core->routes),
		.cards = rcu_cell_read(&w->core->cards),
		.today_yymm = w->today_yymm,
		.major_industry_id = w->core->settings.major_industry_id,
	};
	struct check_verdict v = network_check_authorization(m, &ctx);
	bool existed;
	struct outcome *o = outcome_memory_upsert_hashed(&w->outcomes, &key, hash, &existed);
	if (existed && o->kind == OUTCOME_REVERSED_EARLY) {
		/* Its reversal overtook it and went to the bank under the cardholder's
		 * STAN, where it left a tombstone this 1100 would not meet under ours:
		 * refusing it here is what keeps a reversed payment from being debited. */
		COUNT(w, reversed_before_original);
		refuse(w, peer, m, o, ACTION_DECLINED);
		return;
	}
	if (existed && o->kind == OUTCOME_PENDING) {
		/* A copy while the original is at the bank: its answer is on its way. */
		COUNT(w, duplicates);
		return;
	}
	if (existed && iso_mti_is_repeat(m->mti)) {
		answer_again(w, peer, m, o);
		return;
	}
	if (existed) {
		/* A retransmission of a settled 1100 is told it is a duplicate. */
		COUNT(w, duplicates);
		send_answer(w, peer, m, ACTION_DUPLICATE);
		return;
	}
	if (stale_shedding_applies(m->mti) && waited_too_long(w)) {
		/* Its acquirer has (nearly) given up on it: a cheap 909, remembered as refused, so
		 * that the reversal it sends behind it is answered here and not propagated. */
		COUNT(w, shed_stale);
		refuse(w, peer, m, o, ACTION_SYSTEM_MALFUNCTION);
		return;
	}
	bool forgotten_repeat = iso_mti_is_repeat(m->mti);
	if (forgotten_repeat && saf_reloaded_keys_has(saf_forwarder_reloaded_keys(w->core->saf), &key)) {
		/*
		 * A repeat of a transaction this switch, before a restart, timed out or
		 * saw reversed, and whose advice it found on disk: the bank may still
		 * hold the original approved, but the advice reverses it. Its 911, not
		 * the bank's approval that is about to be taken back.
		 */
		COUNT(w, repeats);
		send_answer(w, peer, m, ACTION_ISSUER_TIMEOUT);
		set_outcome(o, OUTCOME_TIMED_OUT, NULL, NULL);
		return;
	}
	/* From here every path fills o. */
	if (v.action != ACTION_APPROVED) {
		COUNT(w, refused_by_checks);
		if (v.failure == CHECK_NO_ROUTE)
			COUNT(w, no_route);
		refuse(w, peer, m, o, v.action);
		return;
	}

	/* A forgotten repeat always goes to the bank: its original may be debited there,
	 * and only the bank's answer, or a timeout's reversal, settles that. */
	if (!forgotten_repeat && bank_is_down(&w->bank_health, &v.route.bank->iso, w->now_ms)) {
		COUNT(w, bank_unavailable);
		refuse(w, peer, m, o, ACTION_ISSUER_UNAVAILABLE);
		return;
	}
	if (__builtin_expect(!saf_forwarder_healthy(w->core->saf), 0)) {
		/* An approval that times out must be reversible: not while the disk refuses advices. */
		COUNT(w, saf_unavailable);
		refuse(w, peer, m, o, ACTION_SYSTEM_MALFUNCTION);
		return;
	}
	uint32_t slot = pending_alloc(&w->pending);
	if (slot == UINT32_MAX) {
		COUNT(w, pending_full);
		refuse(w, peer, m, o, ACTION_SYSTEM_MALFUNCTION);
		return;
	}
	prefetch_pending(w, pending_upcoming(&w->pending, PENDING_PREFETCH_AHEAD));
	struct pending_txn *p = &w->pending.slots[slot];
	if (!pending_fields_capture(m, &p->f)) {
		pending_release(&w->pending, slot);
		COUNT(w, refused_by_checks);
		refuse(w, peer, m, o, ACTION_FORMAT_ERROR);
		return;
	}
	p->kind = PENDING_AUTHORIZATION;
	p->cardholder = *peer;
	p->bank = v.route.bank->iso;
	p->key = key;
	set_outcome(o, OUTCOME_PENDING, NULL, NULL);
	o->slot = slot;
	p->outcome_index = outcome_memory_index(&w->outcomes, o);
	char stan[7];
	pending_stan(w->id, slot, false, stan);
	p->forwarded_ns = tsc_now_ns();
	relay_with_stan(w, &p->bank, frame, length, m, stan);
	timer_wheel_schedule(&w->wheel, slot, w->now_ms + w->core->settings.bank_timeout_ms);
	COUNT(w, forwarded);
}

static int action_of(const struct iso_msg *m)
{
	size_t n;
	const uint8_t *s = field_bytes(m, 39, &n);
	if (!s) {
		uint64_t v;
		if (!iso_field_u64(m, 39, &v) || m->fields[39].length != 3)
			return -1;
		return (int)v;
	}
	if (n != 3)
		return -1;
	unsigned d0 = s[0] - '0', d1 = s[1] - '0', d2 = s[2] - '0';
	if (d0 > 9 || d1 > 9 || d2 > 9)
		return -1;
	return (int)(d0 * 100 + d1 * 10 + d2);
}

void on_authorization_answer(struct switch_worker *w, const uint8_t *frame, size_t length, const struct iso_msg *m,
			     const struct stan_owner *owner)
{
	uint32_t slot;
	struct pending_txn *p = pending_match_owned(&w->pending, m, owner, &slot);
	if (!p) {
		if (pending_is_late(&w->pending, m))
			COUNT(w, late_responses);
		else
			COUNT(w, unmatched_responses);
		return;
	}
	if (p->kind == PENDING_ADVICE) {
		/* Timed out already (its reversal advice is on its way to the disk). */
		COUNT(w, late_responses);
		return;
	}
	timer_wheel_cancel(&w->wheel, slot);
	bank_answered_after(&w->bank_health, &p->bank, tsc_now_ns() - p->forwarded_ns);
	int action = action_of(m);
	bool approved = action >= 0 && action < 100;
	char bank_stan[7];
	pending_stan(w->id, slot, false, bank_stan);

	if (p->cardholder_reversed) {
		/* The cardholder reversed it while it was here and has its 1430, given
		 * once its reversal advice for the bank was on disk (reversal.c): that
		 * advice undoes an approval, and the answer is not relayed. What the
		 * bank said is remembered, so that a repeated reversal is judged by it
		 * (an approval's is queued again: the bank's reversal is idempotent). */
		if (approved) {
			COUNT(w, cancelled_approvals);
			settle(w, p, OUTCOME_APPROVED, bank_stan, &p->bank);
		} else {
			COUNT(w, declined);
			settle(w, p, OUTCOME_REFUSED, NULL, NULL);
		}
		pending_release(&w->pending, slot);
		return;
	}
	relay_with_stan(w, &p->cardholder, frame, length, m, p->f.stan);
	struct outcome *o;
	if (approved) {
		COUNT(w, approved);
		o = settle(w, p, OUTCOME_APPROVED, bank_stan, &p->bank);
		field_text(m, 38, o->approval, sizeof(o->approval));
	} else {
		COUNT(w, declined);
		o = settle(w, p, OUTCOME_REFUSED, NULL, NULL);
	}
	/* What the cardholder heard, for its repeats (an answer without DE 39 stays -1: 913). */
	o->action = (int16_t)action;
	pending_release(&w->pending, slot);
}
