/*
 * Which worker a transaction belongs to, and handing a message over to it.
 * A cardholder transaction belongs to the worker its key's hash names, so that
 * its 1100, the bank's answer and a later cardholder reversal all meet on one
 * worker; a message that arrives elsewhere goes to the owner through the SPSC
 * ring of that pair of workers.
 */
#ifndef WORKER_OWNERSHIP_H
#define WORKER_OWNERSHIP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "switch_worker.h"
#include "txn_key.h"

/* The worker a key's hash belongs to (no division with a single worker). Inline: once per authorization. */
static inline uint8_t hash_owner(const struct switch_worker *w, uint64_t hash)
{
	uint16_t workers = w->core->worker_count;
	return workers == 1 ? 0 : (uint8_t)(hash % workers);
}

static inline uint8_t key_owner(const struct switch_worker *w, const struct txn_key *key)
{
	return hash_owner(w, txn_key_hash(key));
}

/* Passes the message to its owning worker (dropped and counted when its ring is full). */
void hand_over(struct switch_worker *w, uint8_t owner, const struct sockaddr_in *peer, const uint8_t *frame,
	       size_t length);

#endif
