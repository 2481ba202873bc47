/*
 * A small network laboratory for end-to-end tests (root only): network
 * namespaces and veth pairs named after the test's pid, programs started
 * inside them with their output in a log, and a teardown that stops every
 * program and deletes every namespace (which deletes its veths) even when the
 * test failed half way.
 */
#ifndef NETNS_LAB_H
#define NETNS_LAB_H

#include <stdbool.h>
#include <sys/types.h>

#define LAB_MAX 8

struct lab_process {
	pid_t pid;
	char name[32];
	char log[256];
};

struct netns_lab {
	char dir[128];         /* temporary directory for configs and logs */
	char tag[16];          /* unique per test process, part of every name */
	char namespaces[LAB_MAX][48];
	int namespace_count;
	char dpdk_prefixes[LAB_MAX][48];
	int dpdk_prefix_count;
	struct lab_process processes[LAB_MAX];
	int process_count;
};

/* Makes the directory. With namespaces, fails the test (never skips) unless we are root
 * with ip and ethtool. */
void lab_init(struct netns_lab *lab, bool namespaces);
/* Runs a shell command; returns its exit status (-1 if it did not exit). */
int lab_shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runs a shell command and fails the test when it does not exit 0. */
void lab_must(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Creates namespace "iso-dpdk-<suffix>-<tag>" with lo up; writes its name to out. */
void lab_namespace(struct netns_lab *lab, const char *suffix, char *out, size_t size);
/* A DPDK --file-prefix unique to this test whose runtime directory teardown removes. */
void lab_dpdk_prefix(struct netns_lab *lab, const char *suffix, char *out, size_t size);
/* Starts argv inside namespace ns (NULL: ours), output to <dir>/<name>.log. */
struct lab_process *lab_start(struct netns_lab *lab, const char *ns, const char *name, char *const argv[]);
/* Waits up to timeout_ms for text in the process's log; false (and the log printed) if it
 * does not appear or the process exits first. */
bool lab_wait_log(struct lab_process *p, const char *text, int timeout_ms);
void lab_print_log(const struct lab_process *p);
/* Waits up to timeout_ms for the process to exit; its exit status, or -1 (killed, or still running). */
int lab_wait_exit(struct lab_process *p, int timeout_ms);
/* A UDP socket bound to ip:port inside namespace ns; it stays there. */
int lab_udp_socket(const char *ns, const char *ip, unsigned port);
/* Stops every process (SIGTERM, then SIGKILL after 10 s), deletes namespaces, files. */
void lab_teardown(struct netns_lab *lab);

#endif
