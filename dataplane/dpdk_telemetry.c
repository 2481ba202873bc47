/*
 * Telemetry commands with a context pointer. DPDK 22.11 telemetry callbacks get
 * only the command name, so one trampoline finds the registered fill function
 * and its context by name.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <rte_telemetry.h>

#include "dpdk_port.h"

#define TELEMETRY_MAX_COMMANDS 16
#define TELEMETRY_COMMAND_MAX 64

struct telemetry_command {
	char name[TELEMETRY_COMMAND_MAX];
	dpdk_telemetry_fill_fn fill;
	void *ctx;
};

static struct telemetry_command commands[TELEMETRY_MAX_COMMANDS];
static int command_count;
static pthread_mutex_t commands_lock = PTHREAD_MUTEX_INITIALIZER;

static int trampoline(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)params;
	dpdk_telemetry_fill_fn fill = NULL;
	void *ctx = NULL;
	pthread_mutex_lock(&commands_lock);
	for (int i = 0; i < command_count; i++) {
		if (strcmp(commands[i].name, cmd) == 0) {
			fill = commands[i].fill;
			ctx = commands[i].ctx;
			break;
		}
	}
	pthread_mutex_unlock(&commands_lock);
	return fill ? fill(d, ctx) : -ENOENT;
}

int dpdk_telemetry_register(const char *command, const char *help, dpdk_telemetry_fill_fn fill, void *ctx)
{
	if (!command || command[0] != '/' || strlen(command) >= TELEMETRY_COMMAND_MAX || !fill)
		return -EINVAL;
	pthread_mutex_lock(&commands_lock);
	for (int i = 0; i < command_count; i++) {
		if (strcmp(commands[i].name, command) == 0) {
			pthread_mutex_unlock(&commands_lock);
			return -EEXIST;
		}
	}
	if (command_count == TELEMETRY_MAX_COMMANDS) {
		pthread_mutex_unlock(&commands_lock);
		return -ENOSPC;
	}
	struct telemetry_command *c = &commands[command_count];
	strcpy(c->name, command);
	c->fill = fill;
	c->ctx = ctx;
	/* Held across the registration: telemetry calls the trampoline without its own lock held. */
	int rc = rte_telemetry_register_cmd(command, trampoline, help ? help : "");
	if (rc == 0)
		command_count++;
	pthread_mutex_unlock(&commands_lock);
	return rc;
}
