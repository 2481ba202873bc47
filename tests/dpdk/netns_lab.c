#include "netns_lab.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *command)
{
	int status = system(command);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int lab_shell(const char *fmt, ...)
{
	char command[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(command, sizeof command, fmt, ap);
	va_end(ap);
	return run(command);
}

void lab_must(const char *fmt, ...)
{
	char command[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(command, sizeof command, fmt, ap);
	va_end(ap);
	int rc = run(command);
	cr_assert_eq(rc, 0, "'%s' failed (exit %d)", command, rc);
}

void lab_init(struct netns_lab *lab, bool namespaces)
{
	memset(lab, 0, sizeof *lab);
	if (namespaces) {
		cr_assert_eq(geteuid(), 0, "this test needs root: it creates network namespaces and veth pairs");
		cr_assert_eq(run("command -v ip >/dev/null && command -v ethtool >/dev/null"), 0,
			     "this test needs iproute2 (ip) and ethtool: bash scripts/install-deps.sh installs both");
	}
	snprintf(lab->tag, sizeof lab->tag, "%ld", (long)getpid() % 100000);
	snprintf(lab->dir, sizeof lab->dir, "/tmp/iso-dpdk-e2e-XXXXXX");
	cr_assert(mkdtemp(lab->dir), "mkdtemp: %s", strerror(errno));
}

void lab_namespace(struct netns_lab *lab, const char *suffix, char *out, size_t size)
{
	cr_assert_lt(lab->namespace_count, LAB_MAX);
	char *ns = lab->namespaces[lab->namespace_count];
	snprintf(ns, sizeof lab->namespaces[0], "iso-dpdk-%s-%s", suffix, lab->tag);
	lab_must("ip netns add %s", ns);
	lab->namespace_count++;
	lab_must("ip -n %s link set lo up", ns);
	snprintf(out, size, "%s", ns);
}

void lab_dpdk_prefix(struct netns_lab *lab, const char *suffix, char *out, size_t size)
{
	cr_assert_lt(lab->dpdk_prefix_count, LAB_MAX);
	char *p = lab->dpdk_prefixes[lab->dpdk_prefix_count++];
	snprintf(p, sizeof lab->dpdk_prefixes[0], "iso-dpdk-%s-%s", suffix, lab->tag);
	snprintf(out, size, "%s", p);
}

struct lab_process *lab_start(struct netns_lab *lab, const char *ns, const char *name, char *const argv[])
{
	cr_assert_lt(lab->process_count, LAB_MAX);
	struct lab_process *p = &lab->processes[lab->process_count];
	/* Through a local buffer: gcc -O2 cannot tell name from the lab's own strings (-Wrestrict). */
	char log_path[sizeof p->log];
	snprintf(log_path, sizeof log_path, "%s/%s.log", lab->dir, name);
	snprintf(p->name, sizeof p->name, "%s", name);
	memcpy(p->log, log_path, sizeof log_path);
	char ns_path[96];
	snprintf(ns_path, sizeof ns_path, "/var/run/netns/%s", ns ? ns : "");
	p->pid = fork();
	cr_assert_geq(p->pid, 0);
	if (p->pid == 0) {
		int fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (ns) {
			int nsfd = open(ns_path, O_RDONLY);
			if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) {
				fprintf(stderr, "cannot enter %s: %s\n", ns_path, strerror(errno));
				_exit(126);
			}
		}
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	lab->process_count++;
	return p;
}

void lab_print_log(const struct lab_process *p)
{
	fprintf(stderr, "--- %s log (%s):\n", p->name, p->log);
	FILE *f = fopen(p->log, "r");
	if (!f)
		return;
	char line[1024];
	while (fgets(line, sizeof line, f))
		fputs(line, stderr);
	fclose(f);
}

static bool log_contains(const struct lab_process *p, const char *text)
{
	FILE *f = fopen(p->log, "r");
	if (!f)
		return false;
	char line[2048];
	bool found = false;
	while (!found && fgets(line, sizeof line, f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

bool lab_wait_log(struct lab_process *p, const char *text, int timeout_ms)
{
	double deadline = now_seconds() + timeout_ms / 1000.0;
	for (;;) {
		if (log_contains(p, text))
			return true;
		int status;
		if (p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == p->pid) {
			p->pid = -1;
			if (log_contains(p, text))
				return true;
			fprintf(stderr, "%s exited before writing '%s'\n", p->name, text);
			lab_print_log(p);
			return false;
		}
		if (now_seconds() > deadline) {
			fprintf(stderr, "%s did not write '%s' within %d ms\n", p->name, text, timeout_ms);
			lab_print_log(p);
			return false;
		}
		usleep(20000);
	}
}

int lab_wait_exit(struct lab_process *p, int timeout_ms)
{
	double deadline = now_seconds() + timeout_ms / 1000.0;
	while (p->pid > 0) {
		int status;
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			p->pid = -1;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		if (now_seconds() > deadline)
			return -1;
		usleep(20000);
	}
	return -1;
}

int lab_udp_socket(const char *ns, const char *ip, unsigned port)
{
	char path[96];
	snprintf(path, sizeof path, "/var/run/netns/%s", ns);
	int home = open("/proc/self/ns/net", O_RDONLY);
	int there = open(path, O_RDONLY);
	cr_assert(home >= 0 && there >= 0, "namespace files: %s", strerror(errno));
	cr_assert_eq(setns(there, CLONE_NEWNET), 0, "setns: %s", strerror(errno));
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, ip, &a.sin_addr);
	int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
	int bind_errno = errno;
	cr_assert_eq(setns(home, CLONE_NEWNET), 0);
	close(home);
	close(there);
	cr_assert_eq(rc, 0, "bind %s:%u in %s: %s", ip, port, ns, strerror(bind_errno));
	return fd;
}

void lab_teardown(struct netns_lab *lab)
{
	for (int i = lab->process_count - 1; i >= 0; i--)
		if (lab->processes[i].pid > 0)
			kill(lab->processes[i].pid, SIGTERM);
	double deadline = now_seconds() + 10;
	for (int i = 0; i < lab->process_count; i++) {
		struct lab_process *p = &lab->processes[i];
		int status;
		while (p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == 0 && now_seconds() < deadline)
			usleep(20000);
		if (p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == 0) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
		}
		p->pid = -1;
	}
	/* Deleting a namespace deletes the veth ends inside it, and so their peers. */
	for (int i = 0; i < lab->namespace_count; i++)
		lab_shell("ip netns del %s 2>/dev/null", lab->namespaces[i]);
	for (int i = 0; i < lab->dpdk_prefix_count; i++)
		lab_shell("rm -rf /var/run/dpdk/%s", lab->dpdk_prefixes[i]);
	if (strncmp(lab->dir, "/tmp/iso-dpdk-e2e-", 18) == 0)
		lab_shell("rm -rf %s", lab->dir);
	lab->namespace_count = lab->process_count = lab->dpdk_prefix_count = 0;
}
