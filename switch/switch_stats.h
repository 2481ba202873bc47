/* Per-worker counters: each written by its worker only, read by the HTTP thread.
 * X(name, help): the help text is what /metrics says of the counter. */
#ifndef SWITCH_STATS_H
#define SWITCH_STATS_H

#include <stdint.h>

#define SWITCH_COUNTERS(X)                                                                                  \
	X(received, "messages taken off the wire")                                                          \
	X(authorizations, "1100 from cardholders")                                                          \
	X(repeats, "1101 answered by the switch: the answer the cardholder heard, again (or 911)")          \
	X(forwarded, "1100 sent on to a bank")                                                              \
	X(approved, "bank approvals relayed to cardholders")                                                \
	X(declined, "bank refusals relayed to cardholders")                                                 \
	X(refused_by_checks, "1100 answered by the switch's own checks")                                    \
	X(no_route, "1100 refused by the checks because the BIN has no route")                              \
	X(bank_unavailable, "answered 912: the bank let too many time out in a row")                        \
	X(timed_out, "1100 answered 911 after bank_timeout_ms")                                             \
	X(reversals, "switch's own reversal advices queued (timeouts, cancelled approvals)")                \
	X(cardholder_reversals, "1420/1421 from cardholders")                                               \
	X(cardholder_reversals_forwarded, "cardholder reversals stored for their bank")                     \
	X(advices_not_stored, "the disk refused the advice: 909 to the cardholder")                         \
	X(advice_answers, "banks' 1430s passed to the store-and-forward queue")                             \
	X(saf_ring_full, "a hand-over to the forwarder found its ring full (retried)")                      \
	X(saf_unavailable, "1100 answered 909: the queue cannot store advices right now")                   \
	X(cardholder_reversals_answered, "cardholder reversals answered 1430 by the switch itself")         \
	X(cancelled_approvals, "approvals reversed because the cardholder reversed first")                  \
	X(duplicates, "1100 for a transaction already seen")                                                \
	X(reversed_before_original, "1100 refused: the cardholder had reversed it before it came")          \
	X(malformed, "datagrams or messages that failed framing or decoding")                               \
	X(unsupported, "well-formed messages of an MTI the switch does not handle")                         \
	X(late_responses, "bank answers after the switch timed the transaction out")                        \
	X(unmatched_responses, "bank answers matching no transaction (stale, foreign, forged)")             \
	X(handed_over, "messages passed to the owning worker")                                              \
	X(handover_dropped, "hand-overs dropped: the owning worker's ring was full")                        \
	X(pending_full, "no free pending slot: answered 909")                                               \
	X(shed_stale, "new 1100 answered 909, not forwarded: waited shed_after_ms since it arrived (TCP)")   \
	X(mac_refused, "missing or wrong MAC: requests answered 916, answers dropped (per link: iso_mac)")  \
	X(tx_dropped, "datagrams the port did not accept")

struct switch_counters {
#define SWITCH_COUNTER_FIELD(name, help) uint64_t name;
	SWITCH_COUNTERS(SWITCH_COUNTER_FIELD)
#undef SWITCH_COUNTER_FIELD
};

#endif
