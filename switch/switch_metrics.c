#include "switch_metrics.h"

#include <stddef.h>
#include <stdio.h>

#include "prometheus.h"
#include "saf_forwarder.h"
#include "switch_core.h"

static void counter(struct prom_text *t, const char *name, const char *help, const struct prom_label *labels,
		    size_t label_count, uint64_t value)
{
	prom_family(t, name, PROM_COUNTER, help);
	prom_sample(t, name, labels, label_count, value);
}

static void gauge(struct prom_text *t, const char *name, const char *help, const struct prom_label *labels,
		  size_t label_count, uint64_t value)
{
	prom_family(t, name, PROM_GAUGE, help);
	prom_sample(t, name, labels, label_count, value);
}

static void switch_counters(struct prom_text *t, const struct prom_label *network, const struct switch_counters *c)
{
#define COUNTER_METRIC(name, help) counter(t, "iso_switch_" #name "_total", help, network, 1, c->name);
	SWITCH_COUNTERS(COUNTER_METRIC)
#undef COUNTER_METRIC
}

/* The store-and-forward queue: whole-queue figures, then one series per bank. */
static void saf_metrics(struct prom_text *t, const struct prom_label *network, struct saf_forwarder *f)
{
	struct saf_stats s;
	saf_forwarder_stats(f, &s);
	gauge(t, "iso_switch_saf_healthy", "1 when the last commit of reversal advices succeeded", network, 1,
	      s.healthy);
	gauge(t, "iso_switch_saf_queued", "reversal advices waiting for their bank, all banks", network, 1, s.queued);
	counter(t, "iso_switch_saf_stored_total", "reversal advices committed to disk", network, 1, s.stored);
	counter(t, "iso_switch_saf_acknowledged_total", "reversal advices a bank answered for good (400 or 914)",
		network, 1, s.acknowledged);
	counter(t, "iso_switch_saf_store_failures_total", "commits of advices the disk refused", network, 1,
		s.store_failures);

	const struct {
		const char *name, *help;
		enum prom_type type;
		size_t offset;
	} per_bank[] = {
		{"iso_switch_saf_depth", "reversal advices queued for the bank", PROM_GAUGE,
		 offsetof(struct saf_bank_stats, depth)},
		{"iso_switch_saf_in_flight", "reversal advices sent to the bank and not answered yet", PROM_GAUGE,
		 offsetof(struct saf_bank_stats, in_flight)},
		{"iso_switch_saf_oldest_age_milliseconds", "age of the bank's oldest queued advice", PROM_GAUGE,
		 offsetof(struct saf_bank_stats, oldest_age_ms)},
		{"iso_switch_saf_sent_total", "advices sent to the bank, repeats included", PROM_COUNTER,
		 offsetof(struct saf_bank_stats, sent)},
		{"iso_switch_saf_repeats_total", "advices sent again as 1421", PROM_COUNTER,
		 offsetof(struct saf_bank_stats, repeats)},
		{"iso_switch_saf_bank_acknowledged_total", "advices the bank answered for good", PROM_COUNTER,
		 offsetof(struct saf_bank_stats, acknowledged)},
		{"iso_switch_saf_expired_total", "advices moved to the exception queue unanswered", PROM_COUNTER,
		 offsetof(struct saf_bank_stats, expired)},
	};
	for (size_t m = 0; m < sizeof per_bank / sizeof per_bank[0]; m++) {
		prom_family(t, per_bank[m].name, per_bank[m].type, per_bank[m].help);
		for (size_t b = 0; b < s.bank_count; b++) {
			struct prom_label labels[] = {network[0], {"bank", s.banks[b].name}};
			const uint64_t *value = (const uint64_t *)((const char *)&s.banks[b] + per_bank[m].offset);
			prom_sample(t, per_bank[m].name, labels, 2, *value);
		}
	}
}

char *switch_metrics_text(struct switch_core *s, size_t *length)
{
	struct prom_text *t = prom_text_new();
	if (!t)
		return NULL;
	struct prom_label network[] = {{"network", s->network}};
	struct switch_counters sum;
	struct switch_gauges g;
	switch_core_counters(s, &sum, &g);
	switch_counters(t, network, &sum);
	gauge(t, "iso_switch_pending", "authorizations waiting for a bank's answer", network, 1, g.pending);
	gauge(t, "iso_switch_route_version", "version of the BIN routing table in force", network, 1, g.route_version);
	gauge(t, "iso_switch_cards", "cards in the network's registry", network, 1, g.cards);
	counter(t, "iso_switch_outcome_evictions_total", "outcomes forgotten to make room (duplicate detection window)",
		network, 1, g.outcome_evictions);
	gauge(t, "iso_switch_workers", "poll-mode workers", network, 1, s->worker_count);
	if (s->saf)
		saf_metrics(t, network, s->saf);
	return prom_text_finish(t, length);
}
