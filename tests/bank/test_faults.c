/* Fault injection pieces: the seeded PRNG and the bounded delay queue. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "faults.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(faults, the_prng_is_deterministic_per_seed_and_in_range)
{
	struct fault_rng a, b, c;
	fault_rng_seed(&a, 42);
	fault_rng_seed(&b, 42);
	fault_rng_seed(&c, 43);
	int differ = 0;
	for (int i = 0; i < 1000; i++) {
		double x = fault_rng_next(&a), y = fault_rng_next(&b), z = fault_rng_next(&c);
		cr_assert(x >= 0.0 && x < 1.0);
		cr_assert_eq(x, y);
		differ += x != z;
	}
	cr_assert_gt(differ, 990);
}

Test(faults, hit_rate_follows_the_probability)
{
	struct fault_rng r;
	fault_rng_seed(&r, 7);
	int hits = 0;
	for (int i = 0; i < 100000; i++)
		hits += fault_hit(&r, 0.25);
	cr_assert(hits > 24000 && hits < 26000, "%d hits of 100000 at p = 0.25", hits);
	for (int i = 0; i < 1000; i++) {
		cr_assert_not(fault_hit(&r, 0.0));
		cr_assert(fault_hit(&r, 1.0));
	}
}

Test(faults, the_delay_queue_is_bounded_and_delivers_late)
{
	struct udp_port port;
	cr_assert_eq(udp_port_open(&port, "127.0.0.1", 0, 1 << 20), 0);
	int sink = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sink_addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	cr_assert_eq(bind(sink, (struct sockaddr *)&sink_addr, sizeof(sink_addr)), 0);
	socklen_t len = sizeof(sink_addr);
	getsockname(sink, (struct sockaddr *)&sink_addr, &len);

	static struct bank_stats stats;
	struct delay_queue *q = delay_queue_start(&port, 2, &stats);
	cr_assert_not_null(q);
	const uint8_t frame[] = {0, 3, 'a', 'b', 'c'};
	int64_t start = now_ms();
	cr_assert(delay_queue_push(q, &sink_addr, frame, sizeof(frame), 200));
	cr_assert(delay_queue_push(q, &sink_addr, frame, sizeof(frame), 200));
	cr_assert_not(delay_queue_push(q, &sink_addr, frame, sizeof(frame), 200), "a full queue took more");
	uint8_t big[DELAY_REPLY_MAX + 1] = {0};
	cr_assert_not(delay_queue_push(q, &sink_addr, big, sizeof(big), 10), "an oversized answer was queued");

	for (int received = 0; received < 2;) {
		struct pollfd p = {.fd = sink, .events = POLLIN};
		cr_assert_gt(poll(&p, 1, 3000), 0, "a delayed answer never came");
		uint8_t buf[64];
		cr_assert_eq(recv(sink, buf, sizeof(buf), 0), (ssize_t)sizeof(frame));
		cr_assert_geq(now_ms() - start, 200, "delivered early");
		received++;
	}
	/* room again once delivered */
	cr_assert(delay_queue_push(q, &sink_addr, frame, sizeof(frame), 0));
	delay_queue_stop(q);
	close(sink);
	udp_port_close(&port);
}
