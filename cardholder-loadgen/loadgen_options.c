#include "loadgen_options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idle_backoff.h"
#include "loadgen_messages.h"

void loadgen_options_usage(FILE *out)
{
	fprintf(out,
		"usage: cardholder-loadgen --config FILE [options] [-- EAL arguments]\n"
		"\n"
		"Open-loop cardholder load: sends 1100 authorizations of the generated card\n"
		"population to each card's network, measures latency from the intended send\n"
		"time, reverses (1420) what times out, and writes a report.\n"
		"\n"
		"  --config FILE          ecosystem config (networks, cards, loadgen defaults)\n"
		"  --rate N               authorizations per second, all networks together\n"
		"  --duration S           seconds of sending (fractions allowed)\n"
		"  --max-requests N       stop after N requests (0 = rate * duration)\n"
		"  --arrivals KIND        poisson | constant\n"
		"  --timeout-ms N         cardholder timeout before a reversal\n"
		"  --threads N            generator threads (default 1, at most %d)\n"
		"  --terminals N          terminal ids per thread (default 16)\n"
		"  --batch N              most frames per datagram when several are due (default 8)\n"
		"  --reversal-attempts N  1420 then 1421 repeats, one timeout each (default 3, at most %d)\n"
		"  --spin-polls N         empty polls spun before yielding/sleeping (default 16; 0 = yield at once)\n"
		"  --network NAME         only cards of this network\n"
		"  --seed N               random seed for cards, amounts and Poisson gaps\n"
		"  --bind HOST            local IPv4 address to send from (default 127.0.0.1)\n"
		"  --report-dir DIR       where report files go (default reports/<timestamp>/)\n"
		"  --outcomes FILE        one line per request: keys, PAN, amount, 1110 code, reversal and 1430 code\n"
		"  --no-progress          no per-second line on stderr\n"
		"  --no-plots             do not run gnuplot\n"
		"  --list-agents          print 'bank|network NAME HTTP-ENDPOINT ISO-ENDPOINT' lines and exit\n"
		"  --dataplane KIND       socket (default) | dpdk; with dpdk, EAL arguments follow --\n"
		"  --dpdk-address IPV4    our address on the DPDK port (dpdk)\n"
		"  --dpdk-port N          our UDP port on the DPDK port (dpdk, default 7000)\n"
		"  --link udp|tcp         towards the switches: UDP datagrams, or a TCP link per thread and network\n"
		"                         to their tcp.listen (default: the config's loadgen.link)\n"
		"  --help\n",
		LOADGEN_MAX_THREADS, LOADGEN_MAX_REVERSAL_ATTEMPTS);
}

static bool parse_u64(const char *text, uint64_t *out)
{
	if (!text || !*text || text[0] == '-')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static bool parse_double(const char *text, double *out)
{
	if (!text || !*text)
		return false;
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || *end || !isfinite(v) || v < 0)
		return false;
	*out = v;
	return true;
}

enum {
	OPT_CONFIG = 256,
	OPT_RATE,
	OPT_DURATION,
	OPT_MAX_REQUESTS,
	OPT_ARRIVALS,
	OPT_TIMEOUT,
	OPT_THREADS,
	OPT_TERMINALS,
	OPT_BATCH,
	OPT_SPIN_POLLS,
	OPT_REVERSAL_ATTEMPTS,
	OPT_NETWORK,
	OPT_SEED,
	OPT_BIND,
	OPT_REPORT_DIR,
	OPT_NO_PROGRESS,
	OPT_NO_PLOTS,
	OPT_DATAPLANE,
	OPT_DPDK_ADDRESS,
	OPT_DPDK_PORT,
	OPT_LIST_AGENTS,
	OPT_HELP,
	OPT_OUTCOMES,
	OPT_LINK, /* keep this enum in the order of longs[] (error messages index it) */
};

int loadgen_options_parse(int argc, char **argv, struct loadgen_options *o, char *err, size_t err_size)
{
	static const struct option longs[] = {
		{"config", required_argument, NULL, OPT_CONFIG},
		{"rate", required_argument, NULL, OPT_RATE},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"max-requests", required_argument, NULL, OPT_MAX_REQUESTS},
		{"arrivals", required_argument, NULL, OPT_ARRIVALS},
		{"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
		{"threads", required_argument, NULL, OPT_THREADS},
		{"terminals", required_argument, NULL, OPT_TERMINALS},
		{"batch", required_argument, NULL, OPT_BATCH},
		{"spin-polls", required_argument, NULL, OPT_SPIN_POLLS},
		{"reversal-attempts", required_argument, NULL, OPT_REVERSAL_ATTEMPTS},
		{"network", required_argument, NULL, OPT_NETWORK},
		{"seed", required_argument, NULL, OPT_SEED},
		{"bind", required_argument, NULL, OPT_BIND},
		{"report-dir", required_argument, NULL, OPT_REPORT_DIR},
		{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
		{"no-plots", no_argument, NULL, OPT_NO_PLOTS},
		{"dataplane", required_argument, NULL, OPT_DATAPLANE},
		{"dpdk-address", required_argument, NULL, OPT_DPDK_ADDRESS},
		{"dpdk-port", required_argument, NULL, OPT_DPDK_PORT},
		{"list-agents", no_argument, NULL, OPT_LIST_AGENTS},
		{"help", no_argument, NULL, OPT_HELP},
		{"outcomes", required_argument, NULL, OPT_OUTCOMES},
		{"link", required_argument, NULL, OPT_LINK},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	o->threads = 1;
	o->terminals_per_thread = 16;
	o->batch = 8;
	o->spin_polls = IDLE_BACKOFF_SPIN_POLLS;
	o->reversal_attempts = 3;
	o->seed = 1;
	o->progress = true;
	o->plots = true;
	o->bind_host = "127.0.0.1";
	o->dataplane = "socket";
	o->dpdk_udp_port = 7000;

	opterr = 0;
	optind = 1;
	int c;
	uint64_t u;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		const char *a = optarg;
		switch (c) {
		case OPT_CONFIG: o->config_path = a; break;
		case OPT_OUTCOMES: o->outcomes_path = a; break;
		case OPT_LINK:
			if (strcmp(a, "udp") != 0 && strcmp(a, "tcp") != 0)
				goto bad;
			o->link = a;
			break;
		case OPT_RATE:
			if (!parse_double(a, &o->rate) || o->rate <= 0)
				goto bad;
			o->has_rate = true;
			break;
		case OPT_DURATION:
			if (!parse_double(a, &o->duration_s) || o->duration_s <= 0 || o->duration_s > 86400)
				goto bad;
			o->has_duration = true;
			break;
		case OPT_MAX_REQUESTS:
			if (!parse_u64(a, &o->max_requests))
				goto bad;
			o->has_max_requests = true;
			break;
		case OPT_ARRIVALS:
			if (strcmp(a, "poisson") == 0)
				o->arrivals = ARRIVAL_POISSON;
			else if (strcmp(a, "constant") == 0)
				o->arrivals = ARRIVAL_CONSTANT;
			else
				goto bad;
			o->has_arrivals = true;
			break;
		case OPT_TIMEOUT:
			if (!parse_u64(a, &u) || u == 0 || u > 600000)
				goto bad;
			o->timeout_ms = (uint32_t)u;
			o->has_timeout = true;
			break;
		case OPT_THREADS:
			if (!parse_u64(a, &u) || u == 0 || u > LOADGEN_MAX_THREADS)
				goto bad;
			o->threads = (unsigned)u;
			break;
		case OPT_TERMINALS:
			if (!parse_u64(a, &u) || u == 0 || u > 99999)
				goto bad;
			o->terminals_per_thread = (unsigned)u;
			break;
		case OPT_BATCH:
			if (!parse_u64(a, &u) || u == 0 || u > 64)
				goto bad;
			o->batch = (unsigned)u;
			break;
		case OPT_SPIN_POLLS:
			if (!parse_u64(a, &u) || u > 1000000)
				goto bad;
			o->spin_polls = (unsigned)u;
			break;
		case OPT_REVERSAL_ATTEMPTS:
			if (!parse_u64(a, &u) || u == 0 || u > LOADGEN_MAX_REVERSAL_ATTEMPTS)
				goto bad;
			o->reversal_attempts = (unsigned)u;
			break;
		case OPT_NETWORK: o->only_network = a; break;
		case OPT_SEED:
			if (!parse_u64(a, &o->seed))
				goto bad;
			break;
		case OPT_BIND: o->bind_host = a; break;
		case OPT_REPORT_DIR: o->report_dir = a; break;
		case OPT_NO_PROGRESS: o->progress = false; break;
		case OPT_NO_PLOTS: o->plots = false; break;
		case OPT_DATAPLANE:
			if (strcmp(a, "socket") != 0 && strcmp(a, "dpdk") != 0)
				goto bad;
			o->dataplane = a;
			break;
		case OPT_DPDK_ADDRESS: o->dpdk_address = a; break;
		case OPT_DPDK_PORT:
			if (!parse_u64(a, &u) || u == 0 || u > 65535)
				goto bad;
			o->dpdk_udp_port = (uint16_t)u;
			break;
		case OPT_LIST_AGENTS: o->list_agents = true; break;
		case OPT_HELP: loadgen_options_usage(stdout); return 1;
		default:
			snprintf(err, err_size, "unknown option '%s' (see --help)", argv[optind - 1]);
			return -1;
		}
		continue;
	bad:
		snprintf(err, err_size, "bad value '%s' for --%s", a ? a : "", longs[c - OPT_CONFIG].name);
		return -1;
	}
	/* getopt_long stops at "--": what follows belongs to the DPDK EAL. */
	if (optind < argc && strcmp(argv[optind - 1], "--") == 0) {
		o->eal_argc = argc - optind;
		o->eal_argv = argv + optind;
	} else if (optind < argc) {
		snprintf(err, err_size, "unexpected argument '%s' (EAL arguments go after --)", argv[optind]);
		return -1;
	}
	if (!o->config_path) {
		snprintf(err, err_size, "--config FILE is required");
		return -1;
	}
	if (o->link && strcmp(o->link, "tcp") == 0 && strcmp(o->dataplane, "dpdk") == 0) {
		snprintf(err, err_size, "--link tcp runs over kernel sockets: it cannot be combined with --dataplane dpdk");
		return -1;
	}
	if (strcmp(o->dataplane, "dpdk") == 0 && !o->dpdk_address) {
		snprintf(err, err_size, "--dataplane dpdk needs --dpdk-address (our IPv4 address on that link)");
		return -1;
	}
	return 0;
}
