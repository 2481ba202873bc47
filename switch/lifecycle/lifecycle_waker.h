/*
 * Sleep/wake of the lifecycle's background threads (card production, the
 * notification outbox): a kick or stop ends a wait early. Deadlines are on
 * the wall clock, because due times are stored and must survive restarts.
 */
#ifndef LIFECYCLE_WAKER_H
#define LIFECYCLE_WAKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct lifecycle_waker {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool kicked, stop;
};
void lifecycle_waker_init(struct lifecycle_waker *w);
void lifecycle_waker_destroy(struct lifecycle_waker *w);
void lifecycle_waker_kick(struct lifecycle_waker *w);
void lifecycle_waker_stop(struct lifecycle_waker *w);
/* Waits until the wall-clock deadline (at most 1 s), a kick or stop; false once stopped. */
bool lifecycle_waker_wait(struct lifecycle_waker *w, int64_t deadline_wall_ms);

/* Wall-clock milliseconds (due times survive restarts). */
int64_t lifecycle_wall_ms(void);

#endif
