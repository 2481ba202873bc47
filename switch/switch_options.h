/* The switch program's command line: options, their parser and the usage text. */
#ifndef SWITCH_OPTIONS_H
#define SWITCH_OPTIONS_H

#include <stdio.h>

struct switch_options {
	const char *config;
	const char *network;
	const char *dataplane;
	long workers;
	long iso_port; /* -1: the config's */
	long tcp_port; /* -1: the config's tcp.listen port */
	long http_port;
	long pending;
	int eal_argc;
	char **eal_argv;
};

enum switch_options_result {
	SWITCH_OPTIONS_OK,
	SWITCH_OPTIONS_HELP,    /* --help: print the usage on stdout, exit 0 */
	SWITCH_OPTIONS_INVALID, /* the reason (and the usage, where it helps) is on stderr already: exit 2 */
};

/* Parses argv; what follows "--" goes to the EAL untouched. */
enum switch_options_result switch_options_parse(int argc, char **argv, struct switch_options *o);
void switch_options_usage(FILE *out);

#endif
