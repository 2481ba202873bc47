/*
 * A scripted stand-in for a switch, for load-generator tests that must not
 * depend on the real switch: answers 1100 by a rule on the STAN and 1420 with
 * 1430/400, on loopback, in its own thread, counting what it did.
 *
 *   STAN % 10 == 7: no answer (the cardholder times out and reverses)
 *   STAN % 10 == 3: 1110 with 116 (not sufficient funds)
 *   STAN % 10 == 9: 1110 with 911 (issuer timed out: answered, but no decision)
 *   STAN % 50 == 1: 1110 with 000, sent twice (a duplicate)
 *   otherwise:      1110 with 000
 *   1420 with STAN % 3 == 0: no answer (the cardholder repeats it as 1421)
 *   1420 with STAN % 3 == 1: 1430 with 909, "not now" (repeated as 1421 too)
 *   other 1420, every 1421: 1430 with 400
 *
 * and, to check that the generator survives bad input, with STAN % 100 == 11
 * it also sends a datagram that is not a frame, a frame that is not ISO 8583,
 * and a well-formed 1110 for a reference number nobody sent.
 */
#ifndef FAKE_SWITCH_H
#define FAKE_SWITCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "udp_port.h"

struct fake_switch {
	struct udp_port port;
	pthread_t thread;
	atomic_bool stop;
	/* Counters, read after fake_switch_stop. */
	uint64_t requests, approved, declined, issuer_timed_out, dropped, duplicated, reversals, malformed;
	uint64_t reversals_ignored, reversals_busy, repeats;
	uint64_t approved_amount;
	uint64_t garbage_datagrams, garbage_frames, strangers;
};

/* Listens on 127.0.0.1:port; 0 or -errno. */
int fake_switch_start(struct fake_switch *s, uint16_t port);
void fake_switch_stop(struct fake_switch *s);

#endif
