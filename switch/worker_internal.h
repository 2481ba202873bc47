/*
 * Shared by the files of one switch worker (switch_worker.c and the message
 * paths it dispatches to): the counting macro, the handlers of its MTI table
 * and what one path hands a transaction to in another. Not for use outside
 * the worker.
 */
#ifndef WORKER_INTERNAL_H
#define WORKER_INTERNAL_H

#include "switch_worker.h"

/* One writer per counter: a relaxed store is enough for the HTTP thread to read it whole. */
#define COUNT(w, name) __atomic_store_n(&(w)->counters.name, (w)->counters.name + 1, __ATOMIC_RELAXED)

/*
 * The two kinds of message handlers switch_worker.c dispatches to by MTI:
 * requests, handed true when another worker received the message (and counted
 * it), and bank answers, on the worker their STAN (parsed into owner) names.
 */
typedef void request_handler(struct switch_worker *w, const struct sockaddr_in *peer, const uint8_t *frame,
			     size_t length, const struct iso_msg *m, bool handed);
typedef void answer_handler(struct switch_worker *w, const uint8_t *frame, size_t length, const struct iso_msg *m,
			    const struct stan_owner *owner);

/* ---- authorization.c ---- */

/* A cardholder's 1100. */
void on_authorization(struct switch_worker *w, const struct sockaddr_in *peer, const uint8_t *frame, size_t length,
		      const struct iso_msg *m, bool handed);
/* The bank's 1110 to a forwarded 1100. */
void on_authorization_answer(struct switch_worker *w, const uint8_t *frame, size_t length, const struct iso_msg *m,
			     const struct stan_owner *owner);
/* Remembers how a transaction ended in its outcome entry o. */
void set_outcome(struct outcome *o, enum outcome_kind kind, const char *bank_stan, const struct sockaddr_in *bank);
/* The same for a pending transaction, in place when its entry is still there. */
struct outcome *settle(struct switch_worker *w, const struct pending_txn *p, enum outcome_kind kind, const char *bank_stan,
	    const struct sockaddr_in *bank);

/* ---- reversal.c ---- */

#define SAF_REPLIES_PER_POLL 64

/*
 * The switch takes over undoing the authorization in slot: its advice goes to
 * the store-and-forward queue; once it is on disk, `answer` says whom the slot
 * tells (the cardholder's 911 after a bank timeout, nobody after a cancelled
 * approval), and the slot is free.
 */
void queue_switch_reversal(struct switch_worker *w, uint32_t slot, enum advice_answer answer);
/* (Again) hands the advice of a PENDING_ADVICE slot to the forwarder. */
void submit_advice(struct switch_worker *w, uint32_t slot);
/* A cardholder's 1420/1421. */
void on_cardholder_reversal(struct switch_worker *w, const struct sockaddr_in *peer, const uint8_t *frame, size_t length,
			    const struct iso_msg *m, bool handed);
/*
 * A bank's 1430: to the store-and-forward queue, whichever worker it reached
 * (it names its advice by DE 56, 37 and 41, not by a slot).
 */
void on_reversal_answer(struct switch_worker *w, const struct sockaddr_in *peer, const uint8_t *frame, size_t length,
			const struct iso_msg *m, bool handed);
/* The forwarder's replies to this worker: advices on disk (answer and free the slot), frames to send. */
void drain_saf_replies(struct switch_worker *w, unsigned *work);

/* ---- worker_timers.c ---- */

/* The timer of the transaction in slot fired (also how the worker settles everything at stop). */
void on_timer(struct switch_worker *w, uint32_t slot);

#endif
