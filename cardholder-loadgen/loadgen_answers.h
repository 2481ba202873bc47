/*
 * What comes back to a generator thread: every datagram split into frames,
 * every frame decoded, every 1110/1430 matched to its request by DE 37 (thread
 * and sequence), then checked against DE 11 and DE 41. Answers in time are
 * recorded (latency from the intended send time, action code); late ones,
 * duplicates, strangers and garbage are counted, never trusted.
 */
#ifndef LOADGEN_ANSWERS_H
#define LOADGEN_ANSWERS_H

#include "loadgen_worker.h"

/* One rx burst from the thread's queue; returns the datagrams handled. */
unsigned loadgen_receive(struct loadgen_worker *w);

#endif
