/*
 * A switch core over the in-memory port (memory_port.h), its workers and its
 * store-and-forward forwarder stepped by the test at times the test gives, on
 * a fresh LMDB directory with throwaway PAN keys: what the worker tests share.
 * Criterion runs each test in a process of its own, so the harness's parts are
 * plain globals the tests use by name: one switch per test.
 */
#ifndef WORKER_HARNESS_H
#define WORKER_HARNESS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "ecosystem_config.h"
#include "memory_port.h"
#include "message_builder.h"
#include "switch_core.h"

extern struct ecosystem_config cfg; /* mastercard, two banks (worker_test_config.h), short timers */
extern struct memory_port mem;
extern struct switch_core *sw;
extern struct sockaddr_in holder_addr, bank_addr; /* a cardholder's address; big_bank's ISO address */
extern uint64_t t0;                     /* the workers' clock at start (ms) */

/* The switch with `workers` workers, before any poll; `tag` names its temporary directory. */
void worker_harness_start(uint16_t workers, const char *tag);
void worker_harness_stop(void);

/* The forwarder, then every worker, at `now`, until none has work left (hand-overs take a second round). */
void poll_all(uint64_t now);

/* A frame the switch sent, decoded. */
struct sent {
	struct memory_datagram d;
	struct iso_msg m;
};
/* The next frame the switch sent; false when there is none. */
bool next_sent(struct sent *s);
/* A 1100 for big_bank's k-th card. */
void card_request(struct test_msg *t, size_t k, const char *stan);
/* The switch's counters summed over its workers. */
struct switch_counters totals(void);

#endif
