#include "loadgen_plan.h"

#include <math.h>
#include <stdio.h>

bool loadgen_plan_make(const struct loadgen_options *o, const struct cfg_loadgen *config, struct loadgen_plan *plan,
		       char *err, size_t err_size)
{
	plan->rate = o->has_rate ? o->rate : (double)config->rate;
	plan->duration_s = o->has_duration ? o->duration_s : (double)config->duration_s;
	plan->max_requests = o->has_max_requests ? o->max_requests : config->max_requests;
	plan->arrivals = o->has_arrivals ? o->arrivals : config->arrivals;
	plan->timeout_ms = o->has_timeout ? o->timeout_ms : config->timeout_ms;
	if (plan->rate <= 0) {
		snprintf(err, err_size, "rate must be above 0 (config loadgen.rate or --rate)");
		return false;
	}
	if (plan->duration_s <= 0) {
		snprintf(err, err_size, "duration must be above 0 (config loadgen.duration_s or --duration)");
		return false;
	}
	if (plan->timeout_ms == 0) {
		snprintf(err, err_size, "timeout must be above 0 (config loadgen.timeout_ms or --timeout-ms)");
		return false;
	}
	double planned = ceil(plan->rate * plan->duration_s);
	if (plan->max_requests == 0)
		plan->max_requests = (uint64_t)planned;
	if (plan->max_requests == 0)
		plan->max_requests = 1;
	if (config->min_amount > config->max_amount || config->max_amount > 999999999999ull) {
		snprintf(err, err_size, "loadgen.min_amount..max_amount must be an ascending range of at most 12 digits");
		return false;
	}
	return true;
}
