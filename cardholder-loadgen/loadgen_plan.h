/*
 * The run's plan: the config's `loadgen:` defaults with the command line's
 * overrides applied, checked for combinations that make no sense.
 */
#ifndef LOADGEN_PLAN_H
#define LOADGEN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecosystem_config.h"
#include "loadgen_options.h"

/* What the run actually uses: the config's defaults with the overrides applied. */
struct loadgen_plan {
	double rate;
	double duration_s;
	uint64_t max_requests; /* never 0 here */
	enum arrival_process arrivals;
	uint32_t timeout_ms;
};

/* false (message in err) when the combination makes no sense, e.g. a rate of 0. */
bool loadgen_plan_make(const struct loadgen_options *o, const struct cfg_loadgen *config, struct loadgen_plan *plan,
		       char *err, size_t err_size);

#endif
