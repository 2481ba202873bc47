/* bank-node: an issuing bank. Parses options, then runs the node until SIGINT/SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>

#include "bank_mac.h"
#include "bank_node.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		bank_mac_reload_requested = 1; /* the I/O thread reloads the MAC keys */
	else
		stop_requested = 1;
}

int main(int argc, char **argv)
{
	/* Every file it makes (LMDB, logs, reports, outcomes) names cards or money: the owner's only. */
	umask(077);
	struct bank_options options;
	char err[256];
	if (!bank_options_parse(argc, argv, &options, err, sizeof(err))) {
		bool help = strcmp(err, "help") == 0;
		if (!help)
			fprintf(stderr, "bank-node: %s\n", err);
		bank_options_usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return bank_node_run(&options, &stop_requested);
}
