#include "worker_ownership.h"

#include <string.h>

#include "spsc_ring.h"
#include "worker_internal.h"

void hand_over(struct switch_worker *w, uint8_t owner, const struct sockaddr_in *peer, const uint8_t *frame,
	       size_t length)
{
	struct spsc_ring *ring = w->core->rings[w->id][owner];
	struct handover_msg *h = length <= SWITCH_HANDOVER_BYTES ? spsc_ring_claim(ring) : NULL;
	if (!h) {
		COUNT(w, handover_dropped);
		return;
	}
	h->peer = *peer;
	h->rx_arrival_ns = w->rx_arrival_ns;
	h->length = (uint16_t)length;
	memcpy(h->data, frame, length);
	spsc_ring_publish(ring);
	switch_worker_wake(w->core->workers[owner]);
	COUNT(w, handed_over);
}
