#include "switch_tx.h"

#include "worker_internal.h"

void flush_tx(struct switch_worker *w)
{
	if (w->tx_count == 0)
		return;
	int sent = dgram_tx_burst(w->core->port, w->id, w->tx, w->tx_count);
	if (sent < 0)
		sent = 0;
	for (int i = sent; i < w->tx_count; i++)
		for (uint16_t f = 0; f < w->tx_frames[i]; f++)
			COUNT(w, tx_dropped);
	w->tx_count = 0;
}
