#include "loadgen_interval_collector.h"

#include "loadgen_report.h"

/*
 * Emits every row all workers have published (or will never publish, having
 * finished). A worker's k-th publication is its k-th second, unless it had to
 * fold seconds together, which shows as a second it skipped.
 */
void interval_collector_collect(struct interval_collector *c, struct loadgen_worker *workers, unsigned threads,
				bool final)
{
	for (;;) {
		bool ready = true, any_data = false, all_finished = true;
		for (unsigned t = 0; t < threads; t++) {
			struct loadgen_worker *w = &workers[t];
			bool finished = atomic_load_explicit(&w->finished, memory_order_acquire);
			uint64_t published = atomic_load_explicit(&w->published, memory_order_acquire);
			uint64_t consumed = atomic_load_explicit(&w->consumed, memory_order_relaxed);
			all_finished &= finished;
			if (published > consumed)
				any_data = true;
			else if (!finished && !final)
				ready = false;
		}
		if (!ready || !any_data)
			return;
		(void)all_finished;
		latency_histogram_reset(&c->row);
		uint64_t sent = 0, answered = 0, timeouts = 0;
		for (unsigned t = 0; t < threads; t++) {
			struct loadgen_worker *w = &workers[t];
			uint64_t published = atomic_load_explicit(&w->published, memory_order_acquire);
			uint64_t consumed = atomic_load_explicit(&w->consumed, memory_order_relaxed);
			if (published == consumed)
				continue;
			const struct loadgen_interval *slot = &w->ring[consumed % LOADGEN_INTERVAL_RING];
			if (slot->second > c->next_second)
				continue; /* this worker folded this second into a later row */
			latency_histogram_merge(&c->row, &slot->latency);
			sent += slot->sent;
			answered += slot->answered;
			timeouts += slot->timeouts;
			atomic_store_explicit(&w->consumed, consumed + 1, memory_order_release);
		}
		latency_histogram_merge(&c->so_far, &c->row);
		c->sent_total += sent;
		c->answered_total += answered;
		if (c->file)
			loadgen_intervals_row(c->file, c->next_second, sent, answered, timeouts, &c->row);
		if (c->progress)
			fprintf(stderr,
				"[%4llus] sent %llu answered %llu rate %llu/s p99 %.1fus (so far %.1fus) timeouts %llu\n",
				(unsigned long long)c->next_second + 1, (unsigned long long)c->sent_total,
				(unsigned long long)c->answered_total, (unsigned long long)answered,
				(double)latency_histogram_value_at_percentile(&c->row, 99) / 1000.0,
				(double)latency_histogram_value_at_percentile(&c->so_far, 99) / 1000.0,
				(unsigned long long)timeouts);
		c->next_second++;
	}
}
