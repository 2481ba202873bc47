/*
 * Event-driven idling for a poll loop: busy-poll while traffic is heavy,
 * sleep in the kernel when it is not.
 *
 * A loop that finds no work spins for a short, adaptive while (its next
 * message is probably a few microseconds away under load), then sleeps in
 * epoll on everything that can bring it work: its port queues' descriptors
 * (a UDP socket, a TCP port's eventfd, a DPDK queue's RX interrupt), its own
 * eventfd that other threads kick after handing it work through a ring, and
 * a timeout at its next timer. Nothing naps a fixed time, so an answer
 * never waits for a nap to end, and an idle agent costs a few wake-ups a
 * second (the longest sleep is IDLE_WAIT_LONGEST_NS, so that stop flags are
 * seen without a kick).
 *
 * The spin budget adapts like a NIC's interrupt moderation: a sleep that
 * ended almost at once (the next message came within IDLE_WAIT_SHORT_SLEEP_NS)
 * was not worth its two context switches, so the budget doubles, up to
 * IDLE_WAIT_MAX_SPIN_NS; a long sleep halves it, down to nothing. At a
 * light load the loop sleeps right after its work; at saturation it
 * never gets to sleep at all.
 *
 * A port that cannot notify (a DPDK PMD without RX interrupts, such as
 * net_af_packet) makes the loop fall back to idle_backoff.h's naps, still cut
 * short at the next timer.
 *
 *   struct idle_wait iw;
 *   idle_wait_init(&iw, err, sizeof err);
 *   idle_wait_add_port(&iw, port, queue);
 *   for (;;) {
 *       if (poll_once()) { idle_wait_busy(&iw); continue; }
 *       if (idle_wait_spin(&iw)) continue;
 *       rcu_thread_offline();                                   // QSBR readers
 *       idle_wait_sleep(&iw, ns_to_next_timer, rings_have_work, ctx);
 *       rcu_thread_online();
 *   }
 *
 * Producers on other threads, after publishing work for this loop:
 *   idle_wake_kick(&iw.wake);
 */
#ifndef IDLE_WAIT_H
#define IDLE_WAIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "dgram_port.h"
#include "idle_backoff.h"

#define IDLE_WAIT_MAX_PORTS 4
#define IDLE_WAIT_MAX_FDS 16
#define IDLE_WAIT_FOREVER UINT64_MAX
/* The longest sleep without traffic or timer: stop flags are read at least this often. */
#define IDLE_WAIT_LONGEST_NS 100000000ull /* 100 ms */
/* The spin before sleeping: up to this long since the last work... */
#define IDLE_WAIT_MAX_SPIN_NS 50000u /* 50 us */
/* ... doubled after a sleep shorter than this (not worth a sleep), halved after one longer than LONG. */
#define IDLE_WAIT_SHORT_SLEEP_NS 15000u
#define IDLE_WAIT_LONG_SLEEP_NS 60000u
/* Empty polls answered with a pause hint before the spin yields instead (idle_backoff.h says why). */
#define IDLE_WAIT_PAUSE_POLLS IDLE_BACKOFF_SPIN_POLLS

/* The part of a waiter other threads touch. */
struct idle_wake {
	_Atomic int sleeping; /* set before the waiter's last look at its rings */
	int fd;               /* eventfd in the waiter's epoll set */
};

/*
 * After publishing work for the waiter (a ring slot it polls): wakes it if it
 * sleeps or is about to. Costs a fence and a load while it is awake.
 */
static inline void idle_wake_kick(struct idle_wake *k)
{
	/* Pairs with the waiter's fence between setting sleeping and its last look at the rings. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&k->sleeping, memory_order_relaxed)) {
		uint64_t one = 1;
		ssize_t rc = write(k->fd, &one, sizeof(one));
		(void)rc; /* the counter is full only if nobody reads it: the waiter is awake anyway */
	}
}

struct idle_wait_stats {
	uint64_t sleeps;        /* epoll sleeps */
	uint64_t woken;         /* ... ended by traffic or a kick */
	uint64_t timed_out;     /* ... ended by the timeout (a timer due, or the longest sleep) */
	uint64_t not_slept;     /* sleeps called off: work arrived while arming */
	uint64_t naps;          /* fallback sleeps: a port could not notify */
};

struct idle_wait {
	struct idle_wake wake;
	int epoll_fd;
	struct {
		struct dgram_port *port;
		uint16_t queue;
	} ports[IDLE_WAIT_MAX_PORTS];
	unsigned port_count;
	unsigned fd_count;
	bool event_driven; /* every port can notify */
	bool timer_slack_set;
	uint32_t empty_polls;  /* since the last work */
	uint32_t spin_ns;      /* adaptive spin budget */
	uint32_t max_spin_ns;
	uint32_t pause_polls;
	uint64_t idle_since_ns; /* first empty poll after work (0: not idle) */
	struct idle_backoff nap; /* the fallback */
	uint64_t nap_ns;         /* the nap idle_wait_spin chose, for idle_wait_sleep */
	struct idle_wait_stats stats;
};

/* Epoll set and eventfd. Returns 0, or -1 with the reason in err. */
int idle_wait_init(struct idle_wait *w, char *err, size_t err_size);
void idle_wait_destroy(struct idle_wait *w);
/* Adds queue q of a port (its descriptors, or the fallback when it cannot notify). 0 or -1 (err). */
int idle_wait_add_port(struct idle_wait *w, struct dgram_port *port, uint16_t q, char *err, size_t err_size);
/* Adds a descriptor that is readable while there is work (a plain UDP socket). 0 or -1 (err). */
int idle_wait_add_fd(struct idle_wait *w, int fd, char *err, size_t err_size);
/* Sets the longest spin (0: sleep at the first empty poll) and how many of its empty polls
 * use a pause hint before it yields instead. */
void idle_wait_set_spin(struct idle_wait *w, uint32_t max_spin_ns, uint32_t pause_polls);

/* The loop did work: spin again when it next finds none. */
static inline void idle_wait_busy(struct idle_wait *w)
{
	w->empty_polls = 0;
	w->idle_since_ns = 0;
	idle_backoff_reset(&w->nap);
}

uint64_t idle_wait_now_ns(void);

/*
 * One empty poll, first half: true when it spun (a pause hint or a yield,
 * within the spin budget); false when it is time to sleep with
 * idle_wait_sleep (QSBR readers go offline first).
 */
bool idle_wait_spin(struct idle_wait *w);

/*
 * Sleeps until traffic on a port, a kick, or timeout_ns (IDLE_WAIT_FOREVER:
 * none; always capped at IDLE_WAIT_LONGEST_NS). `more`, when not NULL, is
 * asked after the waiter announced its sleep: true when a ring the kickers
 * feed already holds work (the sleep is then called off). On a port that
 * cannot notify: the back-off's nap, cut at timeout_ns.
 */
void idle_wait_sleep(struct idle_wait *w, uint64_t timeout_ns, bool (*more)(void *ctx), void *ctx);

/*
 * Sleeps until timeout_ns only (capped like idle_wait_sleep), deaf to the
 * ports: for a loop that has a timer due anyway and lets its traffic wait
 * for it (a generator whose answers carry the kernel's arrival stamps).
 */
void idle_wait_sleep_timer(struct idle_wait *w, uint64_t timeout_ns);

/* One empty poll: idle_wait_spin, else idle_wait_sleep. */
static inline void idle_wait_idle(struct idle_wait *w, uint64_t timeout_ns, bool (*more)(void *ctx), void *ctx)
{
	if (!idle_wait_spin(w))
		idle_wait_sleep(w, timeout_ns, more, ctx);
}

#endif
