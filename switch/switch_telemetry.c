#include "switch_telemetry.h"

#include <stdio.h>
#include <string.h>

#ifdef SWITCH_HAVE_DPDK_PORT
#include <rte_telemetry.h>

#include "dpdk_port.h"

static int fill_switch_stats(struct rte_tel_data *d, void *ctx)
{
	struct switch_counters sum;
	struct switch_gauges g;
	switch_core_counters(ctx, &sum, &g);
	rte_tel_data_start_dict(d);
#define TELEMETRY_COUNTER(name, help) rte_tel_data_add_dict_u64(d, #name, sum.name);
	SWITCH_COUNTERS(TELEMETRY_COUNTER)
#undef TELEMETRY_COUNTER
	rte_tel_data_add_dict_u64(d, "pending", g.pending);
	rte_tel_data_add_dict_u64(d, "route_version", g.route_version);
	rte_tel_data_add_dict_u64(d, "cards", g.cards);
	rte_tel_data_add_dict_u64(d, "outcome_evictions", g.outcome_evictions);
	return 0;
}

bool switch_telemetry_register(struct switch_core *s, char *err, size_t err_size)
{
	int rc = dpdk_telemetry_register("/iso8583/switch_stats", "Switch counters summed over workers, and gauges",
					 fill_switch_stats, s);
	if (rc != 0) {
		snprintf(err, err_size, "telemetry: %s", strerror(-rc));
		return false;
	}
	return true;
}
#else
bool switch_telemetry_register(struct switch_core *s, char *err, size_t err_size)
{
	(void)s;
	snprintf(err, err_size, "this build has no DPDK port");
	return false;
}
#endif
