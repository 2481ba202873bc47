#include "loadgen_summary_merge.h"

#include <string.h>
#include <sys/resource.h>

void loadgen_summary_merge(struct loadgen_summary *summary, const struct loadgen_worker *workers, unsigned threads,
			   const struct loadgen_shared *shared, const char *dataplane, struct latency_histogram *merged,
			   struct latency_histogram *lag)
{
	uint64_t start_ns = shared->start_ns;
	memset(summary, 0, sizeof(*summary));
	uint64_t last_send = start_ns, last_answer = start_ns;
	for (unsigned t = 0; t < threads; t++) {
		const struct loadgen_worker *w = &workers[t];
		latency_histogram_merge(merged, &w->latency);
		latency_histogram_merge(lag, &w->send_lag);
		loadgen_counts_add(&summary->counts, &w->counts);
		summary->interval_overruns += w->interval_overruns;
		if (w->last_send_ns > last_send)
			last_send = w->last_send_ns;
		if (w->last_answer_ns > last_answer)
			last_answer = w->last_answer_ns;
	}
	const struct loadgen_counts *c = &summary->counts;
	summary->plan = shared->plan;
	summary->threads = threads;
	summary->dataplane = dataplane;
	summary->latency = merged;
	summary->send_lag = lag;
	summary->planned = c->sent + c->unsent_behind + c->unsent_tx_refused + c->unsent_table_full + c->not_sent_link_congested +
			   c->encode_errors;
	summary->send_seconds = (double)(last_send - start_ns) / 1e9;
	summary->answer_seconds = (double)(last_answer - start_ns) / 1e9;
	/* One request at time 0 took no time to send: rates count gaps, not arrivals. */
	summary->offered_rate =
		summary->send_seconds > 0 ? (double)(c->sent > 1 ? c->sent - 1 : 0) / summary->send_seconds : 0;
	summary->throughput = summary->answer_seconds > 0 ? (double)c->answered / summary->answer_seconds : 0;
	summary->decided = loadgen_decided_answers(c);
	summary->decided_rate = summary->answer_seconds > 0 ? (double)summary->decided / summary->answer_seconds : 0;
	struct rusage usage;
	if (getrusage(RUSAGE_SELF, &usage) == 0) {
		summary->cpu_user_s = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6;
		summary->cpu_system_s = (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
	}
}
