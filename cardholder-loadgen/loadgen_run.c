#include "loadgen_run.h"

#include "ecosystem_mac.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadgen_cards.h"
#include "loadgen_interval_collector.h"
#include "loadgen_outcomes.h"
#include "loadgen_plan.h"
#include "loadgen_port.h"
#include "loadgen_report.h"
#include "loadgen_report_files.h"
#include "loadgen_summary_merge.h"
#include "loadgen_tcp_link.h"
#include "loadgen_worker.h"
#include "tsc_clock.h"

atomic_bool loadgen_stop_requested;
atomic_bool loadgen_mac_reload_requested;

#define START_LEAD_NS 20000000u /* threads are up and waiting before intended time 0 */
#define MAIN_POLL_NS 20000000u

/*
 * Everything one run holds. Zeroed at the start; each step takes what it
 * needs and records it here, so that run_release gives back exactly what was
 * taken, whichever step stopped the run.
 */
struct run {
	const struct ecosystem_config *config;
	const struct loadgen_options *o;
	bool over_tcp;
	unsigned threads; /* --threads, but never more than the planned requests */
	char dir[1024];   /* the report directory */
	struct loadgen_cards cards;
	bool cards_loaded;
	struct dgram_port port;
	bool port_open;
	struct loadgen_shared shared;
	struct loadgen_worker *workers;
	unsigned initialised; /* workers[0..initialised) to free */
	unsigned started;     /* threads running, to stop and join */
	struct interval_collector collector;
	struct iso_mac_keyring mac_keys; /* acquirer:<network> for each network */
	bool mac_open;
};

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void default_report_dir(char *out, size_t size)
{
	time_t now = time(NULL);
	struct tm utc;
	gmtime_r(&now, &utc);
	strftime(out, size, "reports/%Y%m%dT%H%M%SZ", &utc);
}

static bool all_finished(struct loadgen_worker *workers, unsigned threads)
{
	for (unsigned t = 0; t < threads; t++)
		if (!atomic_load_explicit(&workers[t].finished, memory_order_acquire))
			return false;
	return true;
}

/* Every step reports its failure this way and returns false. */
static bool fail(const char *err)
{
	fprintf(stderr, "cardholder-loadgen: %s\n", err);
	return false;
}

/*
 * Step 1: the plan (options over the config's defaults), the cards (pointed at
 * the switches' TCP listeners over TCP), the report directory and the thread
 * count.
 */
static bool prepare(struct run *r)
{
	char err[2048];
	const struct loadgen_options *o = r->o;
	if (!loadgen_plan_make(o, &r->config->loadgen, &r->shared.plan, err, sizeof err))
		return fail(err);
	r->over_tcp = o->link ? strcmp(o->link, "tcp") == 0 : r->config->loadgen.link == CFG_LINK_TCP;
	if (!ecosystem_mac_keyring_open(r->config, MAC_AGENT_LOADGEN, "", "cardholder-loadgen", &r->mac_keys, err,
					sizeof err)) {
		iso_mac_keyring_destroy(&r->mac_keys);
		return fail(err);
	}
	r->mac_open = true;
	r->shared.mac_keys = &r->mac_keys;
	if (!loadgen_cards_load(r->config, o->only_network, &r->cards, err, sizeof err))
		return fail(err);
	r->cards_loaded = true;
	if (r->over_tcp && !loadgen_tcp_link_address_switches(r->config, &r->cards, err, sizeof err))
		return fail(err);
	if (o->report_dir)
		snprintf(r->dir, sizeof r->dir, "%s", o->report_dir);
	else
		default_report_dir(r->dir, sizeof r->dir);
	if (!loadgen_make_dirs(r->dir, err, sizeof err))
		return fail(err);
	r->threads = o->threads;
	if ((uint64_t)r->threads > r->shared.plan.max_requests)
		r->threads = (unsigned)r->shared.plan.max_requests;
	return true;
}

/* Step 2: the port, a queue per thread; over TCP every link is connected on return. */
static bool open_port(struct run *r)
{
	char err[2048];
	if (loadgen_port_open(r->config, r->o, r->over_tcp, r->threads, &r->port, err, sizeof err) != 0)
		return fail(err);
	r->port_open = true;
	r->shared.rx_stamps = loadgen_port_enable_rx_stamps(r->o, r->over_tcp, &r->port);
	return true;
}

/* What every worker reads and none writes: the workload, the cards and the port. */
static void share_workload(struct run *r)
{
	struct loadgen_shared *shared = &r->shared;
	const struct cfg_loadgen *config = &r->config->loadgen;
	const struct loadgen_options *o = r->o;
	shared->cards = &r->cards;
	shared->context.acquirer_id = config->acquirer_id;
	shared->context.currency = config->currency;
	shared->context.merchant_id = "LOADGEN00000001";
	shared->min_amount = config->min_amount;
	shared->max_amount = config->max_amount;
	shared->threads = r->threads;
	shared->terminals_per_thread = o->terminals_per_thread;
	shared->batch = o->batch;
	shared->spin_polls = o->spin_polls;
	shared->reversal_attempts = o->reversal_attempts;
	shared->max_outstanding =
		o->has_max_outstanding ? o->max_outstanding : (r->over_tcp ? LOADGEN_TCP_MAX_OUTSTANDING : 0);
	shared->seed = o->seed;
	shared->port = &r->port;
	atomic_init(&shared->stop, false);
}

/* Step 3: the workers, each with its share of the requests, and the collector's histograms. */
static bool set_up_workers(struct run *r)
{
	share_workload(r);
	r->workers = calloc(r->threads, sizeof(*r->workers));
	if (!r->workers ||
	    !latency_histogram_init(&r->collector.row, LOADGEN_HISTOGRAM_HIGHEST, LOADGEN_HISTOGRAM_DIGITS) ||
	    !latency_histogram_init(&r->collector.so_far, LOADGEN_HISTOGRAM_HIGHEST, LOADGEN_HISTOGRAM_DIGITS))
		return fail("no memory");
	uint64_t requests = r->shared.plan.max_requests;
	for (; r->initialised < r->threads; r->initialised++) {
		unsigned t = r->initialised;
		uint64_t quota = requests / r->threads + (t < requests % r->threads);
		if (!loadgen_worker_init(&r->workers[t], &r->shared, t, quota)) {
			r->initialised++; /* a worker that failed half way frees what it has */
			return fail(r->workers[t].error);
		}
	}
	return true;
}

/* Step 4: intervals.tsv, written row by row while the run goes on. */
static bool open_interval_log(struct run *r)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/intervals.tsv", r->dir);
	r->collector.file = loadgen_intervals_open(path);
	if (!r->collector.file) {
		fprintf(stderr, "cardholder-loadgen: cannot write %s: %s\n", path, strerror(errno));
		return false;
	}
	r->collector.progress = r->o->progress;
	return true;
}

static void announce(const struct run *r)
{
	const struct loadgen_plan *plan = &r->shared.plan;
	/* The networks paid through: --network narrows the configured ones to one. */
	char networks[96];
	if (r->o->only_network)
		snprintf(networks, sizeof networks, "network %s", r->o->only_network);
	else
		snprintf(networks, sizeof networks, "%zu network%s", r->cards.network_count,
			 r->cards.network_count == 1 ? "" : "s");
	fprintf(stderr,
		"cardholder-loadgen: %.0f/s %s for %gs (at most %llu), %zu cards on %s, %u thread(s), "
		"timeout %u ms, report in %s\n",
		plan->rate, plan->arrivals == ARRIVAL_POISSON ? "poisson" : "constant", plan->duration_s,
		(unsigned long long)plan->max_requests, r->cards.count, networks, r->threads, plan->timeout_ms,
		r->dir);
}

/*
 * Intended time 0 lies START_LEAD_NS ahead, so that every thread is up and
 * waiting when it comes; the outcome file's header carries it.
 */
static bool set_start_time(struct run *r)
{
	const struct loadgen_options *o = r->o;
	r->shared.start_ns = tsc_now_ns() + START_LEAD_NS;
	r->shared.start_unix_ns = realtime_ns() + START_LEAD_NS;
	if (o->outcomes_path) {
		r->shared.outcomes = loadgen_outcomes_open(o->outcomes_path, (long long)r->shared.start_unix_ns);
		if (!r->shared.outcomes) {
			fprintf(stderr, "cardholder-loadgen: cannot write %s: %s\n", o->outcomes_path, strerror(errno));
			return false;
		}
	}
	return true;
}

/* A thread that cannot start stops the ones that did (run_release joins them). */
static bool start_threads(struct run *r)
{
	for (; r->started < r->threads; r->started++) {
		struct loadgen_worker *w = &r->workers[r->started];
		int e = pthread_create(&w->thread, NULL, loadgen_worker_main, w);
		if (e != 0) {
			fprintf(stderr, "cardholder-loadgen: cannot start thread %u: %s\n", r->started, strerror(e));
			atomic_store(&r->shared.stop, true);
			return false;
		}
	}
	return true;
}

/* Step 5: the start line on stderr, time 0, and the threads. */
static bool start_workers(struct run *r)
{
	announce(r);
	return set_start_time(r) && start_threads(r);
}

/*
 * SIGHUP: the key file again. A changed key's previous one is still accepted
 * for iso_mac.grace_s, so the switch may reload before or after us; on any
 * error the keys stay as they were. Keys are never printed.
 */
static void reload_mac_keys(struct run *r)
{
	char err[512];
	if (!r->mac_open)
		return;
	if (iso_mac_keyring_reload(&r->mac_keys, err, sizeof err))
		fprintf(stderr, "cardholder-loadgen: reloaded the MAC keys\n");
	else
		fprintf(stderr, "cardholder-loadgen: MAC key reload failed, keeping the current keys: %s\n", err);
}

/* Step 6: a row per second until every worker is done; a stop signal only asks them to settle. */
static void follow_progress(struct run *r)
{
	while (!all_finished(r->workers, r->threads)) {
		if (atomic_load(&loadgen_stop_requested))
			atomic_store(&r->shared.stop, true);
		if (atomic_exchange(&loadgen_mac_reload_requested, false))
			reload_mac_keys(r);
		interval_collector_collect(&r->collector, r->workers, r->threads, false);
		sleep_ns(MAIN_POLL_NS);
	}
}

/* Step 7: join the threads, then emit the rows they published last. */
static void join_workers(struct run *r)
{
	for (unsigned t = 0; t < r->started; t++)
		pthread_join(r->workers[t].thread, NULL);
	r->started = 0;
	interval_collector_collect(&r->collector, r->workers, r->threads, true);
}

/* Step 8: the summary, the report files and the port's counters; 0, or 1 when a file could not be written. */
static int report(struct run *r)
{
	struct latency_histogram merged, lag;
	memset(&lag, 0, sizeof lag);
	int rc = 1;
	if (latency_histogram_init(&merged, LOADGEN_HISTOGRAM_HIGHEST, LOADGEN_HISTOGRAM_DIGITS) &&
	    latency_histogram_init(&lag, LOADGEN_HISTOGRAM_HIGHEST, LOADGEN_HISTOGRAM_DIGITS)) {
		struct loadgen_summary summary;
		loadgen_summary_merge(&summary, r->workers, r->threads, &r->shared, r->o->dataplane, &merged, &lag);
		rc = loadgen_report_write(r->o, r->dir, &summary);
		loadgen_port_print_stats(r->o, r->over_tcp, &r->port);
	} else {
		fprintf(stderr, "cardholder-loadgen: no memory\n");
	}
	latency_histogram_free(&merged);
	latency_histogram_free(&lag);
	return rc;
}

/*
 * Gives back whatever the steps took, threads first. Returns rc, or 1 when
 * the outcome file could not be completed.
 */
static int run_release(struct run *r, int rc)
{
	if (r->started) {
		atomic_store(&r->shared.stop, true);
		for (unsigned t = 0; t < r->started; t++)
			pthread_join(r->workers[t].thread, NULL);
	}
	if (r->collector.file)
		fclose(r->collector.file);
	if (r->shared.outcomes && fclose(r->shared.outcomes) != 0) {
		fprintf(stderr, "cardholder-loadgen: cannot write %s\n", r->o->outcomes_path);
		rc = 1;
	}
	latency_histogram_free(&r->collector.row);
	latency_histogram_free(&r->collector.so_far);
	for (unsigned t = 0; t < r->initialised; t++)
		loadgen_worker_free(&r->workers[t]);
	free(r->workers);
	if (r->port_open)
		r->port.ops->close(&r->port);
	if (r->cards_loaded)
		loadgen_cards_free(&r->cards);
	if (r->mac_open)
		iso_mac_keyring_destroy(&r->mac_keys);
	return rc;
}

int loadgen_run(const struct ecosystem_config *config, const struct loadgen_options *o)
{
	struct run r = {.config = config, .o = o};
	int rc = 1;
	if (prepare(&r) && open_port(&r) && set_up_workers(&r) && open_interval_log(&r) && start_workers(&r)) {
		follow_progress(&r);
		join_workers(&r);
		rc = report(&r);
	}
	return run_release(&r, rc);
}
