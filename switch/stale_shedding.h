/*
 * Shedding stale requests at the switch (docs/tcp.md, "Past saturation").
 *
 * Over TCP a switch that falls behind stops reading its acquirers' links, and
 * their requests wait in the kernel until the acquirer has timed them out and
 * sent reversals behind them. Processing such a request at full cost (a bank
 * round trip, a debit, then its reversal) is work nobody waits for any more,
 * and it is what collapses goodput past saturation. So a new 1100 that has
 * waited shed_after_ms since the kernel took it in (its TCP arrival stamp) is
 * answered 909 at once, never forwarded, and remembered as refused: its
 * reversal is then answered by the switch and not propagated to the bank.
 *
 * Only a new 1100 is shed: a 1101 may repeat a transaction the bank holds
 * (only the bank's answer or a reversal settles it), reversals and bank
 * answers settle what is owed, and a message without a stamp (UDP, or
 * stamping not live yet) is never judged by age.
 */
#ifndef STALE_SHEDDING_H
#define STALE_SHEDDING_H

#include <stdbool.h>
#include <stdint.h>

/* The MTIs shedding may answer in place of the bank. */
static inline bool stale_shedding_applies(uint16_t mti)
{
	return mti == 1100;
}

/*
 * True when a request that arrived at arrival_ns (CLOCK_REALTIME ns; 0 =
 * unknown) has waited at least shed_after_ms (0 = never shed) by now_ns. A
 * clock stepped back below the stamp is no age: not stale. (The kernel stamps
 * in CLOCK_REALTIME only: a step forward of more than shed_after_ms sheds the
 * requests queued at that moment, once.)
 */
static inline bool stale_request(uint64_t arrival_ns, uint64_t now_ns, uint32_t shed_after_ms)
{
	if (shed_after_ms == 0 || arrival_ns == 0 || now_ns <= arrival_ns)
		return false;
	return now_ns - arrival_ns >= (uint64_t)shed_after_ms * 1000000u;
}

#endif
