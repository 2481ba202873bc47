/*
 * A whole load-generator run: opens the port, starts the generator threads,
 * prints a line per second and writes the interval log while they run, then
 * merges their histograms and counters into the report.
 */
#ifndef LOADGEN_RUN_H
#define LOADGEN_RUN_H

#include <stdatomic.h>
#include <stdbool.h>

#include "ecosystem_config.h"
#include "loadgen_options.h"

/* Set from a signal handler: stop sending, settle what is in flight, report. */
extern atomic_bool loadgen_stop_requested;
/* Set from the SIGHUP handler: read the MAC key file again (as the agents do); the main
 * thread reloads, the workers pick the keys up at their next poll. */
extern atomic_bool loadgen_mac_reload_requested;

/*
 * Runs the plan. Returns 0 when the run completed and its report was written
 * (whatever the answers were), 1 on a set-up or I/O failure (message on stderr).
 */
int loadgen_run(const struct ecosystem_config *config, const struct loadgen_options *options);

#endif
