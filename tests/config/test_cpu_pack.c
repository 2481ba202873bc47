/*
 * cpu_pack.h: when a loop thread gathers on the home CPU and when it spreads
 * again (the decision, then a real thread that sleeps through its windows),
 * and that ISO_PACK_CPU=off leaves it where it is.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <time.h>

#include "cpu_pack.h"
#include "idle_wait.h"

Test(cpu_pack, a_mostly_idle_thread_packs_a_busy_or_starved_one_spreads)
{
	cr_assert(cpu_pack_decide(false, 0.05, 0.0, 0, false), "idle, not packed: packs");
	cr_assert_not(cpu_pack_decide(false, 0.05, 0.0, 0, true), "held after a spread: stays spread");
	cr_assert_not(cpu_pack_decide(false, 0.40, 0.0, 0, false), "too busy to pack");
	cr_assert_not(cpu_pack_decide(false, 0.05, 0.30, 0, false), "already waiting for CPUs: does not pack");
	cr_assert(cpu_pack_decide(true, 0.40, 0.05, 5000, false), "packed, busy but under HIGH: stays (hysteresis)");
	cr_assert(cpu_pack_decide(true, 0.10, 0.12, 8000, false), "many short waits behind other agents: stays");
	cr_assert_not(cpu_pack_decide(true, 0.60, 0.0, 0, false), "packed and busy: spreads");
	cr_assert_not(cpu_pack_decide(true, 0.10, 0.30, 0, false), "packed, waiting for the home CPU: spreads");
	cr_assert_not(cpu_pack_decide(true, 0.05, 0.05, 400000, false), "packed, each turn queued long: spreads");
}

static void sleep_through_windows(struct cpu_pack *p, int windows)
{
	for (int i = 0; i <= windows; i++) {
		cpu_pack_check(p, idle_wait_now_ns());
		struct timespec pause = {0, (long)(CPU_PACK_WINDOW_NS + 10000000u)};
		nanosleep(&pause, NULL);
	}
	cpu_pack_check(p, idle_wait_now_ns());
}

Test(cpu_pack, a_sleeping_thread_moves_to_the_home_cpu_and_back_when_asked)
{
	unsetenv("ISO_PACK_CPU");
	cpu_set_t before;
	cr_assert_eq(sched_getaffinity(0, sizeof before, &before), 0);
	if (CPU_COUNT(&before) < 2)
		cr_skip_test("one CPU: nothing to pack");
	struct cpu_pack p;
	cpu_pack_init(&p);
	cr_assert(p.enabled);
	sleep_through_windows(&p, 2);
	cr_assert(p.packed, "asleep for two windows and not packed");
	cpu_set_t now;
	cr_assert_eq(sched_getaffinity(0, sizeof now, &now), 0);
	cr_assert_eq(CPU_COUNT(&now), 1);
	cr_assert(CPU_ISSET(p.home, &now));
	cr_assert_eq(p.stats.packs, 1);

	/* A window spent running (or waiting to run: either spreads it): back to every CPU it had. */
	uint64_t until = idle_wait_now_ns() + CPU_PACK_WINDOW_NS + 20000000u;
	while (idle_wait_now_ns() < until)
		;
	cpu_pack_check(&p, idle_wait_now_ns());
	cr_assert_not(p.packed, "a busy window left it packed");
	cr_assert_eq(p.stats.spreads, 1);
	cr_assert_eq(sched_getaffinity(0, sizeof now, &now), 0);
	cr_assert(CPU_EQUAL(&now, &before));
	/* ... and held there: idle windows right after do not pack it again. */
	sleep_through_windows(&p, 1);
	cr_assert_not(p.packed, "packed again within the hold");
}

Test(cpu_pack, off_in_the_environment_never_moves_the_thread)
{
	setenv("ISO_PACK_CPU", "off", 1);
	struct cpu_pack p;
	cpu_pack_init(&p);
	cr_assert_not(p.enabled);
	sleep_through_windows(&p, 1);
	cr_assert_not(p.packed);
	unsetenv("ISO_PACK_CPU");
}
