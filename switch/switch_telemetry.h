/*
 * DPDK telemetry for the switch: "/iso8583/switch_stats" gives the counters
 * summed over workers (as GET /stats "totals") and the gauges, readable with
 * dpdk-telemetry.py while the switch runs on the DPDK dataplane.
 */
#ifndef SWITCH_TELEMETRY_H
#define SWITCH_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>

#include "switch_core.h"

/* Registers the command (once per process, after the EAL started). False with err otherwise. */
bool switch_telemetry_register(struct switch_core *s, char *err, size_t err_size);

#endif
