#include "switch_options.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "switch_core.h"
#include "switch_dataplane.h"

void switch_options_usage(FILE *out)
{
	fprintf(out, "usage: switch --config FILE --network NAME [--workers N] [--dataplane socket|dpdk]\n"
		     "              [--iso-port N] [--tcp-port N] [--http-port N] [--pending N] [-- EAL args]\n"
		     "  --workers N     worker threads, one RX/TX queue each (1..%d, default 1)\n"
		     "  --dataplane     socket (kernel UDP) or dpdk; default: the network's in the config\n"
		     "  --iso-port N    UDP port for ISO 8583 (default: the config's; 0 picks one)\n"
		     "  --tcp-port N    TCP port for ISO 8583 hosts (default: the config's tcp.listen; 0 picks one)\n"
		     "  --http-port N   control-plane HTTP port (default: the config's)\n"
		     "  --pending N     pending-transaction slots per worker (default %d, at most 50000)\n",
		SWITCH_MAX_WORKERS, SWITCH_DEFAULT_PENDING);
}

/* Every option is one line: its name and where its argument goes. */
enum option_kind { OPTION_TEXT, OPTION_NUMBER, OPTION_HELP };

struct option_spec {
	const char *name;
	enum option_kind kind;
	size_t member; /* offset in struct switch_options: a const char * (text) or a long (number) */
	long min, max; /* numbers only */
};

#define TEXT_OPTION(name, member) {name, OPTION_TEXT, offsetof(struct switch_options, member), 0, 0}
#define NUMBER_OPTION(name, member, min, max) {name, OPTION_NUMBER, offsetof(struct switch_options, member), min, max}

static const struct option_spec option_specs[] = {
	TEXT_OPTION("config", config),
	TEXT_OPTION("network", network),
	NUMBER_OPTION("workers", workers, 1, SWITCH_MAX_WORKERS),
	TEXT_OPTION("dataplane", dataplane),
	NUMBER_OPTION("iso-port", iso_port, 0, 65535),
	NUMBER_OPTION("http-port", http_port, 0, 65535),
	NUMBER_OPTION("pending", pending, 1, 50000),
	{"help", OPTION_HELP, 0, 0, 0},
	NUMBER_OPTION("tcp-port", tcp_port, 0, 65535),
};
#define OPTION_COUNT (sizeof(option_specs) / sizeof(option_specs[0]))
/* getopt_long returns this plus the option's index (above every character it returns itself). */
#define OPTION_VALUE_BASE 0x100

static bool parse_number(const char *name, const char *text, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || *end || end == text || v < min || v > max) {
		fprintf(stderr, "switch: --%s '%s' is not a number from %ld to %ld\n", name, text, min, max);
		return false;
	}
	*out = v;
	return true;
}

enum switch_options_result switch_options_parse(int argc, char **argv, struct switch_options *o)
{
	struct option longs[OPTION_COUNT + 1];
	for (size_t i = 0; i < OPTION_COUNT; i++)
		longs[i] = (struct option){option_specs[i].name,
					   option_specs[i].kind == OPTION_HELP ? no_argument : required_argument, NULL,
					   OPTION_VALUE_BASE + (int)i};
	longs[OPTION_COUNT] = (struct option){NULL, 0, NULL, 0};

	*o = (struct switch_options){.workers = 1, .iso_port = -1, .tcp_port = -1, .http_port = -1,
				     .pending = SWITCH_DEFAULT_PENDING};
	int c;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c < OPTION_VALUE_BASE || c >= OPTION_VALUE_BASE + (int)OPTION_COUNT) {
			/* getopt_long has said what is wrong with it. */
			switch_options_usage(stderr);
			return SWITCH_OPTIONS_INVALID;
		}
		const struct option_spec *spec = &option_specs[c - OPTION_VALUE_BASE];
		char *member = (char *)o + spec->member;
		switch (spec->kind) {
		case OPTION_TEXT:
			*(const char **)member = optarg;
			break;
		case OPTION_NUMBER:
			if (!parse_number(spec->name, optarg, spec->min, spec->max, (long *)member))
				return SWITCH_OPTIONS_INVALID;
			break;
		case OPTION_HELP:
			return SWITCH_OPTIONS_HELP;
		}
	}
	/* getopt_long stops at "--": what follows goes to the EAL untouched. */
	o->eal_argc = argc - optind;
	o->eal_argv = argv + optind;
	if (!o->config || !o->network) {
		fprintf(stderr, "switch: --config and --network are required\n");
		switch_options_usage(stderr);
		return SWITCH_OPTIONS_INVALID;
	}
	if (o->dataplane && !switch_dataplane_known(o->dataplane)) {
		fprintf(stderr, "switch: --dataplane '%s' is not socket or dpdk\n", o->dataplane);
		return SWITCH_OPTIONS_INVALID;
	}
	return SWITCH_OPTIONS_OK;
}
