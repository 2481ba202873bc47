/*
 * idle_wait.h: what ends a sleep (traffic already on a port, a kick, the
 * timeout), that a kick costs nothing while the waiter is awake, that work
 * found while arming calls the sleep off, and the fallback to naps for a port
 * that cannot notify. No timing is asserted beyond "not before the timeout".
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <string.h>

#include "idle_wait.h"
#include "socket_dgram_port.h"
#include "udp_port.h"

static struct dgram_port open_port(void)
{
	struct dgram_port p;
	char err[256];
	cr_assert_eq(socket_dgram_port_open(&p, "127.0.0.1", 0, 1, SOCKET_DGRAM_SHARED_PORT, 0, err, sizeof err), 0,
		     "%s", err);
	return p;
}

static void send_one(const struct dgram_port *to)
{
	struct udp_port tx;
	cr_assert_eq(udp_port_open(&tx, "127.0.0.1", 0, 0), 0);
	uint8_t byte = 7;
	struct udp_datagram d = {.peer = to->local, .data = &byte, .length = 1, .capacity = 1};
	cr_assert_eq(udp_port_tx_burst(&tx, &d, 1), 1);
	udp_port_close(&tx);
}

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) == 1;
}

Test(idle_wait, a_datagram_waiting_ends_the_sleep)
{
	struct dgram_port port = open_port();
	struct idle_wait w;
	char err[256];
	cr_assert_eq(idle_wait_init(&w, err, sizeof err), 0, "%s", err);
	cr_assert_eq(idle_wait_add_port(&w, &port, 0, err, sizeof err), 0, "%s", err);
	cr_assert(w.event_driven);
	send_one(&port);
	/* Level-triggered: a datagram that came before the sleep wakes it at once, never lost. */
	idle_wait_sleep(&w, 10ull * 1000000000u, NULL, NULL);
	cr_expect_eq(w.stats.sleeps, 1);
	cr_expect_eq(w.stats.woken, 1, "the sleep ended by its timeout, not by the datagram");
	idle_wait_destroy(&w);
	port.ops->close(&port);
}

Test(idle_wait, the_timeout_ends_an_empty_sleep_and_not_before)
{
	struct dgram_port port = open_port();
	struct idle_wait w;
	char err[256];
	cr_assert_eq(idle_wait_init(&w, err, sizeof err), 0, "%s", err);
	cr_assert_eq(idle_wait_add_port(&w, &port, 0, err, sizeof err), 0, "%s", err);
	uint64_t start = idle_wait_now_ns();
	idle_wait_sleep(&w, 5000000u, NULL, NULL);
	cr_expect_geq(idle_wait_now_ns() - start, 5000000u);
	cr_expect_eq(w.stats.timed_out, 1);
	idle_wait_destroy(&w);
	port.ops->close(&port);
}

Test(idle_wait, a_kick_writes_only_to_a_sleeper_and_wakes_it)
{
	struct idle_wait w;
	char err[256];
	cr_assert_eq(idle_wait_init(&w, err, sizeof err), 0, "%s", err);
	idle_wake_kick(&w.wake);
	cr_expect_not(readable(w.wake.fd), "an awake waiter costs its kickers no system call");
	/* As between the waiter's announcement and its epoll: the kick must land. */
	atomic_store(&w.wake.sleeping, 1);
	idle_wake_kick(&w.wake);
	cr_expect(readable(w.wake.fd));
	atomic_store(&w.wake.sleeping, 0);
	idle_wait_sleep(&w, 10ull * 1000000000u, NULL, NULL);
	cr_expect_eq(w.stats.woken, 1, "the kick did not end the sleep");
	cr_expect_not(readable(w.wake.fd), "the kick is cleared after the sleep");
	idle_wait_destroy(&w);
}

static bool work_in_ring(void *ctx)
{
	(*(int *)ctx)++;
	return true;
}

Test(idle_wait, work_found_after_the_announcement_calls_the_sleep_off)
{
	struct idle_wait w;
	char err[256];
	cr_assert_eq(idle_wait_init(&w, err, sizeof err), 0, "%s", err);
	int asked = 0;
	idle_wait_sleep(&w, 10ull * 1000000000u, work_in_ring, &asked);
	cr_expect_eq(asked, 1);
	cr_expect_eq(w.stats.sleeps, 0);
	cr_expect_eq(w.stats.not_slept, 1);
	cr_expect_eq(atomic_load(&w.wake.sleeping), 0);
	idle_wait_destroy(&w);
}

static int deaf_rx(struct dgram_port *p, uint16_t q, struct udp_datagram *d, int n)
{
	(void)p, (void)q, (void)d, (void)n;
	return 0;
}

static void deaf_close(struct dgram_port *p)
{
	(void)p;
}

Test(idle_wait, a_port_that_cannot_notify_naps_instead)
{
	static const struct dgram_port_ops deaf_ops = {.rx_burst = deaf_rx, .close = deaf_close};
	struct dgram_port deaf = {.ops = &deaf_ops, .queue_count = 1};
	struct idle_wait w;
	char err[256];
	cr_assert_eq(idle_wait_init(&w, err, sizeof err), 0, "%s", err);
	cr_assert_eq(idle_wait_add_port(&w, &deaf, 0, err, sizeof err), 0, "%s", err);
	cr_expect_not(w.event_driven);
	/* The old back-off: spins and yields first, then naps. */
	int spins = 0;
	while (idle_wait_spin(&w))
		spins++;
	cr_expect_eq(spins, IDLE_BACKOFF_SPIN_POLLS + IDLE_BACKOFF_YIELD_POLLS);
	idle_wait_sleep(&w, IDLE_WAIT_FOREVER, NULL, NULL);
	cr_expect_eq(w.stats.naps, 1);
	cr_expect_eq(w.stats.sleeps, 0);
	idle_wait_destroy(&w);
}

Test(idle_wait, the_spin_grows_after_short_sleeps_and_shrinks_after_long_ones)
{
	struct dgram_port port = open_port();
	struct idle_wait w;
	char err[256];
	cr_assert_eq(idle_wait_init(&w, err, sizeof err), 0, "%s", err);
	cr_assert_eq(idle_wait_add_port(&w, &port, 0, err, sizeof err), 0, "%s", err);
	cr_expect_eq(w.spin_ns, 0, "a fresh waiter sleeps at once");
	cr_expect_not(idle_wait_spin(&w));
	/* Traffic already waiting: a sleep of next to nothing, not worth its context switches. */
	for (int i = 0; i < 64 && w.spin_ns == 0; i++) { /* bounded; one short sleep is enough */
		send_one(&port);
		idle_wait_sleep(&w, 10ull * 1000000000u, NULL, NULL);
		struct udp_datagram d[4];
		uint8_t buf[4][16];
		for (int k = 0; k < 4; k++)
			d[k] = (struct udp_datagram){.data = buf[k], .capacity = sizeof buf[k]};
		(void)dgram_rx_burst(&port, 0, d, 4);
	}
	cr_expect_gt(w.spin_ns, 0, "short sleeps did not grow the spin");
	cr_expect_leq(w.spin_ns, IDLE_WAIT_MAX_SPIN_NS);
	/* Long sleeps (timeouts) bring it back to nothing. */
	for (int i = 0; i < 16 && w.spin_ns; i++)
		idle_wait_sleep(&w, 200000u, NULL, NULL);
	cr_expect_eq(w.spin_ns, 0);
	idle_wait_destroy(&w);
	port.ops->close(&port);
}

Test(idle_wait, the_timer_sleep_lets_traffic_wait_until_its_timeout)
{
	struct dgram_port port = open_port();
	struct idle_wait w;
	char err[256];
	cr_assert_eq(idle_wait_init(&w, err, sizeof err), 0, "%s", err);
	cr_assert_eq(idle_wait_add_port(&w, &port, 0, err, sizeof err), 0, "%s", err);
	send_one(&port);
	/* A generator with arrival stamps reads its answers at its next send, not at each answer. */
	uint64_t start = idle_wait_now_ns();
	idle_wait_sleep_timer(&w, 5000000u);
	cr_expect_geq(idle_wait_now_ns() - start, 5000000u, "the waiting datagram ended the timer sleep");
	cr_expect_eq(w.stats.timed_out, 1);
	uint8_t buf[16];
	struct udp_datagram d = {.data = buf, .capacity = sizeof buf};
	cr_expect_eq(dgram_rx_burst(&port, 0, &d, 1), 1, "the datagram is still there to read");
	idle_wait_destroy(&w);
	port.ops->close(&port);
}
