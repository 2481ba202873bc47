/* cardholder-loadgen: parse options, load the config, run the plan, report. */
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>

#include "ecosystem_config.h"
#include "ecosystem_mac.h"
#include "loadgen_options.h"
#include "loadgen_run.h"

static void on_stop_signal(int signo)
{
	(void)signo;
	atomic_store(&loadgen_stop_requested, true);
}

static void on_reload_signal(int signo)
{
	(void)signo;
	atomic_store(&loadgen_mac_reload_requested, true);
}

int main(int argc, char **argv)
{
	/* Every file it makes (LMDB, logs, reports, outcomes) names cards or money: the owner's only. */
	umask(077);
	struct loadgen_options options;
	char err[512];
	int parsed = loadgen_options_parse(argc, argv, &options, err, sizeof err);
	if (parsed > 0)
		return 0;
	if (parsed < 0) {
		fprintf(stderr, "cardholder-loadgen: %s\n", err);
		return 2;
	}
	static struct ecosystem_config config;
	if (!ecosystem_config_load(options.config_path, &config, err, sizeof err)) {
		fprintf(stderr, "cardholder-loadgen: %s\n", err);
		return 2;
	}
	/* A name the config lacks is a usage error, exit 2 like a bad config (the other agents do the same). */
	if (options.only_network && !ecosystem_find_network(&config, options.only_network)) {
		fprintf(stderr, "cardholder-loadgen: --network %s: no such network in %s\n", options.only_network,
			options.config_path);
		return 2;
	}
	if (options.list_agents) {
		for (size_t i = 0; i < config.bank_count; i++)
			printf("bank %s %s:%u %s:%u\n", config.banks[i].name, config.banks[i].http.host,
			       config.banks[i].http.port, config.banks[i].iso.host, config.banks[i].iso.port);
		for (size_t i = 0; i < config.network_count; i++)
			printf("network %s %s:%u %s:%u\n", config.networks[i].name, config.networks[i].http.host,
			       config.networks[i].http.port, config.networks[i].iso.host, config.networks[i].iso.port);
		return 0;
	}
	/* Its key file is configuration too: missing or unreadable is 2, like the config. */
	if (!ecosystem_mac_keys_check(&config, MAC_AGENT_LOADGEN, "", err, sizeof err)) {
		fprintf(stderr, "cardholder-loadgen: %s\n", err);
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_reload_signal;
	sigaction(SIGHUP, &sa, NULL);
	return loadgen_run(&config, &options);
}
