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
void settle(struct switch_worker *w, const struct pending_txn *p, enum outcome_kind kind, const char *bank_stan,
	    const struct sockaddr_in *bank);

/* ---- reversal.c ---- */

/* The switch's own reversal of the authorization in slot: 1420, or 1421 for a repeat. */
void send_reversal(struct switch_worker *w, uint32_t slot, bool repeat);
/* The switch takes over undoing an authorization at the bank: 1420 now, 1421 until a 1430. */
void start_reversal(struct switch_worker *w, uint32_t slot);
/* A cardholder's 1420/1421. */
void on_cardholder_reversal(struct switch_worker *w, const struct sockaddr_in *peer, const uint8_t *frame, size_t length,
			    const struct iso_msg *m, bool handed);
/* A bank's 1430, to the switch's reversal or a cardholder's forwarded one. */
void on_reversal_answer(struct switch_worker *w, const uint8_t *frame, size_t length, const struct iso_msg *m,
			const struct stan_owner *owner);

/* ---- worker_timers.c ---- */

/* The timer of the transaction in slot fired (also how the worker settles everything at stop). */
void on_timer(struct switch_worker *w, uint32_t slot);

#endif
