/*
 * The simulator itself under test: a seed replays its run byte for byte (same
 * trace hash), a batch of seeds with every fault class but the known gap finds
 * no violation, and the old lost-reversal behaviour (advices abandoned after a
 * second) is caught by some seed of a small batch.
 */
#include <criterion/criterion.h>
#include <stdio.h>

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
	cr_assert_eq(a.trace_hash, b.trace_hash, "seed 7: trace hash %016llx then %016llx",
		     (unsigned long long)a.trace_hash, (unsigned long long)b.trace_hash);
	cr_assert_eq(a.trace_lines, b.trace_lines);
	struct sim_result c = run(8, SIM_FAULTS_DEFAULT, NULL, 10000);
	cr_assert_neq(a.trace_hash, c.trace_hash, "another seed, another run");
}

Test(sim, seeds_with_every_fault_find_no_violation, .timeout = 500)
{
	for (uint64_t seed = 1; seed <= SIM_CI_SEEDS; seed++) {
		struct sim_result r = run(seed, SIM_FAULTS_DEFAULT, NULL, 0);
		cr_assert(r.ok, "seed %llu: %s (replay: sim --seed %llu)", (unsigned long long)seed, r.violation,
			  (unsigned long long)seed);
		cr_assert_gt(r.authorizations, 0);
	}
}

Test(sim, the_lost_reversal_bug_is_found)
{
	uint64_t found = 0;
	for (uint64_t seed = 1; seed <= 40 && !found; seed++) {
		struct sim_result r = run(seed, SIM_FAULTS_DEFAULT, "abandon-advices", 0);
		if (!r.ok)
			found = seed;
	}
	cr_assert(found, "advices abandoned after a second: no seed of 1..40 caught it");
}
