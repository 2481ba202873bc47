#include "cpu_pack.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ISO_PACK_CPU: unset (the highest CPU allowed), "off", or a CPU number. -1: off. */
static int home_cpu(const cpu_set_t *allowed)
{
	const char *env = getenv("ISO_PACK_CPU");
	if (env && strcmp(env, "off") == 0)
		return -1;
	if (env && *env) {
		char *end;
		long cpu = strtol(env, &end, 10);
		if (*end == '\0' && cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET((int)cpu, allowed))
			return (int)cpu;
		return -1; /* a CPU this process may not use: no packing rather than a wrong one */
	}
	for (int cpu = CPU_SETSIZE - 1; cpu >= 0; cpu--)
		if (CPU_ISSET(cpu, allowed))
			return cpu;
	return -1;
}

/* Time on a CPU and time runnable but waiting for one, in ns, of the calling thread. */
static bool read_schedstat(uint64_t *run_ns, uint64_t *wait_ns, uint64_t *runs)
{
	int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char buf[128];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return sscanf(buf, "%" SCNu64 " %" SCNu64 " %" SCNu64, run_ns, wait_ns, runs) == 3;
}

void cpu_pack_init(struct cpu_pack *p)
{
	memset(p, 0, sizeof(*p));
	p->home = -1;
	if (sched_getaffinity(0, sizeof(p->spread), &p->spread) != 0 || CPU_COUNT(&p->spread) < 2)
		return; /* one CPU already */
	p->home = home_cpu(&p->spread);
	p->enabled = p->home >= 0 && read_schedstat(&p->run_ns, &p->wait_ns, &p->runs);
}

bool cpu_pack_decide(bool packed, double busy, double waiting, uint64_t wait_per_run_ns, bool holding)
{
	bool starved = waiting > CPU_PACK_WAIT_HIGH || wait_per_run_ns > CPU_PACK_WAIT_PER_RUN_NS;
	if (packed)
		return busy <= CPU_PACK_HIGH && !starved;
	return !holding && busy < CPU_PACK_LOW && !starved;
}

void cpu_pack_check(struct cpu_pack *p, uint64_t now_ns)
{
	if (!p->enabled)
		return;
	if (p->window_start_ns == 0) {
		p->window_start_ns = now_ns;
		return;
	}
	uint64_t window = now_ns - p->window_start_ns;
	if (window < CPU_PACK_WINDOW_NS)
		return;
	uint64_t run = 0, wait = 0, runs = 0;
	if (!read_schedstat(&run, &wait, &runs)) {
		p->enabled = false;
		return;
	}
	double busy = (double)(run - p->run_ns) / (double)window;
	double waiting = (double)(wait - p->wait_ns) / (double)window;
	uint64_t wait_per_run = runs > p->runs ? (wait - p->wait_ns) / (runs - p->runs) : 0;
	p->run_ns = run;
	p->wait_ns = wait;
	p->runs = runs;
	p->window_start_ns = now_ns;
	bool pack = cpu_pack_decide(p->packed, busy, waiting, wait_per_run, now_ns < p->hold_until_ns);
	if (pack == p->packed)
		return;
	if (pack) {
		cpu_set_t home;
		CPU_ZERO(&home);
		CPU_SET(p->home, &home);
		if (sched_setaffinity(0, sizeof(home), &home) != 0) {
			p->enabled = false; /* not allowed here (a cpuset changed): stay where we are */
			return;
		}
		p->stats.packs++;
	} else {
		if (sched_setaffinity(0, sizeof(p->spread), &p->spread) != 0) {
			p->enabled = false;
			return;
		}
		p->stats.spreads++;
		p->hold_until_ns = now_ns + CPU_PACK_HOLD_NS;
	}
	p->packed = pack;
}
