/*
 * One simulated run: builds the world of a seed (config, LMDB directory,
 * network, switch, banks, cardholders, fault plan), steps it millisecond by
 * millisecond through the load phase, heals every fault, drains, sends one
 * probe per cardholder, and checks the invariants along the way and at the end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "card_population.h"
#include "sim_world.h"
#include "test_pan_keys.h"
#include "test_temp_dir.h"

#define SIM_BOOT_NS 1000000000000ull        /* the simulated CLOCK_MONOTONIC at the start */
#define SIM_EPOCH_S 1795608000ll            /* the simulated wall clock at the start: 2026-11-25 12:00 UTC */
#define SIM_CHECK_EVERY_MS 1000
#define SIM_SETTLE_MS 5000                  /* after healing, before probing: banks taken down come back */
#define SIM_DRAIN_LIMIT_MS 600000
#define SIM_PROBE_LIMIT_MS 60000

static const struct {
	const char *name;
	unsigned bit;
} fault_names[] = {
	{"loss", SIM_FAULT_LOSS},
	{"duplicate", SIM_FAULT_DUPLICATE},
	{"reorder", SIM_FAULT_REORDER},
	{"partition", SIM_FAULT_PARTITION},
	{"bank-crash", SIM_FAULT_BANK_CRASH},
	{"switch-crash", SIM_FAULT_SWITCH_CRASH},
	{"slow-disk", SIM_FAULT_SLOW_DISK},
	{"clock-jump", SIM_FAULT_CLOCK_JUMP},
	{"malformed", SIM_FAULT_MALFORMED},
	{"resend-across-restart", SIM_FAULT_RESEND_ACROSS_RESTART},
	{"shedding", SIM_FAULT_SHEDDING},
};

bool sim_faults_parse(const char *text, unsigned *out)
{
	/* Names, "default", "all" and "none" joined by commas: "default,shedding". */
	unsigned bits = 0;
	char copy[512];
	snprintf(copy, sizeof(copy), "%s", text);
	char *save = NULL;
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		bool found = strcmp(name, "none") == 0;
		if (strcmp(name, "default") == 0) {
			bits |= SIM_FAULTS_DEFAULT;
			found = true;
		} else if (strcmp(name, "all") == 0) {
			bits |= SIM_FAULTS_ALL;
			found = true;
		}
		for (size_t i = 0; i < sizeof(fault_names) / sizeof(fault_names[0]); i++)
			if (strcmp(name, fault_names[i].name) == 0) {
				bits |= fault_names[i].bit;
				found = true;
			}
		if (!found)
			return false;
	}
	*out = bits;
	return true;
}

void sim_faults_format(unsigned faults, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(fault_names) / sizeof(fault_names[0]); i++)
		if (faults & fault_names[i].bit) {
			int n = snprintf(out + used, size - used, "%s%s", used ? "," : "", fault_names[i].name);
			if (n < 0 || (size_t)n >= size - used)
				return;
			used += (size_t)n;
		}
	if (!used)
		snprintf(out, size, "none");
}

void sim_violation(struct sim_world *w, const struct sim_txn *txn, const char *fmt, ...)
{
	if (w->violated)
		return;
	w->violated = true;
	struct sim_result *r = w->result;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->violation, sizeof(r->violation), fmt, ap);
	va_end(ap);
	r->violation_step = w->now_us / 1000;
	sim_trace_line(&w->trace, "VIOLATION: %s", r->violation);
	if (w->opt.quiet)
		return;
	fprintf(stderr, "sim: VIOLATION seed %llu step %llu (t=%llu ms): %s\n", (unsigned long long)w->opt.seed,
		(unsigned long long)r->violation_step, (unsigned long long)r->violation_step, r->violation);
	if (txn) {
		fprintf(stderr, "sim: trace of %s (cardholder %u, terminal %s, bank %s):\n", txn->rrn, txn->cardholder,
			txn->terminal, w->banks[txn->bank].bank->name);
		sim_trace_grep(&w->trace, txn->rrn, stderr, 200);
	}
	fprintf(stderr, "sim: faults of the run:\n");
	sim_trace_grep(&w->trace, "fault:", stderr, 60);
	fprintf(stderr, "sim: replay with: sim --seed %llu", (unsigned long long)w->opt.seed);
	char faults[256];
	sim_faults_format(w->opt.faults, faults, sizeof(faults));
	fprintf(stderr, " --faults %s --load-ms %u --cardholders %u --workers %u%s%s%s --trace FILE\n", faults,
		w->opt.load_ms, w->opt.cardholders, w->opt.workers, w->opt.mutation ? " --mutate " : "",
		w->opt.mutation ? w->opt.mutation : "", w->opt.decline_on_913 ? " --decline-on-913" : "");
}

/* ---- the clocks every agent reads (clock_source.h) ---- */

static uint64_t sim_monotonic_ns(void *ctx)
{
	const struct sim_world *w = ctx;
	return SIM_BOOT_NS + w->now_us * 1000u;
}

static int64_t sim_realtime_ns(void *ctx)
{
	const struct sim_world *w = ctx;
	return SIM_EPOCH_S * 1000000000ll + (int64_t)w->now_us * 1000 + w->wall_offset_ns;
}

/* ---- setup ---- */

static bool make_dir(struct sim_world *w)
{
	/* tmpfs when there is one: the simulated disk decides commit times, not fsync. */
	struct stat st;
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0) {
		snprintf(w->dir, sizeof(w->dir), "/dev/shm/iso-test-sim-XXXXXX");
		if (mkdtemp(w->dir))
			return true;
	}
	return test_temp_dir_make(w->dir, sizeof(w->dir), "sim");
}

static bool write_config(struct sim_world *w, char *err, size_t err_size)
{
	char keys[512];
	if (!test_pan_keys_make(w->dir, keys, sizeof(keys))) {
		snprintf(err, err_size, "cannot make PAN keys in %s", w->dir);
		return false;
	}
	bool abandon = w->opt.mutation && strcmp(w->opt.mutation, "abandon-advices") == 0;
	uint32_t cards = (w->opt.cardholders + 1) / 2;
	uint32_t budget = (w->opt.faults & SIM_FAULT_SHEDDING) ? 100u : 0u; /* bank-node's default, or none */
	char yaml[4096];
	int n = snprintf(yaml, sizeof(yaml),
		"iso_mac:\n  allow_unprotected: true\n"
		"pan_protection:\n  key_file: %s\n"
		"banks:\n"
		"  - name: big_bank\n    institution_id: \"10000000001\"\n    http: 127.0.0.1:9301\n"
		"    iso: 198.18.0.2:9302\n    lmdb_path: %s/big_bank\n    lmdb_map_size: 67108864\n    batch_max: 64\n"
		"    answer_budget_ms: %u\n"
		"    networks:\n      - network: mastercard\n        bins: [\"51051000\"]\n"
		"  - name: lil_bank\n    institution_id: \"10000000002\"\n    http: 127.0.0.1:9311\n"
		"    iso: 198.18.0.3:9312\n    lmdb_path: %s/lil_bank\n    lmdb_map_size: 67108864\n    batch_max: 64\n"
		"    answer_budget_ms: %u\n"
		"    networks:\n      - network: mastercard\n        bins: [\"51999100\"]\n"
		"networks:\n"
		"  - name: mastercard\n    major_industry_id: 5\n    http: 127.0.0.1:9303\n    iso: 198.18.0.1:9304\n"
		"    lmdb_path: %s/mastercard\n    bank_timeout_ms: %u\n    reversal_retry_ms: 200\n"
		"    reversal_retry_max_ms: 2000\n    reversal_retention_s: %u\n    outcome_memory: 65536\n"
		"loadgen:\n  cards_per_bank: %u\n  initial_balance: 1000000\n  timeout_ms: %u\n",
		keys, w->dir, budget, w->dir, budget, w->dir, w->bank_timeout_ms, abandon ? 1u : 86400u, cards,
		w->timeout_ms);
	if (n < 0 || (size_t)n >= sizeof(yaml)) {
		snprintf(err, err_size, "config too long");
		return false;
	}
	return ecosystem_config_parse(yaml, (size_t)n, "sim", &w->cfg, err, err_size);
}

static bool build(struct sim_world *w, char *err, size_t err_size)
{
	w->timeout_ms = 1500;
	w->bank_timeout_ms = 400;
	if (!make_dir(w)) {
		snprintf(err, err_size, "cannot make a temporary directory");
		return false;
	}
	if (!write_config(w, err, err_size))
		return false;
	sim_net_init(&w->net, &w->rng, &w->trace, &w->now_us);
	w->bank_count = w->cfg.bank_count < SIM_MAX_BANKS ? w->cfg.bank_count : SIM_MAX_BANKS;
	w->net.link_count = SIM_LINK_BANK0 + w->bank_count;
	w->sw.cfg = &w->cfg;
	w->sw.network = "mastercard";
	w->sw.trace = &w->trace;
	w->sw.node = sim_net_add_node(&w->net, "switch", "198.18.0.1", 9304, w->opt.workers, SIM_LINK_SWITCH);
	if (!w->sw.node)
		return false;
	w->sw.node->stale_copies_die = !(w->opt.faults & SIM_FAULT_RESEND_ACROSS_RESTART);
	for (size_t i = 0; i < w->bank_count; i++) {
		struct sim_bank *b = &w->banks[i];
		b->cfg = &w->cfg;
		b->bank = &w->cfg.banks[i];
		b->trace = &w->trace;
		b->node = sim_net_add_node(&w->net, b->bank->name, i == 0 ? "198.18.0.2" : "198.18.0.3",
					   i == 0 ? 9302 : 9312, 1, (int)(SIM_LINK_BANK0 + i));
		w->normal_commit_us[i] = (uint32_t)sim_rng_range(&w->rng, 200, 3000);
		b->commit_latency_us = w->normal_commit_us[i];
		if (!b->node || !sim_bank_start(b, err, err_size))
			return false;
	}
	w->cardholder_count = w->opt.cardholders;
	for (uint16_t i = 0; i < w->cardholder_count; i++) {
		struct sim_cardholder *c = &w->cardholders[i];
		char name[16], ip[32];
		snprintf(name, sizeof(name), "ch%u", i);
		snprintf(ip, sizeof(ip), "198.18.1.%u", i + 1);
		c->node = sim_net_add_node(&w->net, name, ip, 40000, 1, SIM_LINK_CARDHOLDERS);
		if (!c->node)
			return false;
		c->bank = (uint8_t)(i % w->bank_count);
		struct population_card card;
		population_bank_card(&w->cfg, &w->cfg.banks[c->bank], i / w->bank_count, &card);
		snprintf(c->pan, sizeof(c->pan), "%s", card.pan);
		snprintf(c->expiry, sizeof(c->expiry), "%s", card.expiry);
		c->next_start_us = sim_rng_range(&w->rng, 0, 200000);
	}
	if (!sim_switch_start(&w->sw, err, err_size))
		return false;
	sim_faults_plan(w);
	return true;
}

static void teardown(struct sim_world *w)
{
	sim_switch_crash(&w->sw);
	for (size_t i = 0; i < w->bank_count; i++)
		sim_bank_crash(&w->banks[i]);
	sim_net_free(&w->net);
	if (w->dir[0])
		test_temp_dir_remove(w->dir);
	free(w->txns);
	free(w->approved_entries);
	sim_trace_free(&w->trace);
	clock_source_override = NULL;
}

/* ---- stepping ---- */

static void tick(struct sim_world *w)
{
	w->now_us += 1000;
	sim_faults_step(w);
	sim_net_deliver(&w->net);
	sim_switch_step(&w->sw, clock_monotonic_ms()); /* the clock the switch reads itself (clock_source.h) */
	for (size_t i = 0; i < w->bank_count; i++)
		sim_bank_step(&w->banks[i], w->now_us);
	sim_cardholders_step(w);
	if (w->now_us / 1000 % SIM_CHECK_EVERY_MS == 0)
		sim_check_banks(w, false);
}

static bool drained(struct sim_world *w)
{
	if (!sim_cardholders_idle(w) || sim_net_in_flight(&w->net))
		return false;
	for (size_t i = 0; i < w->bank_count; i++)
		if (sim_bank_busy(&w->banks[i]))
			return false;
	uint64_t queued = 0, exceptions = 0;
	return sim_switch_saf_counts(&w->sw, &queued, &exceptions) && queued == 0;
}

static void run_phases(struct sim_world *w)
{
	w->load = true;
	uint64_t load_end = (uint64_t)w->opt.load_ms * 1000u;
	while (w->now_us < load_end && !w->violated)
		tick(w);
	w->load = false;
	sim_faults_heal(w);
	uint64_t healed = w->now_us;
	while (!w->violated && (w->now_us - healed < SIM_SETTLE_MS * 1000ull || !drained(w))) {
		if (w->now_us - healed > SIM_DRAIN_LIMIT_MS * 1000ull) {
			uint64_t queued = 0, exceptions = 0;
			bool saf = sim_switch_saf_counts(&w->sw, &queued, &exceptions);
			if (saf)
				sim_switch_describe_queue(&w->sw, w->opt.quiet ? NULL : stderr);
			sim_violation(w, NULL,
				      "liveness: not drained %u s after healing (cardholders idle %d, in flight %zu, "
				      "advices queued %llu%s, banks busy %d %d)",
				      SIM_DRAIN_LIMIT_MS / 1000, sim_cardholders_idle(w), sim_net_in_flight(&w->net),
				      (unsigned long long)queued, saf ? "" : " (switch down)", sim_bank_busy(&w->banks[0]),
				      w->bank_count > 1 && sim_bank_busy(&w->banks[1]));
			return;
		}
		tick(w);
	}
	sim_trace_line(&w->trace, "drained: probes");
	w->probing = true;
	uint64_t probes = w->now_us;
	while (!w->violated) {
		tick(w);
		bool done = sim_cardholders_idle(w);
		for (size_t i = 0; i < w->cardholder_count; i++)
			done = done && w->cardholders[i].probed;
		if (done && drained(w))
			break;
		if (w->now_us - probes > SIM_PROBE_LIMIT_MS * 1000ull) {
			sim_violation(w, NULL, "liveness: probes unanswered %u s after healing", SIM_PROBE_LIMIT_MS / 1000);
			return;
		}
	}
	if (!w->violated)
		sim_check_final(w);
}

bool sim_run(const struct sim_options *o, struct sim_result *r, char *err, size_t err_size)
{
	memset(r, 0, sizeof(*r));
	struct sim_world *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, err_size, "out of memory");
		return false;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0); /* the report's wall time only, never the run's */
	w->opt = *o;
	if (w->opt.cardholders == 0 || w->opt.cardholders > SIM_MAX_CARDHOLDERS)
		w->opt.cardholders = 16;
	if (w->opt.workers == 0 || w->opt.workers > SIM_MAX_QUEUES)
		w->opt.workers = 2;
	if (w->opt.load_ms == 0)
		w->opt.load_ms = 20000;
	w->result = r;
	sim_rng_seed(&w->rng, o->seed);
	sim_trace_init(&w->trace, &w->now_us, true, o->trace);
	w->clock = (struct clock_source){.monotonic_ns = sim_monotonic_ns, .realtime_ns = sim_realtime_ns, .ctx = w};
	clock_source_override = &w->clock;
	char faults[256];
	sim_faults_format(w->opt.faults, faults, sizeof(faults));
	sim_trace_line(&w->trace, "seed %llu faults %s load %u ms cardholders %u workers %u mutation %s",
		       (unsigned long long)o->seed, faults, w->opt.load_ms, w->opt.cardholders, w->opt.workers,
		       o->mutation ? o->mutation : "none");
	bool built = build(w, err, err_size);
	if (built)
		run_phases(w);
	r->ok = built && !w->violated;
	r->steps = w->now_us / 1000;
	r->trace_hash = w->trace.hash;
	r->trace_lines = w->trace.lines;
	r->datagrams = w->net.counters.sent;
	r->lost = w->net.counters.lost;
	r->duplicated = w->net.counters.duplicated;
	r->partitioned = w->net.counters.partitioned;
	teardown(w);
	free(w);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->wall_seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return built;
}
