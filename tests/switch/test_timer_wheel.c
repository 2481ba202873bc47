#include <criterion/criterion.h>

#include "timer_wheel.h"

static size_t expire(struct timer_wheel *w, uint64_t now, uint32_t *out)
{
	return timer_wheel_expire(w, now, out, 64);
}

Test(timer_wheel, fires_at_deadline_not_before)
{
	struct timer_wheel w;
	cr_assert(timer_wheel_init(&w, 16, 64, 1000));
	uint32_t out[64];
	timer_wheel_schedule(&w, 3, 1250);
	cr_assert_eq(expire(&w, 1249, out), 0);
	cr_assert(timer_wheel_armed(&w, 3));
	cr_assert_eq(expire(&w, 1250, out), 1);
	cr_assert_eq(out[0], 3);
	cr_assert_not(timer_wheel_armed(&w, 3));
	cr_assert_eq(expire(&w, 2000, out), 0, "fires once");
	timer_wheel_destroy(&w);
}

Test(timer_wheel, cancel_and_rearm)
{
	struct timer_wheel w;
	cr_assert(timer_wheel_init(&w, 16, 64, 0));
	uint32_t out[64];
	timer_wheel_schedule(&w, 1, 10);
	timer_wheel_schedule(&w, 2, 10);
	timer_wheel_cancel(&w, 1);
	timer_wheel_schedule(&w, 2, 30); /* re-arm moves it */
	cr_assert_eq(expire(&w, 20, out), 0);
	cr_assert_eq(expire(&w, 30, out), 1);
	cr_assert_eq(out[0], 2);
	timer_wheel_cancel(&w, 2); /* cancelling a fired timer is harmless */
	timer_wheel_destroy(&w);
}

Test(timer_wheel, deadlines_beyond_one_turn)
{
	struct timer_wheel w;
	cr_assert(timer_wheel_init(&w, 16, 8, 0)); /* 8 ms per turn */
	uint32_t out[64];
	timer_wheel_schedule(&w, 5, 100);
	timer_wheel_schedule(&w, 6, 4); /* same bucket as 100 modulo 8 */
	for (uint64_t now = 1; now < 100; now++) {
		size_t n = expire(&w, now, out);
		if (now == 4) {
			cr_assert_eq(n, 1);
			cr_assert_eq(out[0], 6);
		} else {
			cr_assert_eq(n, 0, "nothing due at %lu", (unsigned long)now);
		}
	}
	cr_assert_eq(expire(&w, 100, out), 1);
	cr_assert_eq(out[0], 5);
	timer_wheel_destroy(&w);
}

Test(timer_wheel, late_expire_catches_up_and_past_deadline_fires_next)
{
	struct timer_wheel w;
	cr_assert(timer_wheel_init(&w, 64, 16, 0));
	uint32_t out[64];
	for (uint32_t i = 0; i < 40; i++)
		timer_wheel_schedule(&w, i, 10 + i * 3);
	/* A worker that was descheduled for a long time sees all of them at once. */
	cr_assert_eq(expire(&w, 10000, out), 40);
	timer_wheel_schedule(&w, 7, 5); /* already in the past */
	cr_assert_eq(expire(&w, 10001, out), 1);
	cr_assert_eq(out[0], 7);
	timer_wheel_destroy(&w);
}

Test(timer_wheel, bounded_output_resumes_where_it_stopped)
{
	struct timer_wheel w;
	cr_assert(timer_wheel_init(&w, 32, 16, 0));
	uint32_t out[32];
	for (uint32_t i = 0; i < 20; i++)
		timer_wheel_schedule(&w, i, 5);
	bool seen[20] = {false};
	size_t total = 0, n;
	while ((n = timer_wheel_expire(&w, 5, out, 6)) > 0) {
		for (size_t i = 0; i < n; i++) {
			cr_assert_not(seen[out[i]], "id %u twice", out[i]);
			seen[out[i]] = true;
		}
		total += n;
	}
	cr_assert_eq(total, 20);
	timer_wheel_destroy(&w);
}

Test(timer_wheel, ignores_ids_out_of_range)
{
	struct timer_wheel w;
	cr_assert(timer_wheel_init(&w, 4, 8, 0));
	timer_wheel_schedule(&w, 4, 1);
	timer_wheel_cancel(&w, 99);
	uint32_t out[4];
	cr_assert_eq(timer_wheel_expire(&w, 10, out, 4), 0);
	timer_wheel_destroy(&w);
	cr_assert_not(timer_wheel_init(&w, 0, 8, 0));
}

/* How long an idle worker may sleep: the earliest armed deadline within the horizon. */
Test(timer_wheel, next_deadline_is_the_earliest_armed_one_within_the_horizon)
{
	struct timer_wheel w;
	cr_assert(timer_wheel_init(&w, 16, 64, 1000));
	uint32_t out[64];
	cr_assert_eq(expire(&w, 1000, out), 0);
	cr_assert_eq(timer_wheel_next_deadline(&w, 1000, 100), TIMER_WHEEL_NOTHING_DUE, "nothing armed");
	timer_wheel_schedule(&w, 1, 1250);
	timer_wheel_schedule(&w, 2, 1040);
	timer_wheel_schedule(&w, 3, 1000 + 64 + 40); /* a turn later, same bucket as 1040 */
	cr_assert_eq(timer_wheel_next_deadline(&w, 1000, 100), 1040);
	cr_assert_eq(timer_wheel_next_deadline(&w, 1000, 30), TIMER_WHEEL_NOTHING_DUE, "beyond the horizon");
	timer_wheel_cancel(&w, 2);
	/* The walk stops after one turn of the wheel (64 ticks here): the sleep is capped anyway. */
	cr_assert_eq(timer_wheel_next_deadline(&w, 1000, 200), TIMER_WHEEL_NOTHING_DUE);
	/* Not swept up to now yet: something may be due, so "now" (the worker polls first). */
	cr_assert_leq(timer_wheel_next_deadline(&w, 1050, 60), 1050);
	cr_assert_eq(expire(&w, 1050, out), 0);
	/* 1104 shares 1040's bucket but is not due at 1040: the walk goes on to 1104 itself. */
	cr_assert_eq(timer_wheel_next_deadline(&w, 1050, 60), 1104);
	cr_assert_eq(expire(&w, 1104, out), 1);
	cr_assert_eq(timer_wheel_next_deadline(&w, 1104, 200), TIMER_WHEEL_NOTHING_DUE, "1250 is over a turn away");
	cr_assert_eq(expire(&w, 1200, out), 0);
	cr_assert_eq(timer_wheel_next_deadline(&w, 1200, 60), 1250);
	cr_assert_eq(expire(&w, 1250, out), 1);
	cr_assert_eq(timer_wheel_next_deadline(&w, 1250, 200), TIMER_WHEEL_NOTHING_DUE, "all fired");
	/* A deadline already past is due at once. */
	timer_wheel_schedule(&w, 4, 10);
	cr_assert_leq(timer_wheel_next_deadline(&w, 1250, 100), 1251);
	timer_wheel_destroy(&w);
}
