/*
 * The simulator under test: a seed replays its run byte for byte (same trace
 * hash, in this process and in two runs of the sim program, so that nothing
 * hangs on addresses or the machine's clock), a batch of seeds with every
 * fault class but the known gap finds no violation, and the old lost-reversal
 * behaviour (advices abandoned after a second) is caught with money lost.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static struct sim_result run(uint64_t seed, unsigned faults, const char *mutation, uint32_t load_ms)
{
	struct sim_options o = {.seed = seed, .faults = faults, .mutation = mutation, .load_ms = load_ms, .quiet = true};
	struct sim_result r;
	char err[512];
	cr_assert(sim_run(&o, &r, err, sizeof(err)), "seed %llu: %s", (unsigned long long)seed, err);
	return r;
}

Test(sim, one_seed_replays_the_same_trace)
{
	struct sim_result a = run(7, SIM_FAULTS_DEFAULT, NULL, 10000);
	struct sim_result b = run(7, SIM_FAULTS_DEFAULT, NULL, 10000);
	cr_assert_gt(a.trace_lines, 1000, "a run that did something");
	cr_assert_gt(a.faults, 0);
	cr_assert_eq(a.trace_hash, b.trace_hash, "seed 7: trace hash %016llx then %016llx",
		     (unsigned long long)a.trace_hash, (unsigned long long)b.trace_hash);
	cr_assert_eq(a.trace_lines, b.trace_lines);
	struct sim_result c = run(8, SIM_FAULTS_DEFAULT, NULL, 10000);
	cr_assert_neq(a.trace_hash, c.trace_hash, "another seed, another run");
}

/* The "hash <hex>" of `sim --seed 11 --load-ms 5000` run as a program. */
static unsigned long long program_hash(void)
{
	const char *build = getenv("ISO_BUILD_DIR");
	cr_assert_not_null(build, "ISO_BUILD_DIR (set by ctest)");
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s/tests/sim/sim --seed 11 --load-ms 5000 --quiet", build);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	char line[2048];
	unsigned long long hash = 0;
	while (fgets(line, sizeof(line), p)) {
		const char *h = strstr(line, " hash ");
		if (h && strncmp(line, "seed 11 ok", 10) == 0)
			hash = strtoull(h + 6, NULL, 16);
	}
	cr_assert_eq(pclose(p), 0, "sim --seed 11 failed");
	return hash;
}

Test(sim, two_processes_replay_the_same_trace)
{
	unsigned long long a = program_hash(), b = program_hash();
	cr_assert_neq(a, 0ull);
	cr_assert_eq(a, b, "sim --seed 11: trace hash %016llx then %016llx", a, b);
	struct sim_result here = run(11, SIM_FAULTS_DEFAULT, NULL, 5000);
	cr_assert_eq(here.trace_hash, a, "the program and the library run the same seed the same way");
}

Test(sim, seeds_with_every_fault_find_no_violation, .timeout = 500)
{
	uint64_t authorizations = 0, faults = 0;
	for (uint64_t seed = 1; seed <= SIM_CI_SEEDS; seed++) {
		struct sim_result r = run(seed, SIM_FAULTS_DEFAULT, NULL, 0);
		cr_assert(r.ok, "seed %llu: %s (replay: sim --seed %llu)", (unsigned long long)seed, r.violation,
			  (unsigned long long)seed);
		authorizations += r.authorizations;
		faults += r.faults;
	}
	cr_log_info("%d seeds: %llu authorizations, %llu faults", SIM_CI_SEEDS, (unsigned long long)authorizations,
		    (unsigned long long)faults);
	cr_assert_gt(authorizations, 100u * SIM_CI_SEEDS);
	cr_assert_gt(faults, 5u * SIM_CI_SEEDS);
}

Test(sim, the_lost_reversal_bug_is_found)
{
	/* Advices abandoned after a second (the behaviour before store and forward): some seed
	 * must show a cardholder charged for an authorization that timed out. */
	uint64_t found = 0;
	char what[512] = "";
	for (uint64_t seed = 1; seed <= 20 && !found; seed++) {
		struct sim_result r = run(seed, SIM_FAULTS_DEFAULT, "abandon-advices", 0);
		if (!r.ok && strstr(r.violation, "is charged")) {
			found = seed;
			snprintf(what, sizeof(what), "%s", r.violation);
		}
	}
	cr_assert(found, "advices abandoned after a second: no seed of 1..20 showed a cardholder charged");
	cr_log_info("abandon-advices caught by seed %llu: %s", (unsigned long long)found, what);
}
