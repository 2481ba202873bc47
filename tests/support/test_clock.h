/* Monotonic time for the tests' deadlines and bounded polling. */
#ifndef TEST_CLOCK_H
#define TEST_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC: deadlines that a changed wall clock cannot stretch. */
int64_t test_now_ms(void);
/* Sleeps ms milliseconds (a poll loop's pause, never a wait for a condition by itself). */
void test_sleep_ms(int ms);

#endif
