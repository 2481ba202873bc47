/*
 * sim: the deterministic simulation of the ecosystem (docs/simulation.md).
 *
 *   sim --seed N                  one run, replayed exactly (same trace hash)
 *   sim --seeds K [--first-seed S] K runs, seeds S..S+K-1 (S defaults to 1)
 *   sim --hours H [--first-seed S] runs seeds until H hours of wall time passed
 *   --faults LIST|default|all|none   fault classes (default: all but resend-across-restart)
 *   --mutate abandon-advices      the old lost-reversal behaviour, which must be caught
 *   --expect-violation            exit 0 only when some run finds a violation
 *   --repeat                      runs each seed twice and fails if the traces differ
 *   --trace FILE                  every trace line of the run(s) into FILE
 *   --decline-on-913              cardholders take a 913 for a decline (a finding: docs/simulation.md)
 *   --load-ms MS --cardholders N --workers W
 * Exit: 0 every run passed (or, with --expect-violation, one failed), 1 a
 * violation (or none found), 2 bad options or a run that could not start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

static void usage(void)
{
	fprintf(stderr, "usage: sim (--seed N | --seeds K | --hours H) [--first-seed S] [--faults LIST] [--mutate NAME]\n"
			"           [--expect-violation] [--repeat] [--trace FILE] [--load-ms MS] [--cardholders N]\n"
			"           [--workers W] [--decline-on-913] [--quiet]\n");
}

static bool number(const char *text, unsigned long long *out)
{
	char *end;
	*out = strtoull(text, &end, 10);
	return *text && !*end;
}

static double wall_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void report(const struct sim_options *o, const struct sim_result *r)
{
	printf("seed %llu %s: %llu authorizations (%llu approved, %llu declined, %llu timed out and reversed), "
	       "%llu faults, %llu datagrams (%llu lost, %llu duplicated, %llu partitioned), %.1f s simulated in %.2f s "
	       "(%.1fx), trace %llu lines hash %016llx%s%s\n",
	       (unsigned long long)o->seed, r->ok ? "ok" : "VIOLATION", (unsigned long long)r->authorizations,
	       (unsigned long long)r->approved, (unsigned long long)r->declined, (unsigned long long)r->timed_out,
	       (unsigned long long)r->faults, (unsigned long long)r->datagrams, (unsigned long long)r->lost,
	       (unsigned long long)r->duplicated, (unsigned long long)r->partitioned, (double)r->steps / 1000.0,
	       r->wall_seconds, r->wall_seconds > 0 ? (double)r->steps / 1000.0 / r->wall_seconds : 0.0,
	       (unsigned long long)r->trace_lines, (unsigned long long)r->trace_hash, r->ok ? "" : ": ", r->violation);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sim_options o = {.faults = SIM_FAULTS_DEFAULT};
	unsigned long long seed = 0, seeds = 0, first = 1, v;
	double hours = 0;
	bool have_seed = false, expect_violation = false, repeat = false;
	const char *trace_path = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--seed") == 0 && next && number(next, &seed)) {
			have_seed = true;
			i++;
		} else if (strcmp(a, "--seeds") == 0 && next && number(next, &seeds)) {
			i++;
		} else if (strcmp(a, "--first-seed") == 0 && next && number(next, &first)) {
			i++;
		} else if (strcmp(a, "--hours") == 0 && next && (hours = atof(next)) > 0) {
			i++;
		} else if (strcmp(a, "--faults") == 0 && next && sim_faults_parse(next, &o.faults)) {
			i++;
		} else if (strcmp(a, "--mutate") == 0 && next && strcmp(next, "abandon-advices") == 0) {
			o.mutation = next;
			i++;
		} else if (strcmp(a, "--load-ms") == 0 && next && number(next, &v) && v > 0 && v < 3600000) {
			o.load_ms = (uint32_t)v;
			i++;
		} else if (strcmp(a, "--cardholders") == 0 && next && number(next, &v) && v > 0 && v <= 48) {
			o.cardholders = (uint32_t)v;
			i++;
		} else if (strcmp(a, "--workers") == 0 && next && number(next, &v) && v > 0 && v <= 4) {
			o.workers = (uint16_t)v;
			i++;
		} else if (strcmp(a, "--trace") == 0 && next) {
			trace_path = next;
			i++;
		} else if (strcmp(a, "--expect-violation") == 0) {
			expect_violation = true;
		} else if (strcmp(a, "--decline-on-913") == 0) {
			o.decline_on_913 = true;
		} else if (strcmp(a, "--repeat") == 0) {
			repeat = true;
		} else if (strcmp(a, "--quiet") == 0) {
			o.quiet = true;
		} else {
			usage();
			return 2;
		}
	}
	if (have_seed + (seeds > 0) + (hours > 0) != 1) {
		usage();
		return 2;
	}
	if (trace_path) {
		o.trace = fopen(trace_path, "w");
		if (!o.trace) {
			perror(trace_path);
			return 2;
		}
	}
	if (have_seed) {
		first = seed;
		seeds = 1;
	}
	double start = wall_now();
	unsigned long long runs = 0, failed = 0, auths = 0, faults = 0;
	double simulated = 0;
	int status = 0;
	for (unsigned long long s = first;; s++) {
		if (hours > 0 ? wall_now() - start > hours * 3600 : s - first >= seeds)
			break;
		o.seed = s;
		struct sim_result r;
		char err[512];
		if (!sim_run(&o, &r, err, sizeof(err))) {
			fprintf(stderr, "sim: seed %llu: %s\n", s, err);
			status = 2;
			break;
		}
		report(&o, &r);
		runs++;
		auths += r.authorizations;
		faults += r.faults;
		simulated += (double)r.steps / 1000.0;
		if (!r.ok)
			failed++;
		if (repeat) {
			struct sim_result again;
			struct sim_options quiet = o;
			quiet.quiet = true;
			quiet.trace = NULL;
			if (!sim_run(&quiet, &again, err, sizeof(err)) || again.trace_hash != r.trace_hash ||
			    again.trace_lines != r.trace_lines) {
				fprintf(stderr, "sim: seed %llu is not deterministic: trace hash %016llx then %016llx\n", s,
					(unsigned long long)r.trace_hash, (unsigned long long)again.trace_hash);
				status = 1;
			}
		}
		if (!r.ok && (have_seed || expect_violation))
			break;
	}
	double wall = wall_now() - start;
	printf("sim: %llu run(s), %llu with a violation; %llu authorizations, %llu faults; %.0f s simulated in %.1f s "
	       "(%.1f simulated s per wall s)\n",
	       runs, failed, auths, faults, simulated, wall, wall > 0 ? simulated / wall : 0.0);
	if (o.trace)
		fclose(o.trace);
	if (status)
		return status;
	if (expect_violation)
		return failed ? 0 : 1;
	return failed ? 1 : 0;
}
