/*
 * Shared by the files of one switch worker (switch_worker.c and the message
 * paths it dispatches to): the counting macro and the handlers one path hands
 * a transaction to in another. Not for use outside the worker.
 */
#ifndef WORKER_INTERNAL_H
#define WORKER_INTERNAL_H

#include "switch_worker.h"

/* One writer per counter: a relaxed store is enough for the HTTP thread to read it whole. */
#define COUNT(w, name) __atomic_store_n(&(w)->counters.name, (w)->counters.name + 1, __ATOMIC_RELAXED)

/* authorization.c: a cardholder's 1100 (handed: passed on by another worker, already counted there) ... */
void on_authorization(struct switch_worker *w, const struct sockaddr_in *peer, const uint8_t *frame, size_t length,
		      const struct iso_msg *m, bool handed);
/* ... the bank's 1110 to it, on the worker its STAN (parsed into owner) names ... */
void on_authorization_answer(struct switch_worker *w, const uint8_t *frame, size_t length, const struct iso_msg *m,
			     const struct stan_owner *owner);
/* ... remembering how a transaction ended in its outcome entry o ... */
void set_outcome(struct outcome *o, enum outcome_kind kind, const char *bank_stan, const struct sockaddr_in *bank);
/* ... and recording it for a pending transaction, in place when its entry is still there. */
void settle(struct switch_worker *w, const struct pending_txn *p, enum outcome_kind kind, const char *bank_stan,
	    const struct sockaddr_in *bank);

/* reversal.c: the switch's own reversal of the authorization in slot (1420, or a 1421 repeat) ... */
void send_reversal(struct switch_worker *w, uint32_t slot, bool repeat);
/* ... and the switch taking over undoing an authorization at the bank: 1420 now, 1421 until a 1430. */
void start_reversal(struct switch_worker *w, uint32_t slot);
/* A cardholder's 1420/1421 (handed: passed on by another worker, already counted there). */
void on_cardholder_reversal(struct switch_worker *w, const struct sockaddr_in *peer, const uint8_t *frame, size_t length,
			    const struct iso_msg *m, bool handed);
/* A bank's 1430, to the switch's reversal or a cardholder's forwarded one. */
void on_reversal_answer(struct switch_worker *w, const struct iso_msg *m);

/* worker_timers.c: the timer of the transaction in slot fired (also used to settle everything at stop). */
void on_timer(struct switch_worker *w, uint32_t slot);

#endif
