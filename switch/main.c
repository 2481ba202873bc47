/*
 * switch: the card network of one network of the ecosystem config.
 *
 *   switch --config FILE --network NAME [--workers N] [--dataplane socket|dpdk]
 *          [--iso-port N] [--tcp-port N] [--http-port N] [--pending N] [-- EAL args]
 *
 * SIGHUP reloads routes and cards from the config; SIGINT/SIGTERM stop the
 * workers and print the final counters as JSON on stdout.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>

#include "ecosystem_config.h"
#include "ecosystem_mac.h"
#include "pan_vault.h"
#include "switch_node.h"
#include "switch_options.h"

int main(int argc, char **argv)
{
	/* Every file it makes (LMDB, logs, reports, outcomes) names cards or money: the owner's only. */
	umask(077);
	struct switch_options o;
	switch (switch_options_parse(argc, argv, &o)) {
	case SWITCH_OPTIONS_OK:
		break;
	case SWITCH_OPTIONS_HELP:
		switch_options_usage(stdout);
		return 0;
	case SWITCH_OPTIONS_INVALID:
		return 2;
	}

	char err[512];
	struct ecosystem_config *config = malloc(sizeof(*config));
	if (!config) {
		fprintf(stderr, "switch: out of memory\n");
		return 1;
	}
	/* Exit statuses as every agent's: 2 for usage and configuration, 1 for failures at run time. */
	if (!ecosystem_config_load(o.config, config, err, sizeof(err))) {
		fprintf(stderr, "switch: %s\n", err);
		free(config);
		return 2;
	}
	const struct cfg_network *net = ecosystem_find_network(config, o.network);
	if (!net) {
		fprintf(stderr, "switch: network '%s' is not in %s\n", o.network, o.config);
		free(config);
		return 2;
	}

	/* Key files are configuration too: a missing or unreadable one is 2, before anything opens. */
	if (!ecosystem_mac_keys_check(config, MAC_AGENT_NETWORK, net->name, err, sizeof(err)) ||
	    !pan_vault_check(net->pan_key_file, err, sizeof(err))) {
		fprintf(stderr, "switch: %s\n", err);
		free(config);
		return 2;
	}

	struct switch_node node;
	int status = switch_node_start(&node, &o, config, net);
	if (status == 0)
		status = switch_node_run(&node);
	switch_node_teardown(&node);
	return status;
}
