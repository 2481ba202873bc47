#include "lifecycle_waker.h"

#include <time.h>

void lifecycle_waker_init(struct lifecycle_waker *w)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &a);
	pthread_condattr_destroy(&a);
	w->kicked = w->stop = false;
}

void lifecycle_waker_destroy(struct lifecycle_waker *w)
{
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

void lifecycle_waker_kick(struct lifecycle_waker *w)
{
	pthread_mutex_lock(&w->lock);
	w->kicked = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void lifecycle_waker_stop(struct lifecycle_waker *w)
{
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int64_t lifecycle_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool lifecycle_waker_wait(struct lifecycle_waker *w, int64_t deadline_wall_ms)
{
	int64_t wait_ms = deadline_wall_ms - lifecycle_wall_ms();
	if (wait_ms > 1000)
		wait_ms = 1000; /* re-read the store now and then: the wall clock may jump */
	pthread_mutex_lock(&w->lock);
	if (wait_ms > 0 && !w->kicked && !w->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (wait_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!w->kicked && !w->stop && pthread_cond_timedwait(&w->cond, &w->lock, &until) == 0)
			;
	}
	w->kicked = false;
	bool running = !w->stop;
	pthread_mutex_unlock(&w->lock);
	return running;
}
