/* Idle back-off steps (no timing involved) and the TSC clock against CLOCK_MONOTONIC. */
#include <criterion/criterion.h>

#include "idle_backoff.h"
#include "tsc_clock.h"

Test(idle_backoff, spins_then_yields_then_sleeps_longer_up_to_the_cap)
{
	struct idle_backoff b;
	idle_backoff_init_with(&b, 3, 2, 1000, 8000);
	for (int i = 0; i < 5; i++) {
		cr_assert_not(idle_backoff_will_sleep(&b));
		cr_assert_eq(idle_backoff_next(&b), 0, "poll %d spins or yields", i);
	}
	cr_assert(idle_backoff_will_sleep(&b));
	const uint64_t expected[] = {1000, 2000, 4000, 8000, 8000, 8000};
	for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
		cr_assert_eq(idle_backoff_next(&b), expected[i]);
	cr_assert_eq(b.sleeps, 6);
	idle_backoff_reset(&b);
	cr_assert_not(idle_backoff_will_sleep(&b));
	cr_assert_eq(idle_backoff_next(&b), 0);
	for (int i = 0; i < 4; i++)
		(void)idle_backoff_next(&b);
	cr_assert_eq(idle_backoff_next(&b), 1000, "work restarts the sleep growth");
}

Test(idle_backoff, update_resets_on_work)
{
	struct idle_backoff b;
	idle_backoff_init_with(&b, 1, 0, 1000, 2000);
	idle_backoff_update(&b, 0); /* spin */
	idle_backoff_update(&b, 0); /* sleeps 1 us */
	cr_assert_eq(b.sleeps, 1);
	idle_backoff_update(&b, 5);
	cr_assert_eq(b.empty_polls, 0);
	cr_assert_eq(b.sleep_ns, 1000);
}

Test(idle_backoff, defaults_cap_at_a_millisecond)
{
	struct idle_backoff b;
	idle_backoff_init(&b);
	uint64_t last = 0;
	for (int i = 0; i < IDLE_BACKOFF_SPIN_POLLS + IDLE_BACKOFF_YIELD_POLLS + 40; i++) {
		uint64_t ns = idle_backoff_next(&b);
		if (ns)
			last = ns;
	}
	cr_assert_eq(last, IDLE_BACKOFF_MAX_SLEEP_NS);
}

/* One (tsc, monotonic) pair read as close together as the scheduler lets us. */
static void paired_read(uint64_t *ticks, uint64_t *mono_ns, uint64_t *bracket_ns)
{
	uint64_t before = tsc_clock_monotonic_ns();
	*ticks = tsc_now();
	uint64_t after = tsc_clock_monotonic_ns();
	*mono_ns = before + (after - before) / 2;
	*bracket_ns = after - before;
}

Test(tsc_clock, ticks_convert_to_monotonic_nanoseconds)
{
	tsc_clock_init();
	cr_assert_gt(tsc_hz(), 0);
	/* Compare over a 20 ms interval; retry when preemption widened a read pair. */
	for (int attempt = 0; attempt < 20; attempt++) {
		uint64_t t0, m0, b0, t1, m1, b1;
		paired_read(&t0, &m0, &b0);
		struct timespec pause = {0, 20 * 1000 * 1000};
		nanosleep(&pause, NULL);
		paired_read(&t1, &m1, &b1);
		if (b0 > 50000 || b1 > 50000)
			continue;
		int64_t diff = (int64_t)tsc_to_ns(t1 - t0) - (int64_t)(m1 - m0);
		if (diff < 0)
			diff = -diff;
		/* 1% covers calibration error; the bracket covers the read skew. */
		cr_assert_leq((uint64_t)diff, (m1 - m0) / 100 + b0 + b1, "tsc %llu ns vs monotonic %llu ns",
			      (unsigned long long)tsc_to_ns(t1 - t0), (unsigned long long)(m1 - m0));
		int64_t one_second = (int64_t)tsc_to_ns(tsc_hz()) - 1000000000;
		cr_assert(one_second >= -2 && one_second <= 2, "tsc_hz ticks are %lld ns off a second", (long long)one_second);
		int64_t hz = (int64_t)tsc_from_ns(1000000000u) - (int64_t)tsc_hz();
		cr_assert(hz >= -1 && hz <= 1);
		return;
	}
	cr_skip_test("could not read the two clocks close enough together (machine too loaded)");
}
