#include "bank_metrics.h"

#include <stdio.h>

#include "prometheus.h"
#include "rate_limit_report.h"

static uint64_t load(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static void counter(struct prom_text *t, const char *name, const char *help, const struct prom_label *bank,
		    uint64_t value)
{
	prom_family(t, name, PROM_COUNTER, help);
	prom_sample(t, name, bank, 1, value);
}

char *bank_metrics_text(const char *bank_name, const struct bank_stats *s, const struct group_commit_stats *gc,
			const struct rate_limiter *limits, size_t *length)
{
	struct prom_text *t = prom_text_new();
	if (!t)
		return NULL;
	struct prom_label bank[] = {{"bank", bank_name}};
	const struct {
		const char *name, *help;
		const _Atomic uint64_t *value;
	} counters[] = {
		{"iso_bank_received_total", "frames read off the wire", &s->received},
		{"iso_bank_authorizations_total", "1100s decided, duplicates included", &s->authorizations},
		{"iso_bank_approved_total", "1100s approved", &s->approved},
		{"iso_bank_declined_total", "1100s refused, whatever the reason", &s->declined},
		{"iso_bank_duplicates_total", "1100s answered again from the journal", &s->duplicates},
		{"iso_bank_reversals_total", "1420s and 1421s decided", &s->reversals},
		{"iso_bank_reversals_credited_total", "reversals that gave the money back", &s->reversals_credited},
		{"iso_bank_reversal_replays_total", "reversals of something already reversed", &s->reversal_replays},
		{"iso_bank_reversals_of_refused_total", "reversals of refused authorizations (nothing to give back)",
		 &s->reversals_of_refused},
		{"iso_bank_reversals_unknown_total", "reversals of an authorization never seen (914, tombstone kept)",
		 &s->reversals_unknown},
		{"iso_bank_reversals_by_keys_but_stan_total",
		 "reversals whose original was found by DE 12, 32, 37 and 41 under another STAN",
		 &s->reversals_by_keys_but_stan},
		{"iso_bank_tombstone_declines_total", "1100s that came after their reversal, refused", &s->tombstone_declines},
		{"iso_bank_shed_over_budget_total", "1100s answered 912 untouched: they waited past answer_budget_ms",
		 &s->shed_over_budget},
		{"iso_bank_malformed_total", "datagrams or frames that failed framing, decoding or checks", &s->malformed},
		{"iso_bank_malformed_answered_total", "malformed requests answered with 904", &s->malformed_answered},
		{"iso_bank_ignored_total", "responses and unreadable messages dropped", &s->ignored},
		{"iso_bank_dropped_by_fault_total", "requests dropped by fault injection", &s->dropped_by_fault},
		{"iso_bank_delayed_by_fault_total", "requests delayed by fault injection", &s->delayed_by_fault},
		{"iso_bank_system_errors_total", "answers 909 after a storage failure", &s->system_errors},
		{"iso_bank_tx_dropped_total", "datagrams the socket refused", &s->tx_dropped},
		{"iso_bank_source_refused_total", "ISO messages from no network's address, dropped", &s->source_refused},
		{"iso_bank_mac_refused_total", "ISO messages with a missing or wrong MAC (916 to requests)", &s->mac_refused},
	};
	for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
		counter(t, counters[i].name, counters[i].help, bank, load(counters[i].value));

	prom_family(t, "iso_bank_answers_total", PROM_COUNTER, "answers by DE 39 action code");
	for (unsigned code = 0; code < 1000; code++) {
		uint64_t n = load(&s->by_action[code]);
		if (n == 0)
			continue;
		char action[4];
		snprintf(action, sizeof action, "%03u", code);
		struct prom_label labels[] = {bank[0], {"action", action}};
		prom_sample(t, "iso_bank_answers_total", labels, 2, n);
	}

	counter(t, "iso_bank_commit_batches_total", "LMDB transactions of the group commit", bank, gc->batches);
	counter(t, "iso_bank_commit_items_total", "requests decided in those transactions", bank, gc->items);
	counter(t, "iso_bank_commit_failed_items_total", "requests whose transaction failed", bank, gc->failed_items);
	counter(t, "iso_bank_commit_inline_batches_total",
		"of those transactions, committed on the I/O thread itself (the writer idle)", bank, gc->inline_batches);
	counter(t, "iso_bank_background_syncs_total", "background syncs to disk (durability async)", bank, gc->syncs);
	prom_family(t, "iso_bank_decision_latency_seconds", PROM_HISTOGRAM,
		    "from a request's datagram arriving to its answer leaving, storage commit included");
	struct latency_counts decision = {0};
	latency_accumulate(&decision, &s->decision);
	prom_latency(t, "iso_bank_decision_latency_seconds", bank, 1, &decision);
	prom_family(t, "iso_bank_commit_largest_batch", PROM_GAUGE, "most requests in one transaction so far");
	prom_sample(t, "iso_bank_commit_largest_batch", bank, 1, gc->largest_batch);
	rate_limit_metrics(t, "iso_bank", bank, 1, limits);
	return prom_text_finish(t, length);
}
