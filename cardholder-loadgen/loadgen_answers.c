/* Answers coming back to a generator thread: 1110 and 1430 matched to what it sent. */
#include "loadgen_answers.h"

#include "datagram_frames.h"
#include "loadgen_inflight.h"
#include "loadgen_outcomes.h"
#include "tsc_clock.h"

#include <time.h>

static void record_answer(struct loadgen_worker *w, struct pending_entry *e, uint64_t now_ns, unsigned code)
{
	uint64_t intended = w->shared->start_ns + e->intended_ns;
	uint64_t latency = now_ns > intended ? now_ns - intended : 0; /* a stamp's conversion may err by a few ns */
	latency_histogram_record(&w->latency, latency);
	latency_histogram_record(&w->current.latency, latency);
	w->current.answered++;
	w->counts.answered++;
	w->counts.by_code[code]++;
	if (code == 0)
		w->counts.approved_amount += e->amount;
	e->state = PENDING_ANSWERED;
	w->outstanding--;
	loadgen_outcome_write(w, e, (int)code, LOADGEN_OUTCOME_NONE);
	w->last_answer_ns = now_ns;
}

/* A 1430 that ends a reversal: accepted (400-499), or nothing to reverse (914). As the switch
 * judges its own advices (switch/saf/saf_forwarder.c). */
static bool reversal_settled_by(unsigned code)
{
	return (code >= 400 && code <= 499) || code == 914;
}

static void handle_message(struct loadgen_worker *w, const uint8_t *frame, size_t length, uint64_t now_ns)
{
	struct iso_msg m;
	struct iso_error err;
	if (iso_decode(&iso_profile_ascii, frame, length, &m, &err) != ISO_OK) {
		w->counts.malformed++;
		return;
	}
	if (m.mti != 1110 && m.mti != 1430) {
		w->counts.unexpected_mti++;
		return;
	}
	char rrn[16], terminal_text[16];
	unsigned thread, terminal;
	uint64_t sequence, stan, code;
	int rrn_len = iso_field_text(&m, 37, rrn, sizeof rrn);
	int terminal_len = iso_field_text(&m, 41, terminal_text, sizeof terminal_text);
	if (rrn_len < 0 || terminal_len < 0 || !iso_field_u64(&m, 11, &stan) || !iso_field_u64(&m, 39, &code) ||
	    code >= LOADGEN_ACTION_CODES) {
		w->counts.malformed++;
		return;
	}
	if (!loadgen_rrn_parse(rrn, (size_t)rrn_len, &thread, &sequence) || thread != w->index ||
	    !loadgen_terminal_parse(terminal_text, (size_t)terminal_len, &thread, &terminal) || thread != w->index) {
		w->counts.unmatched++;
		return;
	}
	struct pending_entry *e = entry_of(w, sequence);
	if (e->sequence != sequence || e->terminal != terminal || e->state == PENDING_FREE ||
	    e->state == PENDING_NOT_SENT) {
		w->counts.unmatched++;
		return;
	}
	/* Nothing an answer says counts before its MAC is checked under its network's acquirer link. */
	if (w->shared->mac_keys &&
	    !iso_mac_accepted(iso_mac_view_check(&w->mac, (int)w->shared->cards->cards[e->card].network, &m, frame,
						 length))) {
		w->counts.mac_refused++;
		return;
	}
	if (m.mti == 1110) {
		if (stan != e->stan) {
			w->counts.unmatched++;
			return;
		}
		if (e->state == PENDING_AWAIT_ANSWER) {
			record_answer(w, e, now_ns, (unsigned)code);
		} else if (e->state == PENDING_ANSWERED || e->late_seen) {
			w->counts.duplicates++;
		} else {
			/* Answer after the cardholder gave up: it has already reversed. */
			e->late_seen = true;
			w->counts.late_answers++;
			if (code == 0)
				w->counts.late_approved++;
		}
		return;
	}
	if (stan != e->reversal_stan) {
		w->counts.unmatched++;
		return;
	}
	if (e->state == PENDING_AWAIT_REVERSAL) {
		if (!reversal_settled_by(code)) {
			/* The network could not take it now (a full pending table, a store that failed):
			 * the reversal still stands, and is repeated as 1421 when this attempt's time is up,
			 * like one nobody answered. Taking a 909 as the end would leave the debit. */
			w->counts.reversal_unsettled_answers++;
			return;
		}
		w->counts.reversals_answered++;
		w->counts.reversal_by_code[code]++;
		e->state = PENDING_REVERSED;
		w->outstanding--;
		loadgen_outcome_write(w, e, LOADGEN_OUTCOME_TIMEOUT, (int)code);
	} else if (e->state == PENDING_REVERSED && e->reversal_attempts > 1) {
		/* The other attempts' 1430s: one answer per 1420/1421 is expected. */
		w->counts.extra_reversal_answers++;
	} else if (e->state == PENDING_REVERSAL_LOST) {
		w->counts.late_reversal_answers++;
		if (code == 400)
			w->counts.late_reversal_accepted++;
		e->state = PENDING_REVERSED;
	} else {
		w->counts.duplicates++;
	}
}

unsigned loadgen_receive(struct loadgen_worker *w)
{
	int got = dgram_rx_burst(w->shared->port, (uint16_t)w->index, w->rx, UDP_BURST);
	if (got <= 0)
		return 0;
	uint64_t now_ns = tsc_now_ns();
	/* With the kernel's arrival stamps (realtime), an answer read late still counts from when it
	 * came: the generator need not wake for each one (loadgen_worker.c). */
	int64_t realtime_to_tsc = 0;
	if (w->shared->rx_stamps) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		realtime_to_tsc = (int64_t)now_ns - ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
	}
	for (int i = 0; i < got; i++) {
		w->counts.rx_datagrams++;
		/* As the agents: a datagram that does not split into whole frames is
		 * dropped as a whole (an empty one is what the port left of a truncated one). */
		struct datagram_frames frames;
		if (w->rx[i].length == 0 || !datagram_frames_open(&frames, w->rx[i].data, w->rx[i].length)) {
			w->counts.malformed++;
			continue;
		}
		const uint8_t *msg;
		size_t msg_len;
		uint64_t arrived_ns = now_ns;
		if (w->shared->rx_stamps && w->rx[i].rx_realtime_ns) {
			int64_t stamp = (int64_t)w->rx[i].rx_realtime_ns + realtime_to_tsc;
			arrived_ns = stamp > 0 && (uint64_t)stamp < now_ns ? (uint64_t)stamp : now_ns;
		}
		while (datagram_frames_next(&frames, &msg, &msg_len))
			handle_message(w, msg, msg_len, arrived_ns);
	}
	return (unsigned)got;
}
