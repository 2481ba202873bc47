#include "loadgen_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "loadgen_cards.h"
#include "loadgen_interval_collector.h"
#include "loadgen_outcomes.h"
#include "loadgen_port.h"
#include "loadgen_report.h"
#include "loadgen_report_files.h"
#include "loadgen_tcp_link.h"
#include "loadgen_worker.h"
#include "tsc_clock.h"

atomic_bool loadgen_stop_requested;

#define START_LEAD_NS 20000000u /* threads are up and waiting before intended time 0 */
#define MAIN_POLL_NS 20000000u

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

int loadgen_run(const struct ecosystem_config *config, const struct loadgen_options *o)
{
	char err[2048];
	struct loadgen_shared shared;
	memset(&shared, 0, sizeof shared);
	if (!loadgen_plan_make(o, &config->loadgen, &shared.plan, err, sizeof err)) {
		fprintf(stderr, "cardholder-loadgen: %s\n", err);
		return 1;
	}
	struct loadgen_cards cards;
	bool over_tcp = o->link ? strcmp(o->link, "tcp") == 0 : config->loadgen.link == CFG_LINK_TCP;
	if (!loadgen_cards_load(config, o->only_network, &cards, err, sizeof err)) {
		fprintf(stderr, "cardholder-loadgen: %s\n", err);
		return 1;
	}
	if (over_tcp && !loadgen_tcp_link_address_switches(config, &cards, err, sizeof err)) {
		fprintf(stderr, "cardholder-loadgen: %s\n", err);
		loadgen_cards_free(&cards);
		return 1;
	}
	char dir[1024];
	if (o->report_dir)
		snprintf(dir, sizeof dir, "%s", o->report_dir);
	else
		default_report_dir(dir, sizeof dir);
	if (!loadgen_make_dirs(dir, err, sizeof err)) {
		fprintf(stderr, "cardholder-loadgen: %s\n", err);
		loadgen_cards_free(&cards);
		return 1;
	}

	unsigned threads = o->threads;
	if ((uint64_t)threads > shared.plan.max_requests)
		threads = (unsigned)shared.plan.max_requests;
	struct dgram_port port;
	if (loadgen_port_open(config, o, over_tcp, threads, &port, err, sizeof err) != 0) {
		fprintf(stderr, "cardholder-loadgen: %s\n", err);
		loadgen_cards_free(&cards);
		return 1;
	}

	shared.cards = &cards;
	shared.context.acquirer_id = config->loadgen.acquirer_id;
	shared.context.currency = config->loadgen.currency;
	shared.context.merchant_id = "LOADGEN00000001";
	shared.min_amount = config->loadgen.min_amount;
	shared.max_amount = config->loadgen.max_amount;
	shared.threads = threads;
	shared.terminals_per_thread = o->terminals_per_thread;
	shared.batch = o->batch;
	shared.spin_polls = o->spin_polls;
	shared.reversal_attempts = o->reversal_attempts;
	shared.seed = o->seed;
	shared.port = &port;
	atomic_init(&shared.stop, false);

	int rc = 1;
	struct loadgen_worker *workers = calloc(threads, sizeof(*workers));
	unsigned initialised = 0, started = 0;
	struct interval_collector collector;
	memset(&collector, 0, sizeof collector);
	if (!workers || !latency_histogram_init(&collector.row, LOADGEN_HISTOGRAM_HIGHEST, LOADGEN_HISTOGRAM_DIGITS) ||
	    !latency_histogram_init(&collector.so_far, LOADGEN_HISTOGRAM_HIGHEST, LOADGEN_HISTOGRAM_DIGITS)) {
		fprintf(stderr, "cardholder-loadgen: no memory\n");
		goto out;
	}
	for (; initialised < threads; initialised++) {
		uint64_t quota = shared.plan.max_requests / threads + (initialised < shared.plan.max_requests % threads);
		if (!loadgen_worker_init(&workers[initialised], &shared, initialised, quota)) {
			fprintf(stderr, "cardholder-loadgen: %s\n", workers[initialised].error);
			initialised++;
			goto out;
		}
	}
	char path[1200];
	snprintf(path, sizeof path, "%s/intervals.tsv", dir);
	collector.file = loadgen_intervals_open(path);
	if (!collector.file) {
		fprintf(stderr, "cardholder-loadgen: cannot write %s: %s\n", path, strerror(errno));
		goto out;
	}
	collector.progress = o->progress;

	fprintf(stderr,
		"cardholder-loadgen: %.0f/s %s for %gs (at most %llu), %zu cards on %zu network(s), %u thread(s), "
		"timeout %u ms, report in %s\n",
		shared.plan.rate, shared.plan.arrivals == ARRIVAL_POISSON ? "poisson" : "constant",
		shared.plan.duration_s, (unsigned long long)shared.plan.max_requests, cards.count,
		cards.network_count, threads, shared.plan.timeout_ms, dir);
	uint64_t start_ns = tsc_now_ns() + START_LEAD_NS;
	shared.start_unix_ns = realtime_ns() + START_LEAD_NS;
	shared.start_ns = start_ns;
	if (o->outcomes_path) {
		shared.outcomes = loadgen_outcomes_open(o->outcomes_path, (long long)shared.start_unix_ns);
		if (!shared.outcomes) {
			fprintf(stderr, "cardholder-loadgen: cannot write %s: %s\n", o->outcomes_path, strerror(errno));
			goto out;
		}
	}
	for (; started < threads; started++) {
		int e = pthread_create(&workers[started].thread, NULL, loadgen_worker_main, &workers[started]);
		if (e != 0) {
			fprintf(stderr, "cardholder-loadgen: cannot start thread %u: %s\n", started, strerror(e));
			atomic_store(&shared.stop, true);
			goto out;
		}
	}
	while (!all_finished(workers, threads)) {
		if (atomic_load(&loadgen_stop_requested))
			atomic_store(&shared.stop, true);
		interval_collector_collect(&collector, workers, threads, false);
		sleep_ns(MAIN_POLL_NS);
	}
	for (unsigned t = 0; t < started; t++)
		pthread_join(workers[t].thread, NULL);
	started = 0;
	interval_collector_collect(&collector, workers, threads, true);

	struct latency_histogram merged, lag;
	if (!latency_histogram_init(&merged, LOADGEN_HISTOGRAM_HIGHEST, LOADGEN_HISTOGRAM_DIGITS)) {
		fprintf(stderr, "cardholder-loadgen: no memory\n");
		goto out;
	}
	if (!latency_histogram_init(&lag, LOADGEN_HISTOGRAM_HIGHEST, LOADGEN_HISTOGRAM_DIGITS)) {
		latency_histogram_free(&merged);
	latency_histogram_free(&lag);
		fprintf(stderr, "cardholder-loadgen: no memory\n");
		goto out;
	}
	struct loadgen_summary summary;
	memset(&summary, 0, sizeof summary);
	uint64_t last_send = start_ns, last_answer = start_ns;
	for (unsigned t = 0; t < threads; t++) {
		struct loadgen_worker *w = &workers[t];
		latency_histogram_merge(&merged, &w->latency);
		latency_histogram_merge(&lag, &w->send_lag);
		loadgen_counts_add(&summary.counts, &w->counts);
		summary.interval_overruns += w->interval_overruns;
		if (w->last_send_ns > last_send)
			last_send = w->last_send_ns;
		if (w->last_answer_ns > last_answer)
			last_answer = w->last_answer_ns;
	}
	const struct loadgen_counts *c = &summary.counts;
	summary.plan = shared.plan;
	summary.threads = threads;
	summary.dataplane = o->dataplane;
	summary.latency = &merged;
	summary.send_lag = &lag;
	summary.planned = c->sent + c->unsent_behind + c->unsent_tx_refused + c->unsent_table_full + c->encode_errors;
	summary.send_seconds = (double)(last_send - start_ns) / 1e9;
	summary.answer_seconds = (double)(last_answer - start_ns) / 1e9;
	/* One request at time 0 took no time to send: rates count gaps, not arrivals. */
	summary.offered_rate = summary.send_seconds > 0 ? (double)(c->sent > 1 ? c->sent - 1 : 0) / summary.send_seconds : 0;
	summary.throughput = summary.answer_seconds > 0 ? (double)c->answered / summary.answer_seconds : 0;
	summary.decided = loadgen_decided_answers(c);
	summary.decided_rate = summary.answer_seconds > 0 ? (double)summary.decided / summary.answer_seconds : 0;
	struct rusage usage;
	if (getrusage(RUSAGE_SELF, &usage) == 0) {
		summary.cpu_user_s = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6;
		summary.cpu_system_s = (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
	}
	rc = loadgen_report_write(o, dir, &summary);
	loadgen_port_print_stats(o, over_tcp, &port);
	latency_histogram_free(&merged);
	latency_histogram_free(&lag);

out:
	if (started) {
		atomic_store(&shared.stop, true);
		for (unsigned t = 0; t < started; t++)
			pthread_join(workers[t].thread, NULL);
	}
	if (collector.file)
		fclose(collector.file);
	if (shared.outcomes && fclose(shared.outcomes) != 0) {
		fprintf(stderr, "cardholder-loadgen: cannot write %s\n", o->outcomes_path);
		rc = 1;
	}
	latency_histogram_free(&collector.row);
	latency_histogram_free(&collector.so_far);
	for (unsigned t = 0; t < initialised; t++)
		loadgen_worker_free(&workers[t]);
	free(workers);
	port.ops->close(&port);
	loadgen_cards_free(&cards);
	return rc;
}
