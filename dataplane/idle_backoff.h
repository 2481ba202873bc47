/*
 * Idle back-off for poll loops.
 *
 * A poll loop that finds no work must not hold a core: the test boxes have two
 * cores shared by several agents. After a run of empty polls the loop first
 * spins with the CPU's pause hint (cheap, reacts in nanoseconds), then yields,
 * then sleeps for exponentially longer up to a cap. Any work resets it.
 *
 *   struct idle_backoff b;
 *   idle_backoff_init(&b);
 *   for (;;) {
 *       unsigned n = poll_once();
 *       if (n) { idle_backoff_reset(&b); continue; }
 *       uint64_t ns = idle_backoff_next(&b);    // spins or yields itself, returns 0
 *       if (ns) {                              // ... or asks for a sleep
 *           rcu_thread_offline();              // QSBR readers: no quiescent-state stall
 *           udp_port_wait(&port, (int)(ns / 1000)); // or idle_backoff_sleep(ns)
 *           rcu_thread_online();
 *       }
 *   }
 *
 * or simply idle_backoff_idle(&b), which sleeps with nanosleep. One struct per
 * thread: the first sleep lowers that thread's timer slack (PR_SET_TIMERSLACK
 * is per thread) so that a 1 us sleep is not stretched to the default 50 us.
 */
#ifndef IDLE_BACKOFF_H
#define IDLE_BACKOFF_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <time.h>

/*
 * Few pause-spins, many yields: on a box where every agent shares two vCPUs, a
 * poller that pause-spins holds its vCPU against the agents that have the
 * work it waits for, while sched_yield hands the vCPU over when someone else
 * is runnable and costs one cheap system call when nobody is. Measured end
 * to end (docs/benchmarks.md, 2026-11-25): 256 pause / 16 yield saturated at
 * about 92,000 authorizations/s async, 16 pause / 256 yield answered 117,000.
 */
#define IDLE_BACKOFF_SPIN_POLLS 16      /* empty polls answered with a pause hint */
#define IDLE_BACKOFF_YIELD_POLLS 256    /* then empty polls answered with sched_yield */
#define IDLE_BACKOFF_MIN_SLEEP_NS 1000u /* first sleep */
#define IDLE_BACKOFF_MAX_SLEEP_NS 1000000u /* cap: 1 ms */
#define IDLE_BACKOFF_TIMER_SLACK_NS 1000ul

struct idle_backoff {
	uint32_t empty_polls; /* since the last work */
	uint32_t spin_polls;
	uint32_t yield_polls;
	uint32_t sleep_ns;     /* next sleep */
	uint32_t min_sleep_ns;
	uint32_t max_sleep_ns;
	bool timer_slack_set;
	uint64_t sleeps; /* statistics: sleeps taken */
};

static inline void idle_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static inline void idle_backoff_init_with(struct idle_backoff *b, uint32_t spin_polls, uint32_t yield_polls,
					  uint32_t min_sleep_ns, uint32_t max_sleep_ns)
{
	b->empty_polls = 0;
	b->spin_polls = spin_polls;
	b->yield_polls = yield_polls;
	b->min_sleep_ns = min_sleep_ns ? min_sleep_ns : 1;
	b->max_sleep_ns = max_sleep_ns < b->min_sleep_ns ? b->min_sleep_ns : max_sleep_ns;
	b->sleep_ns = b->min_sleep_ns;
	b->timer_slack_set = false;
	b->sleeps = 0;
}

static inline void idle_backoff_init(struct idle_backoff *b)
{
	idle_backoff_init_with(b, IDLE_BACKOFF_SPIN_POLLS, IDLE_BACKOFF_YIELD_POLLS, IDLE_BACKOFF_MIN_SLEEP_NS,
			       IDLE_BACKOFF_MAX_SLEEP_NS);
}

/* The loop did work: poll hot again. */
static inline void idle_backoff_reset(struct idle_backoff *b)
{
	b->empty_polls = 0;
	b->sleep_ns = b->min_sleep_ns;
}

/* True when the next idle step will be a sleep (QSBR readers go offline first). */
static inline bool idle_backoff_will_sleep(const struct idle_backoff *b)
{
	return b->empty_polls >= b->spin_polls + b->yield_polls;
}

/*
 * One empty poll: spins or yields here and returns 0, or returns how many
 * nanoseconds the caller should sleep (or wait on its queue) before polling
 * again, doubling each time up to the cap.
 */
static inline uint64_t idle_backoff_next(struct idle_backoff *b)
{
	if (b->empty_polls < b->spin_polls) {
		b->empty_polls++;
		idle_cpu_relax();
		return 0;
	}
	if (b->empty_polls < b->spin_polls + b->yield_polls) {
		b->empty_polls++;
		sched_yield();
		return 0;
	}
	if (!b->timer_slack_set) {
		(void)prctl(PR_SET_TIMERSLACK, IDLE_BACKOFF_TIMER_SLACK_NS, 0ul, 0ul, 0ul);
		b->timer_slack_set = true;
	}
	uint64_t ns = b->sleep_ns;
	b->sleep_ns = b->sleep_ns > b->max_sleep_ns / 2 ? b->max_sleep_ns : b->sleep_ns * 2;
	b->sleeps++;
	return ns;
}

static inline void idle_backoff_sleep(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};
	(void)nanosleep(&ts, NULL);
}

/* One empty poll, sleeping with nanosleep when it is time to. */
static inline void idle_backoff_idle(struct idle_backoff *b)
{
	uint64_t ns = idle_backoff_next(b);
	if (ns)
		idle_backoff_sleep(ns);
}

/* idle_backoff_reset when work > 0, else idle_backoff_idle. */
static inline void idle_backoff_update(struct idle_backoff *b, unsigned work)
{
	if (work)
		idle_backoff_reset(b);
	else
		idle_backoff_idle(b);
}

#endif
