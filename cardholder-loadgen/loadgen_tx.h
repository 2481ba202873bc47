/*
 * A generator thread's outgoing datagrams: frames due together towards the
 * same switch share a datagram (up to the batch size and 1472 bytes), up to
 * UDP_BURST datagrams leave in one tx burst, and whatever the port refuses is
 * accounted for request by request (never silently lost).
 */
#ifndef LOADGEN_TX_H
#define LOADGEN_TX_H

#include <stddef.h>
#include <stdint.h>

#include "loadgen_worker.h"

/* Room for a frame of up to `need` bytes towards a network: the open datagram or a new one (slot index in *slot). */
struct udp_datagram *loadgen_tx_datagram(struct loadgen_worker *w, unsigned network, size_t need, int *slot);
/* Records a frame of `length` bytes just written at the end of datagram `slot`, tagged (loadgen_inflight.h). */
void loadgen_tx_note_frame(struct loadgen_worker *w, int slot, size_t length, uint64_t tag);
/* Drops a datagram opened for a frame that then failed to encode. */
void loadgen_tx_forget_empty(struct loadgen_worker *w, int slot, unsigned network);
/* Sends every datagram built so far. */
void loadgen_tx_flush(struct loadgen_worker *w);

#endif
