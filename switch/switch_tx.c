#include "switch_tx.h"

#include "worker_internal.h"

size_t relay_reencode_with_mac(const struct iso_msg *m, const char *stan, uint8_t *buf, size_t capacity)
{
	struct iso_msg copy = *m;
	iso_set(&copy, 11, stan, 6);
	return switch_encode_framed(&copy, buf, capacity); /* reserves the MAC element */
}

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
