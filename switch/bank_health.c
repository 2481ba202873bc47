#include "bank_health.h"

void bank_timed_out(struct bank_health_table *t, const struct sockaddr_in *bank, uint64_t now_ms,
		    uint32_t bank_timeout_ms)
{
	struct bank_health *h = health_of(t, bank);
	if (!h || ++h->consecutive_timeouts < SWITCH_BANK_DOWN_AFTER)
		return;
	uint64_t pause = 4ull * bank_timeout_ms;
	h->down_until_ms = now_ms + (pause > SWITCH_BANK_DOWN_MIN_MS ? pause : SWITCH_BANK_DOWN_MIN_MS);
}
