#include "loadgen_report.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static const char *arrivals_name(enum arrival_process a)
{
	return a == ARRIVAL_POISSON ? "poisson" : "constant";
}

/* Latency for humans: microseconds below 10 ms, milliseconds above. */
static void human_latency(char *out, size_t size, uint64_t ns)
{
	if (ns < 10000000u)
		snprintf(out, size, "%.1fus", us(ns));
	else
		snprintf(out, size, "%.2fms", (double)ns / 1e6);
}

static void codes_text(const uint64_t *codes, FILE *out)
{
	bool any = false;
	for (int c = 0; c < LOADGEN_ACTION_CODES; c++)
		if (codes[c]) {
			fprintf(out, "%s%03d:%llu", any ? " " : "", c, (unsigned long long)codes[c]);
			any = true;
		}
	if (!any)
		fprintf(out, "-");
}

uint64_t loadgen_decided_answers(const struct loadgen_counts *c)
{
	uint64_t failed = 0;
	for (int code = 900; code < LOADGEN_ACTION_CODES; code++)
		failed += c->by_code[code];
	return c->answered >= failed ? c->answered - failed : 0;
}

void loadgen_summary_line(const struct loadgen_summary *s, FILE *out)
{
	const struct loadgen_counts *c = &s->counts;
	char p50[32], p99[32], p999[32], max[32];
	human_latency(p50, sizeof p50, latency_histogram_value_at_percentile(s->latency, 50));
	human_latency(p99, sizeof p99, latency_histogram_value_at_percentile(s->latency, 99));
	human_latency(p999, sizeof p999, latency_histogram_value_at_percentile(s->latency, 99.9));
	human_latency(max, sizeof max, s->latency->total_count ? s->latency->max : 0);
	uint64_t unsent = c->unsent_behind + c->unsent_tx_refused + c->unsent_table_full + c->not_sent_link_congested +
			  c->encode_errors;
	fprintf(out,
		"SUMMARY throughput=%.0f/s decided=%.0f/s offered=%.0f/s sent=%llu answered=%llu p50=%s p99=%s p99.9=%s "
		"max=%s codes=",
		s->throughput, s->decided_rate, s->offered_rate, (unsigned long long)c->sent, (unsigned long long)c->answered, p50, p99,
		p999, max);
	codes_text(c->by_code, out);
	fprintf(out, " timeouts=%llu reversals=%llu reversal_codes=", (unsigned long long)c->timeouts,
		(unsigned long long)c->reversals_sent);
	codes_text(c->reversal_by_code, out);
	fprintf(out, " reversals_unanswered=%llu late=%llu unsent=%llu\n", (unsigned long long)c->reversals_unanswered,
		(unsigned long long)c->late_answers, (unsigned long long)unsent);
}

void loadgen_summary_text(const struct loadgen_summary *s, FILE *out)
{
	const struct loadgen_counts *c = &s->counts;
	fprintf(out, "plan: %.0f/s %s for %.3gs, at most %llu requests, timeout %u ms, %u thread(s), %s dataplane\n",
		s->plan.rate, arrivals_name(s->plan.arrivals), s->plan.duration_s,
		(unsigned long long)s->plan.max_requests, s->plan.timeout_ms, s->threads, s->dataplane);
	loadgen_summary_line(s, out);
	fprintf(out, "latency (ns, from the intended send time, answers within the timeout):");
	static const double levels[] = {50, 90, 99, 99.9, 99.99};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		fprintf(out, " p%g=%llu", levels[i],
			(unsigned long long)latency_histogram_value_at_percentile(s->latency, levels[i]));
	fprintf(out, " max=%llu mean=%.0f\n", (unsigned long long)(s->latency->total_count ? s->latency->max : 0),
		latency_histogram_mean(s->latency));
	fprintf(out, "send lag (ns, actual minus intended send time, the generator's own delay): p50=%llu p99=%llu max=%llu\n",
		(unsigned long long)latency_histogram_value_at_percentile(s->send_lag, 50),
		(unsigned long long)latency_histogram_value_at_percentile(s->send_lag, 99),
		(unsigned long long)(s->send_lag->total_count ? s->send_lag->max : 0));
	fprintf(out,
		"requests: planned %llu, sent %llu, answered in time %llu (%llu decided, %llu 9xx failures), approved %llu "
		"for %llu minor units\n",
		(unsigned long long)s->planned, (unsigned long long)c->sent, (unsigned long long)c->answered,
		(unsigned long long)s->decided, (unsigned long long)(c->answered - s->decided),
		(unsigned long long)c->by_code[0], (unsigned long long)c->approved_amount);
	fprintf(out,
		"not sent: %llu behind schedule, %llu refused by the port, %llu no tracking slot, %llu declined: link "
		"congested (max outstanding), %llu encode errors\n",
		(unsigned long long)c->unsent_behind, (unsigned long long)c->unsent_tx_refused,
		(unsigned long long)c->unsent_table_full, (unsigned long long)c->not_sent_link_congested,
		(unsigned long long)c->encode_errors);
	fprintf(out,
		"timeouts: %llu; reversals sent %llu (+%llu refused by the port, %llu repeats as 1421), answered %llu, "
		"unanswered %llu; "
		"late 1110 %llu (%llu approved), late 1430 %llu (%llu accepted), 1430 to repeats %llu, "
		"1430 'not now' (repeated) %llu\n",
		(unsigned long long)c->timeouts, (unsigned long long)c->reversals_sent,
		(unsigned long long)c->reversals_tx_refused, (unsigned long long)c->reversal_repeats,
		(unsigned long long)c->reversals_answered,
		(unsigned long long)c->reversals_unanswered, (unsigned long long)c->late_answers,
		(unsigned long long)c->late_approved, (unsigned long long)c->late_reversal_answers,
		(unsigned long long)c->late_reversal_accepted, (unsigned long long)c->extra_reversal_answers,
		(unsigned long long)c->reversal_unsettled_answers);
	fprintf(out, "anomalies: %llu duplicates, %llu unmatched, %llu malformed, %llu wrong or missing MAC, %llu unexpected MTI\n",
		(unsigned long long)c->duplicates, (unsigned long long)c->unmatched, (unsigned long long)c->malformed,
		(unsigned long long)c->mac_refused,
		(unsigned long long)c->unexpected_mti);
	fprintf(out, "datagrams: %llu sent, %llu received; generator CPU %.2f s user, %.2f s system\n",
		(unsigned long long)c->tx_datagrams, (unsigned long long)c->rx_datagrams, s->cpu_user_s, s->cpu_system_s);
}

static json_t *codes_json(const uint64_t *codes)
{
	json_t *o = json_object();
	for (int c = 0; c < LOADGEN_ACTION_CODES; c++)
		if (codes[c]) {
			char key[8];
			snprintf(key, sizeof key, "%03d", c);
			json_object_set_new(o, key, json_integer((json_int_t)codes[c]));
		}
	return o;
}

#define COUNT(name) json_object_set_new(counts, #name, json_integer((json_int_t)c->name))

bool loadgen_summary_json(const struct loadgen_summary *s, const char *path, char *err, size_t err_size)
{
	const struct loadgen_counts *c = &s->counts;
	json_t *root = json_object();
	json_t *plan = json_pack("{s:f, s:s, s:f, s:I, s:i, s:i, s:s}", "rate", s->plan.rate, "arrivals",
				 arrivals_name(s->plan.arrivals), "duration_s", s->plan.duration_s, "max_requests",
				 (json_int_t)s->plan.max_requests, "timeout_ms", (int)s->plan.timeout_ms, "threads",
				 (int)s->threads, "dataplane", s->dataplane);
	json_object_set_new(root, "plan", plan);
	json_object_set_new(root, "planned", json_integer((json_int_t)s->planned));
	json_object_set_new(root, "send_seconds", json_real(s->send_seconds));
	json_object_set_new(root, "answer_seconds", json_real(s->answer_seconds));
	json_object_set_new(root, "offered_rate", json_real(s->offered_rate));
	json_object_set_new(root, "throughput", json_real(s->throughput));
	json_object_set_new(root, "decided_rate", json_real(s->decided_rate));
	json_object_set_new(root, "cpu_user_s", json_real(s->cpu_user_s));
	json_object_set_new(root, "cpu_system_s", json_real(s->cpu_system_s));

	json_t *counts = json_object();
	COUNT(sent);
	COUNT(unsent_behind);
	COUNT(unsent_tx_refused);
	COUNT(unsent_table_full);
	COUNT(not_sent_link_congested);
	COUNT(encode_errors);
	COUNT(answered);
	json_object_set_new(counts, "decided", json_integer((json_int_t)s->decided));
	COUNT(approved_amount);
	COUNT(timeouts);
	COUNT(reversals_sent);
	COUNT(reversals_tx_refused);
	COUNT(reversal_repeats);
	COUNT(reversals_answered);
	COUNT(reversals_unanswered);
	COUNT(late_answers);
	COUNT(late_approved);
	COUNT(late_reversal_answers);
	COUNT(late_reversal_accepted);
	COUNT(extra_reversal_answers);
	COUNT(reversal_unsettled_answers);
	COUNT(duplicates);
	COUNT(unmatched);
	COUNT(malformed);
	COUNT(unexpected_mti);
	COUNT(mac_refused);
	COUNT(rx_datagrams);
	COUNT(tx_datagrams);
	json_object_set_new(counts, "approved", json_integer((json_int_t)c->by_code[0]));
	json_object_set_new(counts, "interval_overruns", json_integer((json_int_t)s->interval_overruns));
	json_object_set_new(root, "counts", counts);
	json_object_set_new(root, "action_codes", codes_json(c->by_code));
	json_object_set_new(root, "reversal_action_codes", codes_json(c->reversal_by_code));

	const struct latency_histogram *h = s->latency;
	json_t *latency = json_object();
	json_object_set_new(latency, "count", json_integer((json_int_t)h->total_count));
	static const struct {
		const char *key;
		double p;
	} levels[] = {{"p50", 50}, {"p90", 90}, {"p99", 99}, {"p99_9", 99.9}, {"p99_99", 99.99}};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		json_object_set_new(latency, levels[i].key, json_real(us(latency_histogram_value_at_percentile(h, levels[i].p))));
	json_object_set_new(latency, "min", json_real(us(h->total_count ? h->min : 0)));
	json_object_set_new(latency, "max", json_real(us(h->max)));
	json_object_set_new(latency, "mean", json_real(latency_histogram_mean(h) / 1000.0));
	json_object_set_new(latency, "unit", json_string("us"));
	json_object_set_new(root, "latency_us", latency);
	json_t *lag = json_object();
	json_object_set_new(lag, "p50", json_real(us(latency_histogram_value_at_percentile(s->send_lag, 50))));
	json_object_set_new(lag, "p99", json_real(us(latency_histogram_value_at_percentile(s->send_lag, 99))));
	json_object_set_new(lag, "max", json_real(us(s->send_lag->max)));
	json_object_set_new(root, "send_lag_us", lag);

	int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (rc != 0) {
		snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}

FILE *loadgen_intervals_open(const char *path)
{
	FILE *f = fopen(path, "w");
	if (f)
		fprintf(f, "# second\tsent\tanswered\ttimeouts\tp50_us\tp99_us\tmax_us\tanswer_rate\n");
	return f;
}

void loadgen_intervals_row(FILE *f, uint64_t second, uint64_t sent, uint64_t answered, uint64_t timeouts,
			   const struct latency_histogram *h)
{
	fprintf(f, "%llu\t%llu\t%llu\t%llu\t%.1f\t%.1f\t%.1f\t%llu\n", (unsigned long long)second,
		(unsigned long long)sent, (unsigned long long)answered, (unsigned long long)timeouts,
		us(latency_histogram_value_at_percentile(h, 50)), us(latency_histogram_value_at_percentile(h, 99)),
		us(h->max), (unsigned long long)answered);
	fflush(f);
}

bool loadgen_make_dirs(const char *path, char *err, size_t err_size)
{
	char buf[1024];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
		snprintf(err, err_size, "report path too long");
		return false;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		goto fail;
	return true;
fail:
	snprintf(err, err_size, "cannot create %s: %s", buf, strerror(errno));
	return false;
}

static bool write_text(const char *dir, const char *name, const char *text)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

/* Paths are relative: gnuplot runs in the report directory. */
static const char percentiles_gp[] =
	"# Latency by percentile from latency.hgrm (HdrHistogram percentile distribution).\n"
	"reset\n"
	"set terminal pngcairo size 900,560 noenhanced\n"
	"set output 'percentiles.png'\n"
	"set title 'Authorization latency by percentile (from intended send time)'\n"
	"set logscale x\n"
	"set xtics ('0%%' 1, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' 10000, '99.999%%' 100000, '99.9999%%' 1000000)\n"
	"set xlabel 'percentile'\n"
	"set ylabel 'latency (us)'\n"
	"set grid\n"
	"set key off\n"
	"plot 'latency.hgrm' using 4:1 every ::1 with lines linewidth 2\n";

static const char rate_gp[] =
	"# Answered authorizations per second and p99 latency per second from intervals.tsv.\n"
	"reset\n"
	"set terminal pngcairo size 900,560 noenhanced\n"
	"set output 'rate.png'\n"
	"set title 'Rate and p99 latency over time'\n"
	"set xlabel 'second of the run'\n"
	"set ylabel 'authorizations per second'\n"
	"set grid\n"
	"set key top left\n";

/* The p99 series joins the rate plot only when some answer came in time (a log axis of zeros fails). */
static const char rate_with_p99_gp[] =
	"set y2label 'p99 latency (us)'\n"
	"set ytics nomirror\n"
	"set y2tics\n"
	"set logscale y2\n"
	"plot 'intervals.tsv' using 1:2 with linespoints title 'sent/s', \\\n"
	"     'intervals.tsv' using 1:3 with linespoints title 'answered/s', \\\n"
	"     'intervals.tsv' using 1:6 axes x1y2 with lines title 'p99 (us)'\n";

static const char rate_without_p99_gp[] =
	"plot 'intervals.tsv' using 1:2 with linespoints title 'sent/s', \\\n"
	"     'intervals.tsv' using 1:3 with linespoints title 'answered/s'\n";

/* Runs gnuplot on one script in dir; fork/exec, not system(): the directory name is never parsed by a shell. */
static bool run_gnuplot(const char *dir, const char *script, char *err, size_t err_size)
{
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, err_size, "fork: %s", strerror(errno));
		return false;
	}
	if (pid == 0) {
		if (chdir(dir) != 0)
			_exit(126);
		FILE *null_out = freopen("/dev/null", "w", stdout);
		(void)null_out;
		execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, err_size, "gnuplot %s on %s (scripts left in %s)",
			 WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "not found" : "failed", script, dir);
		return false;
	}
	return true;
}

bool loadgen_write_plots(const char *dir, bool have_latencies, char *err, size_t err_size)
{
	char rate_script[sizeof(rate_gp) + sizeof(rate_with_p99_gp)];
	snprintf(rate_script, sizeof rate_script, "%s%s", rate_gp, have_latencies ? rate_with_p99_gp : rate_without_p99_gp);
	if (!write_text(dir, "percentiles.gp", percentiles_gp) || !write_text(dir, "rate.gp", rate_script)) {
		snprintf(err, err_size, "cannot write gnuplot scripts in %s", dir);
		return false;
	}
	if (!run_gnuplot(dir, "rate.gp", err, err_size))
		return false;
	if (!have_latencies) {
		snprintf(err, err_size, "no answer within the timeout: no latency plot (rate.png written)");
		return false;
	}
	return run_gnuplot(dir, "percentiles.gp", err, err_size);
}
