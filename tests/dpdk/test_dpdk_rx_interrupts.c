/*
 * RX interrupts on a DPDK port (dpdk_port.c, idle_wait.h), root only: a
 * net_tap port has them, so its idle worker sleeps in epoll on the queue's
 * interrupt (no naps) and wakes for the kernel's ARP request and then for the
 * datagram, which it receives; a net_null port has none, so its worker falls
 * back to the back-off's naps. The tap is moved into a namespace of the test's
 * own, so its addresses meet nobody else's.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dpdk_port.h"
#include "idle_wait.h"
#include "netns_lab.h"

#define DPDK_IP "198.18.41.2"
#define KERNEL_IP "198.18.41.1"
#define UDP_PORT 13510
#define WAIT_NS (20ull * 1000000000u) /* the whole bound of the worker's wait */

static struct netns_lab lab;

static void teardown(void)
{
	lab_teardown(&lab);
}

static void create(struct dgram_port *p, const char *vdev, const char *prefix)
{
	char *eal[] = {"--no-huge", "--no-pci", "-m", "256", "-l", "0", "--vdev", (char *)vdev, "--file-prefix",
		       (char *)prefix, "--log-level", "lib.eal:warning"};
	char err[256] = "";
	int rc = dpdk_port_create(p, (int)(sizeof eal / sizeof eal[0]), eal, 1, DPDK_IP, UDP_PORT, err, sizeof err);
	cr_assert_eq(rc, 0, "dpdk_port_create: %s", err);
}

struct worker {
	struct dgram_port *port;
	struct idle_wait idle;
	uint8_t data[64];
	struct udp_datagram d;
	_Atomic int received; /* read by the test thread while the worker runs */
};

/* A worker's idle loop: poll, else sleep on the queue's interrupt; bounded in time. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t until = idle_wait_now_ns() + WAIT_NS;
	while (!w->received && idle_wait_now_ns() < until) {
		w->d = (struct udp_datagram){.data = w->data, .capacity = sizeof w->data};
		if (dgram_rx_burst(w->port, 0, &w->d, 1) == 1) {
			w->received = 1;
			break;
		}
		if (!idle_wait_spin(&w->idle))
			idle_wait_sleep(&w->idle, IDLE_WAIT_FOREVER, NULL, NULL);
	}
	return NULL;
}

Test(dpdk_rx_interrupts, an_idle_worker_sleeps_on_the_tap_interrupt_and_wakes_for_a_datagram, .fini = teardown,
     .timeout = 60)
{
	lab_init(&lab, true);
	char ns[48], prefix[48], vdev[96], tap[24];
	lab_namespace(&lab, "irq", ns, sizeof ns);
	lab_dpdk_prefix(&lab, "irq", prefix, sizeof prefix);
	snprintf(tap, sizeof tap, "isoirq%.5s", lab.tag); /* an interface name: 15 characters at most */
	snprintf(vdev, sizeof vdev, "net_tap0,iface=%s", tap);
	struct dgram_port port;
	create(&port, vdev, prefix);
	int fds[4];
	cr_assert_eq(port.ops->wait_fds(&port, 0, fds, 4), 1, "net_tap offers RX interrupts: the queue has a descriptor");

	/* The kernel's end of the tap, alone in its namespace; quiet (no IPv6 chatter). */
	lab_must("ip link set %s netns %s", tap, ns);
	lab_must("ip -n %s link set %s addrgenmode none", ns, tap); /* no IPv6 link-local: no DAD, no RS */
	lab_must("ip -n %s addr add %s/24 dev %s", ns, KERNEL_IP, tap);
	lab_must("ip -n %s link set %s up", ns, tap);

	struct worker w = {.port = &port};
	char err[256];
	cr_assert_eq(idle_wait_init(&w.idle, err, sizeof err), 0, "%s", err);
	cr_assert_eq(idle_wait_add_port(&w.idle, &port, 0, err, sizeof err), 0, "%s", err);
	cr_assert(w.idle.event_driven);
	pthread_t thread;
	cr_assert_eq(pthread_create(&thread, NULL, worker_main, &w), 0);
	/* Send only once the worker sleeps (bounded wait): the ARP request must wake it. */
	for (int i = 0; i < 5000 && !atomic_load(&w.idle.wake.sleeping) && !w.received; i++)
		usleep(1000);

	int fd = lab_udp_socket(ns, KERNEL_IP, 40000);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(UDP_PORT)};
	inet_pton(AF_INET, DPDK_IP, &to.sin_addr);
	const char message[] = "\x00\x04" "1100";
	cr_assert_eq(sendto(fd, message, sizeof message - 1, 0, (struct sockaddr *)&to, sizeof to),
		     (ssize_t)(sizeof message - 1));
	pthread_join(thread, NULL);
	close(fd);

	cr_assert(w.received, "the datagram never reached the sleeping worker");
	cr_expect_eq(w.d.length, sizeof message - 1);
	cr_expect_eq(memcmp(w.data, message, w.d.length), 0);
	cr_expect_gt(w.idle.stats.sleeps, 0, "the worker never slept");
	cr_expect_gt(w.idle.stats.woken, 0, "no sleep ended by an interrupt");
	cr_expect_eq(w.idle.stats.naps, 0, "a queue with RX interrupts must not nap");
	struct dpdk_port_stats s;
	dpdk_port_stats(&port, -1, &s);
	cr_expect_geq(s.rx_arp_requests, 1, "the kernel's ARP request came in while the worker slept");
	idle_wait_destroy(&w.idle);
	port.ops->close(&port);
}

Test(dpdk_rx_interrupts, a_pmd_without_interrupts_falls_back_to_naps, .fini = teardown, .timeout = 60)
{
	lab_init(&lab, false);
	char prefix[48];
	lab_dpdk_prefix(&lab, "nullirq", prefix, sizeof prefix);
	struct dgram_port port;
	create(&port, "net_null0", prefix);
	int fds[4];
	cr_expect_eq(port.ops->wait_fds(&port, 0, fds, 4), -1);
	struct idle_wait w;
	char err[256];
	cr_assert_eq(idle_wait_init(&w, err, sizeof err), 0, "%s", err);
	cr_assert_eq(idle_wait_add_port(&w, &port, 0, err, sizeof err), 0, "%s", err);
	cr_expect_not(w.event_driven);
	while (idle_wait_spin(&w))
		;
	idle_wait_sleep(&w, IDLE_WAIT_FOREVER, NULL, NULL);
	cr_expect_eq(w.stats.naps, 1);
	idle_wait_destroy(&w);
	port.ops->close(&port);
}
