#include "idle_wait.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>

uint64_t idle_wait_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int idle_wait_init(struct idle_wait *w, char *err, size_t err_size)
{
	memset(w, 0, sizeof(*w));
	w->wake.fd = -1;
	w->event_driven = true;
	w->max_spin_ns = IDLE_WAIT_MAX_SPIN_NS;
	w->pause_polls = IDLE_WAIT_PAUSE_POLLS;
	idle_backoff_init(&w->nap);
	w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	w->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->epoll_fd < 0 || w->wake.fd < 0) {
		snprintf(err, err_size, "idle wait: epoll/eventfd: %s", strerror(errno));
		idle_wait_destroy(w);
		w->event_driven = false; /* still usable: naps */
		return -1;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = w->wake.fd};
	if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->wake.fd, &ev) != 0) {
		snprintf(err, err_size, "idle wait: epoll_ctl: %s", strerror(errno));
		idle_wait_destroy(w);
		w->event_driven = false;
		return -1;
	}
	return 0;
}

void idle_wait_destroy(struct idle_wait *w)
{
	if (w->epoll_fd >= 0)
		close(w->epoll_fd);
	if (w->wake.fd >= 0)
		close(w->wake.fd);
	w->epoll_fd = w->wake.fd = -1;
}

void idle_wait_set_spin(struct idle_wait *w, uint32_t max_spin_ns, uint32_t pause_polls)
{
	w->pause_polls = pause_polls;
	w->max_spin_ns = max_spin_ns;
	if (w->spin_ns > max_spin_ns)
		w->spin_ns = max_spin_ns;
}

int idle_wait_add_fd(struct idle_wait *w, int fd, char *err, size_t err_size)
{
	if (w->fd_count >= IDLE_WAIT_MAX_FDS) {
		snprintf(err, err_size, "idle wait: more than %d descriptors", IDLE_WAIT_MAX_FDS);
		w->event_driven = false; /* a deaf sleep would lose traffic: nap instead */
		return -1;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		snprintf(err, err_size, "idle wait: epoll_ctl(%d): %s", fd, strerror(errno));
		w->event_driven = false;
		return -1;
	}
	w->fd_count++;
	return 0;
}

int idle_wait_add_port(struct idle_wait *w, struct dgram_port *port, uint16_t q, char *err, size_t err_size)
{
	if (w->port_count >= IDLE_WAIT_MAX_PORTS) {
		snprintf(err, err_size, "idle wait: more than %d ports", IDLE_WAIT_MAX_PORTS);
		return -1;
	}
	if (!w->event_driven)
		return 0; /* naps already: nothing to add */
	int fds[IDLE_WAIT_MAX_FDS];
	int n = port->ops->wait_fds ? port->ops->wait_fds(port, q, fds, IDLE_WAIT_MAX_FDS) : -1;
	if (n < 0) {
		w->event_driven = false; /* the back-off's naps for this loop */
		return 0;
	}
	for (int i = 0; i < n; i++)
		if (idle_wait_add_fd(w, fds[i], err, err_size) != 0)
			return -1;
	w->ports[w->port_count].port = port;
	w->ports[w->port_count].queue = q;
	w->port_count++;
	return 0;
}

bool idle_wait_spin(struct idle_wait *w)
{
	if (!w->event_driven) {
		/* The old back-off: pause, yield, then naps doubling to a cap. */
		w->nap_ns = idle_backoff_next(&w->nap);
		return w->nap_ns == 0;
	}
	if (w->spin_ns == 0)
		return false;
	uint64_t now = idle_wait_now_ns();
	if (w->idle_since_ns == 0)
		w->idle_since_ns = now;
	if (now - w->idle_since_ns >= w->spin_ns)
		return false;
	if (w->empty_polls++ < w->pause_polls)
		idle_cpu_relax();
	else
		sched_yield();
	return true;
}

static void lower_timer_slack(struct idle_wait *w)
{
	/* Per thread: a timeout at the next timer must not be stretched by the default 50 us. */
	if (!w->timer_slack_set) {
		(void)prctl(PR_SET_TIMERSLACK, IDLE_BACKOFF_TIMER_SLACK_NS, 0ul, 0ul, 0ul);
		w->timer_slack_set = true;
	}
}

static void nap(struct idle_wait *w, uint64_t timeout_ns)
{
	uint64_t ns = w->nap_ns ? w->nap_ns : IDLE_BACKOFF_MIN_SLEEP_NS;
	w->nap_ns = 0;
	if (ns > timeout_ns)
		ns = timeout_ns;
	if (ns == 0)
		return;
	lower_timer_slack(w);
	w->stats.naps++;
	idle_backoff_sleep(ns);
}

/* The adaptive spin: a sleep that barely happened was not worth it; a long one was. */
static void adapt_spin(struct idle_wait *w, uint64_t slept_ns, bool woken)
{
	if (woken && slept_ns < IDLE_WAIT_SHORT_SLEEP_NS) {
		uint64_t next = (uint64_t)w->spin_ns * 2 + 2000u;
		w->spin_ns = next > w->max_spin_ns ? w->max_spin_ns : (uint32_t)next;
	} else if (!woken || slept_ns > IDLE_WAIT_LONG_SLEEP_NS) {
		w->spin_ns /= 2;
		if (w->spin_ns < 1000u)
			w->spin_ns = 0;
	}
}

void idle_wait_sleep(struct idle_wait *w, uint64_t timeout_ns, bool (*more)(void *ctx), void *ctx)
{
	if (timeout_ns > IDLE_WAIT_LONGEST_NS)
		timeout_ns = IDLE_WAIT_LONGEST_NS;
	if (!w->event_driven) {
		nap(w, timeout_ns);
		return;
	}
	/* Asleep from here for the kickers; their fence pairs with this one. */
	atomic_store_explicit(&w->wake.sleeping, 1, memory_order_seq_cst);
	atomic_thread_fence(memory_order_seq_cst);
	bool ready = more && more(ctx);
	bool fallback = false, kicked = ready;
	unsigned armed = 0;
	for (; !ready && armed < w->port_count; armed++) {
		int rc = w->ports[armed].port->ops->wait_arm(w->ports[armed].port, w->ports[armed].queue);
		ready = rc > 0;
		fallback = fallback || rc < 0;
	}
	if (ready) {
		w->stats.not_slept++;
	} else if (fallback) {
		nap(w, timeout_ns);
	} else if (timeout_ns > 0) {
		lower_timer_slack(w);
		struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000u),
				      .tv_nsec = (long)(timeout_ns % 1000000000u)};
		struct epoll_event events[IDLE_WAIT_MAX_FDS + 1];
		uint64_t before = idle_wait_now_ns();
		int n = epoll_pwait2(w->epoll_fd, events, IDLE_WAIT_MAX_FDS + 1, &ts, NULL);
		uint64_t slept = idle_wait_now_ns() - before;
		w->stats.sleeps++;
		for (int i = 0; i < n; i++)
			kicked = kicked || events[i].data.fd == w->wake.fd;
		if (n > 0)
			w->stats.woken++;
		else
			w->stats.timed_out++;
		adapt_spin(w, slept, n > 0);
	}
	for (unsigned i = 0; i < armed; i++)
		w->ports[i].port->ops->wait_disarm(w->ports[i].port, w->ports[i].queue);
	atomic_store_explicit(&w->wake.sleeping, 0, memory_order_relaxed);
	if (kicked) {
		/* Clears the kick (non-blocking). A kick that lands after this read leaves the eventfd
		 * readable: the next sleep then returns at once and clears it, a wasted turn, not a lost one. */
		uint64_t kicks;
		ssize_t rc = read(w->wake.fd, &kicks, sizeof(kicks));
		(void)rc;
	}
	w->idle_since_ns = 0;
	w->empty_polls = 0;
}

void idle_wait_sleep_timer(struct idle_wait *w, uint64_t timeout_ns)
{
	if (timeout_ns > IDLE_WAIT_LONGEST_NS)
		timeout_ns = IDLE_WAIT_LONGEST_NS;
	if (timeout_ns > 0) {
		lower_timer_slack(w);
		struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000u),
				      .tv_nsec = (long)(timeout_ns % 1000000000u)};
		uint64_t before = idle_wait_now_ns();
		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
			;
		w->stats.sleeps++;
		w->stats.timed_out++;
		adapt_spin(w, idle_wait_now_ns() - before, false);
	}
	w->idle_since_ns = 0;
	w->empty_polls = 0;
}
