#include "switch_metrics.h"

#include <stddef.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "prometheus.h"
#include "rate_limit_report.h"
#include "saf_forwarder.h"
#include "rcu_cell.h"
#include "switch_core.h"
#include "switch_worker.h"

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

/* The bank's name in the routes in force (this thread is no RCU reader: the writers' lock), else host:port. */
static void bank_name(const struct route_table *routes, const struct sockaddr_in *addr, char *out, size_t size)
{
	for (size_t i = 0; routes && i < routes->bank_count; i++)
		if (routes->banks[i].iso.sin_addr.s_addr == addr->sin_addr.s_addr &&
		    routes->banks[i].iso.sin_port == addr->sin_port) {
			snprintf(out, size, "%s", routes->banks[i].name);
			return;
		}
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &addr->sin_addr, ip, sizeof ip);
	snprintf(out, size, "%s:%u", ip, ntohs(addr->sin_port));
}

/* The banks' round trips as the workers saw them, one histogram per bank (merged over workers). */
static void round_trip_metrics(struct prom_text *t, const struct prom_label *network, struct switch_core *s)
{
	struct bank_round_trips {
		char name[64];
		struct latency_counts counts;
	} banks[SWITCH_BANK_HEALTH];
	size_t bank_count = 0;
	memset(banks, 0, sizeof banks);
	const struct route_table *routes = rcu_cell_lock(&s->routes);
	for (uint16_t w = 0; w < s->worker_count; w++) {
		const struct bank_health_table *table = &s->workers[w]->bank_health;
		uint32_t count = __atomic_load_n(&table->count, __ATOMIC_ACQUIRE);
		for (uint32_t i = 0; i < count; i++) {
			char name[64];
			bank_name(routes, &table->banks[i].bank, name, sizeof name);
			size_t b = 0;
			while (b < bank_count && strcmp(banks[b].name, name) != 0)
				b++;
			if (b == bank_count) {
				if (bank_count == SWITCH_BANK_HEALTH)
					continue;
				snprintf(banks[bank_count++].name, sizeof banks[0].name, "%s", name);
			}
			latency_accumulate(&banks[b].counts, &table->banks[i].round_trip);
		}
	}
	rcu_cell_unlock(&s->routes);
	prom_family(t, "iso_switch_bank_latency_seconds", PROM_HISTOGRAM,
		    "from an authorization forwarded to the bank to the bank's answer, as the switch saw it");
	for (size_t b = 0; b < bank_count; b++) {
		struct prom_label labels[] = {network[0], {"bank", banks[b].name}};
		prom_latency(t, "iso_switch_bank_latency_seconds", labels, 2, &banks[b].counts);
	}
}

char *switch_metrics_text(struct switch_core *s, const struct rate_limiter *limits, size_t *length)
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
	round_trip_metrics(t, network, s);
	if (s->saf)
		saf_metrics(t, network, s->saf);
	rate_limit_metrics(t, "iso_switch", network, 1, limits);
	return prom_text_finish(t, length);
}
