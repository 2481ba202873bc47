/*
 * What one sleeping hop costs on this machine: two processes ping-pong a
 * datagram over loopback UDP, each sleeping in epoll between messages, as the
 * agents do at a light load. Prints the wall time per round trip and the CPU
 * time each side spends per round trip (user + system, getrusage), with both
 * processes on one CPU, on two different CPUs, and wherever the kernel puts
 * them. An authorization crosses four such hops (generator -> switch -> bank
 * -> switch -> generator), so four times the per-side figure is the floor of
 * the agents' CPU per authorization at a light load, before any ISO 8583 work.
 *
 *   wake-cost [round_trips]     (default 20000)
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double wall_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e-6;
}

static void pin(int cpu)
{
	if (cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) != 0)
		perror("wake-cost: sched_setaffinity");
}

/* A loopback socket on an ephemeral port, and an epoll set holding it. */
struct end {
	int fd, ep;
	struct sockaddr_in addr;
};

static int open_end(struct end *e)
{
	e->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&e->addr, 0, sizeof e->addr);
	e->addr.sin_family = AF_INET;
	e->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof e->addr;
	if (e->fd < 0 || bind(e->fd, (struct sockaddr *)&e->addr, sizeof e->addr) != 0 ||
	    getsockname(e->fd, (struct sockaddr *)&e->addr, &len) != 0)
		return -1;
	e->ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = e->fd};
	return e->ep >= 0 && epoll_ctl(e->ep, EPOLL_CTL_ADD, e->fd, &ev) == 0 ? 0 : -1;
}

/* Sleeps until a datagram is there (with a timeout, as the agents' sleeps have), then reads it. */
static int await(const struct end *e, char *buf, size_t cap)
{
	struct epoll_event ev;
	for (;;) {
		ssize_t n = recv(e->fd, buf, cap, MSG_DONTWAIT);
		if (n >= 0)
			return (int)n;
		if (epoll_wait(e->ep, &ev, 1, 100) < 0)
			return -1;
	}
}

static void run(const char *name, int cpu_a, int cpu_b, int round_trips)
{
	struct end a, b;
	if (open_end(&a) != 0 || open_end(&b) != 0) {
		perror("wake-cost: socket");
		exit(1);
	}
	int report[2];
	if (pipe(report) != 0)
		exit(1);
	char buf[256];
	memset(buf, 'x', sizeof buf);
	pid_t child = fork();
	if (child == 0) {
		pin(cpu_b);
		double c0 = cpu_s();
		for (int i = 0; i < round_trips; i++) {
			int n = await(&b, buf, sizeof buf);
			if (n < 0 || sendto(b.fd, buf, (size_t)n, 0, (struct sockaddr *)&a.addr, sizeof a.addr) < 0)
				_exit(1);
		}
		double per = (cpu_s() - c0) / round_trips * 1e6;
		ssize_t w = write(report[1], &per, sizeof per);
		_exit(w == sizeof per ? 0 : 1);
	}
	pin(cpu_a);
	usleep(100000); /* the child is asleep in epoll */
	double t0 = wall_s(), c0 = cpu_s();
	for (int i = 0; i < round_trips; i++) {
		if (sendto(a.fd, buf, 200, 0, (struct sockaddr *)&b.addr, sizeof b.addr) < 0 || await(&a, buf, sizeof buf) < 0) {
			perror("wake-cost: ping");
			exit(1);
		}
	}
	double wall = (wall_s() - t0) / round_trips * 1e6, cpu = (cpu_s() - c0) / round_trips * 1e6;
	double child_cpu = -1;
	if (read(report[0], &child_cpu, sizeof child_cpu) != sizeof child_cpu)
		child_cpu = -1;
	waitpid(child, NULL, 0);
	printf("%-26s %8.1f %14.1f %14.1f\n", name, wall, cpu, child_cpu);
	close(a.fd), close(a.ep), close(b.fd), close(b.ep), close(report[0]), close(report[1]);
}

int main(int argc, char **argv)
{
	int round_trips = argc > 1 ? atoi(argv[1]) : 20000;
	if (round_trips <= 0)
		round_trips = 20000;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	printf("%-26s %8s %14s %14s\n", "placement", "wall_us", "cpu_us_side_a", "cpu_us_side_b");
	printf("(per round trip: each side sends once and sleeps and wakes once)\n");
	run("one CPU", 0, 0, round_trips);
	if (cpus > 1)
		run("two CPUs", 0, 1, round_trips);
	run("kernel's choice", -1, -1, round_trips);
	return 0;
}
