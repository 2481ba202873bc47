/* Datagram batching of a generator thread: frames to the same switch share a datagram. */
#include "loadgen_tx.h"

#include "loadgen_inflight.h"

/* Sends the datagrams built so far; what the port refuses is accounted, never silently lost. */
void loadgen_tx_flush(struct loadgen_worker *w)
{
	if (w->tx_count == 0)
		return;
	struct dgram_port *port = w->shared->port;
	int done = 0;
	for (int attempt = 0; attempt < 4 && done < w->tx_count; attempt++) {
		if (attempt > 0)
			dgram_wait(port, (uint16_t)w->index, 50); /* let the kernel drain its buffer */
		done += dgram_tx_burst(port, (uint16_t)w->index, w->tx + done, w->tx_count - done);
	}
	w->counts.tx_datagrams += (uint64_t)done;
	for (int i = done; i < w->tx_count; i++) {
		for (unsigned f = 0; f < w->tx_frames[i]; f++) {
			uint64_t tag = w->tx_tags[i][f];
			struct pending_entry *e = entry_of(w, tag & ~(REVERSAL_TAG | REPEAT_TAG));
			if (tag & REVERSAL_TAG) {
				/* The reversal never left: it is as unanswered as one lost on the wire. */
				w->counts.reversals_tx_refused++;
				if (tag & REPEAT_TAG)
					w->counts.reversal_repeats--;
				else
					w->counts.reversals_sent--;
				continue;
			}
			if (e->state == PENDING_AWAIT_ANSWER) {
				e->state = PENDING_NOT_SENT;
				w->outstanding--;
			}
			w->counts.sent--;
			w->counts.unsent_tx_refused++;
		}
	}
	w->tx_count = 0;
	for (int n = 0; n < CFG_MAX_NETWORKS; n++)
		w->open_datagram[n] = -1;
}

/* Room for a frame of up to `need` bytes towards a network: the open datagram or a new one. */
struct udp_datagram *loadgen_tx_datagram(struct loadgen_worker *w, unsigned network, size_t need, int *slot)
{
	int open = w->open_datagram[network];
	if (open >= 0 && (w->tx_frames[open] >= w->shared->batch || w->tx_frames[open] >= 64 ||
			  w->tx[open].length + need > w->tx[open].capacity))
		open = -1;
	if (open < 0) {
		if (w->tx_count == UDP_BURST)
			loadgen_tx_flush(w);
		open = w->tx_count++;
		w->tx[open].peer = w->shared->cards->switch_address[network];
		w->tx[open].length = 0;
		w->tx_frames[open] = 0;
		w->open_datagram[network] = open;
	}
	*slot = open;
	return &w->tx[open];
}

/* A datagram opened for a frame that then failed to encode is never sent empty. */
void loadgen_tx_forget_empty(struct loadgen_worker *w, int slot, unsigned network)
{
	if (w->tx_frames[slot] == 0 && slot == w->tx_count - 1) {
		w->tx_count--;
		w->open_datagram[network] = -1;
	}
}

void loadgen_tx_note_frame(struct loadgen_worker *w, int slot, size_t length, uint64_t tag)
{
	w->tx[slot].length += length;
	w->tx_tags[slot][w->tx_frames[slot]++] = tag;
}
