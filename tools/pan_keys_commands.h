/*
 * pan-keys' subcommands over stores (docs/data-protection.md, "Rotating a
 * data key"): each gets its arguments after the subcommand's name and returns
 * the exit code (0 done, 1 refused or failed, 2 usage).
 */
#ifndef TOOLS_PAN_KEYS_COMMANDS_H
#define TOOLS_PAN_KEYS_COMMANDS_H

#include <stddef.h>

#include "pan_store.h"

/* pan-keys usage KEYFILE STORE... */
int pan_keys_usage_command(int argc, char **argv);
/* pan-keys reseal [--batch N] KEYFILE STORE... */
int pan_keys_reseal_command(int argc, char **argv);
/* pan-keys retire KEYFILE ID --store STORE... */
int pan_keys_retire_command(int argc, char **argv);

/*
 * The stores named on the command line: each directory, and for a network's
 * lmdb_path its switch's SAF queue (<dir>/saf) too, so that it cannot be
 * forgotten; each once. 0, or -1 with the reason on stderr.
 */
#define PAN_KEYS_MAX_STORES 64
struct pan_keys_stores {
	size_t count;
	char dirs[PAN_KEYS_MAX_STORES][1024];
};
int pan_keys_stores_from_args(struct pan_keys_stores *out, int argc, char **argv);

/* The machine lines of one store's usage, then its human summary (lines starting '#'). */
void pan_keys_print_usage(const char *dir, const char *kind, const struct pan_usage *u, unsigned current);

#endif
