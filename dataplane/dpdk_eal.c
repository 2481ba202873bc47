/* The EAL, started once per process for the DPDK ports and stopped with the last of them. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "dpdk_port_impl.h"

static bool eal_started;
static char **eal_argv_kept; /* rte_eal_init may point into it for the life of the process */
static bool eal_prefix_is_ours; /* we named the runtime directory, so we remove it */
static bool eal_stopped;        /* rte_eal_cleanup done: the EAL cannot start again */

static bool has_option(int argc, char **argv, const char *option)
{
	size_t n = strlen(option);
	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], option, n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '='))
			return true;
	return false;
}

int dpdk_eal_start(int eal_argc, char **eal_argv, char *err, size_t err_size)
{
	if (eal_stopped) {
		dpdk_set_error(err, err_size, "the EAL of this process was stopped with its last port; it cannot restart");
		return -1;
	}
	if (eal_started)
		return 0;
	/* rte_eal_init permutes argv and may keep pointers into it: give it a copy that lives forever. */
	static char prefix_option[64];
	char **argv = calloc((size_t)eal_argc + 3, sizeof *argv);
	if (!argv) {
		dpdk_set_error(err, err_size, "out of memory");
		return -1;
	}
	int argc = 0;
	argv[argc++] = "iso8583-dpdk";
	/* DPDK 22.11 refuses --in-memory with --no-huge (legacy memory). What the caller wants
	 * from it, nothing shared left behind, --no-shconf and a prefix of our own give. */
	bool in_memory = has_option(eal_argc, eal_argv, "--in-memory");
	bool no_huge = has_option(eal_argc, eal_argv, "--no-huge");
	for (int i = 0; i < eal_argc; i++) {
		if (in_memory && no_huge && strcmp(eal_argv[i], "--in-memory") == 0) {
			argv[argc++] = "--no-shconf";
			fprintf(stderr, "dpdk_port: --in-memory with --no-huge: using --no-shconf instead\n");
		} else {
			argv[argc++] = eal_argv[i];
		}
	}
	if (!has_option(eal_argc, eal_argv, "--file-prefix") && !(in_memory && !no_huge)) {
		snprintf(prefix_option, sizeof prefix_option, "--file-prefix=iso8583-%ld", (long)getpid());
		argv[argc++] = prefix_option;
		eal_prefix_is_ours = true;
	}

	cpu_set_t affinity;
	bool have_affinity = pthread_getaffinity_np(pthread_self(), sizeof affinity, &affinity) == 0;
	int rc = rte_eal_init(argc, argv);
	if (rc < 0 && rte_errno != EALREADY) {
		dpdk_set_error(err, err_size, "rte_eal_init failed: %s (check the EAL arguments)", rte_strerror(rte_errno));
		free(argv);
		return -1;
	}
	if (rc < 0) {
		free(argv); /* started by someone else: our copy was not used */
		eal_prefix_is_ours = false;
	} else {
		eal_argv_kept = argv;
	}
	if (have_affinity)
		pthread_setaffinity_np(pthread_self(), sizeof affinity, &affinity);
	eal_started = true;
	return 0;
}

bool dpdk_eal_started(void)
{
	return eal_started;
}

/* The EAL leaves /var/run/dpdk/<prefix>/ behind; one per run would pile up. */
static void remove_runtime_dir(const char *path)
{
	DIR *dir = opendir(path);
	if (!dir)
		return;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char file[PATH_MAX];
		if (snprintf(file, sizeof file, "%s/%s", path, e->d_name) < (int)sizeof file)
			unlink(file);
	}
	closedir(dir);
	rmdir(path);
}

/* After the last port of a process whose EAL we started under our own prefix. */
void dpdk_eal_stop_if_ours(void)
{
	for (int i = 0; i < MAX_PORTS; i++)
		if (dpdk_port_registry[i])
			return;
	if (!eal_started || !eal_prefix_is_ours)
		return;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	remove_runtime_dir(path);
	eal_prefix_is_ours = false;
	eal_stopped = true; /* the EAL cannot be started twice in a process */
}

