#include "loadgen_options.h"

#include <string.h>

#include "idle_backoff.h"
#include "loadgen_messages.h"
#include "option_table.h"

#define FIELD(f) OPTION_FIELD(struct loadgen_options, f)
#define GIVEN(f) OPTION_GIVEN(struct loadgen_options, f)

static const char *const arrival_names[] = {"poisson", "constant", NULL};
static const int arrival_values[] = {ARRIVAL_POISSON, ARRIVAL_CONSTANT};
static const char *const link_names[] = {"udp", "tcp", NULL};
static const char *const dataplane_names[] = {"socket", "dpdk", NULL};

/* In the order --help lists them. */
static const struct option_row rows[] = {
	{.name = "config", .value = "FILE", .kind = OPTION_TEXT, FIELD(config_path),
	 .help = "ecosystem config (networks, cards, loadgen defaults); required"},
	{.name = "rate", .value = "N", .kind = OPTION_DECIMAL, FIELD(rate), GIVEN(has_rate),
	 .fallback = "config loadgen.rate", .help = "authorizations per second, all networks together"},
	{.name = "duration", .value = "S", .kind = OPTION_DECIMAL, FIELD(duration_s), GIVEN(has_duration), .most = 86400,
	 .fallback = "config loadgen.duration_s", .help = "seconds of sending, fractions allowed"},
	{.name = "max-requests", .value = "N", .kind = OPTION_UNSIGNED, FIELD(max_requests), GIVEN(has_max_requests),
	 .max = UINT64_MAX, .fallback = "config loadgen.max_requests",
	 .help = "stop after N requests; 0 = rate * duration"},
	{.name = "arrivals", .kind = OPTION_ENUM, FIELD(arrivals), GIVEN(has_arrivals), .choices = arrival_names,
	 .values = arrival_values, .fallback = "config loadgen.arrivals", .help = "arrival process"},
	{.name = "timeout-ms", .value = "N", .kind = OPTION_UNSIGNED, FIELD(timeout_ms), GIVEN(has_timeout), .min = 1,
	 .max = 600000, .fallback = "config loadgen.timeout_ms", .help = "cardholder timeout before a reversal"},
	{.name = "threads", .value = "N", .kind = OPTION_UNSIGNED, FIELD(threads), .min = 1, .max = LOADGEN_MAX_THREADS,
	 .show_default = true, .help = "generator threads"},
	{.name = "terminals", .value = "N", .kind = OPTION_UNSIGNED, FIELD(terminals_per_thread), .min = 1,
	 .max = 99999, .show_default = true, .help = "terminal ids per thread"},
	{.name = "batch", .value = "N", .kind = OPTION_UNSIGNED, FIELD(batch), .min = 1, .max = 64,
	 .show_default = true, .help = "most frames per datagram when several are due"},
	{.name = "reversal-attempts", .value = "N", .kind = OPTION_UNSIGNED, FIELD(reversal_attempts), .min = 1,
	 .max = LOADGEN_MAX_REVERSAL_ATTEMPTS, .show_default = true,
	 .help = "1420 then 1421 repeats, one timeout each"},
	{.name = "max-outstanding", .value = "N", .kind = OPTION_UNSIGNED, FIELD(max_outstanding),
	 GIVEN(has_max_outstanding), .max = UINT64_MAX, .fallback = "8192 with --link tcp, 0 with udp",
	 .help = "most requests a thread awaits answers to at once; past it a new 1100 is\n"
		 "declined locally, never sent (not_sent_link_congested); 0 = no limit"},
	{.name = "spin-polls", .value = "N", .kind = OPTION_UNSIGNED, FIELD(spin_polls), .max = 1000000,
	 .show_default = true, .help = "0 = never spin: sleep in the kernel at the first empty poll; else an adaptive spin (up to 50 us, pause hints for N polls) before sleeping"},
	{.name = "network", .value = "NAME", .kind = OPTION_TEXT, FIELD(only_network),
	 .help = "only cards of this network (default: every network)"},
	{.name = "seed", .value = "N", .kind = OPTION_UNSIGNED, FIELD(seed), .max = UINT64_MAX, .show_default = true,
	 .help = "random seed for cards, amounts and Poisson gaps"},
	{.name = "bind", .value = "HOST", .kind = OPTION_TEXT, FIELD(bind_host), .show_default = true,
	 .help = "local IPv4 address to send from"},
	{.name = "report-dir", .value = "DIR", .kind = OPTION_TEXT, FIELD(report_dir),
	 .help = "where report files go (default: reports/<UTC timestamp>/)"},
	{.name = "outcomes", .value = "FILE", .kind = OPTION_TEXT, FIELD(outcomes_path),
	 .help = "one line per request: keys, PAN, amount, 1110 code, reversal and 1430 code"},
	{.name = "no-progress", .kind = OPTION_CLEAR, FIELD(progress), .help = "no per-second line on stderr"},
	{.name = "no-plots", .kind = OPTION_CLEAR, FIELD(plots), .help = "do not run gnuplot"},
	{.name = "list-agents", .kind = OPTION_SET, FIELD(list_agents),
	 .help = "print 'bank|network NAME HTTP-ENDPOINT ISO-ENDPOINT' lines and exit"},
	{.name = "dataplane", .kind = OPTION_CHOICE, FIELD(dataplane), .choices = dataplane_names,
	 .show_default = true, .help = "kernel sockets, or a DPDK port; with dpdk, EAL arguments follow --"},
	{.name = "dpdk-address", .value = "IPV4", .kind = OPTION_TEXT, FIELD(dpdk_address),
	 .help = "our address on the DPDK port (with --dataplane dpdk)"},
	{.name = "dpdk-port", .value = "N", .kind = OPTION_UNSIGNED, FIELD(dpdk_udp_port), .min = 1, .max = 65535,
	 .show_default = true, .help = "our UDP port on the DPDK port (with --dataplane dpdk)"},
	{.name = "link", .kind = OPTION_CHOICE, FIELD(link), .choices = link_names, .fallback = "config loadgen.link",
	 .help = "towards the switches: UDP datagrams, or a TCP link per thread and network\n"
		 "to their tcp.listen"},
	{.name = "help", .kind = OPTION_HELP, .help = "this text"},
};
#define ROW_COUNT (sizeof rows / sizeof rows[0])

static void set_defaults(struct loadgen_options *o)
{
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
}

void loadgen_options_usage(FILE *out)
{
	struct loadgen_options defaults;
	set_defaults(&defaults);
	fprintf(out, "usage: cardholder-loadgen --config FILE [options] [-- EAL arguments]\n"
		     "\n"
		     "Open-loop cardholder load: sends 1100 authorizations of the generated card\n"
		     "population to each card's network, measures latency from the intended send\n"
		     "time, reverses (1420) what times out, and writes a report.\n"
		     "\n");
	option_table_usage(rows, ROW_COUNT, &defaults, out);
}

/* What follows the options: nothing, or "--" and the DPDK EAL's arguments. */
static bool take_eal_arguments(int argc, char **argv, int operands, struct loadgen_options *o, char *err,
			       size_t err_size)
{
	/* getopt_long stops at "--": what follows belongs to the DPDK EAL. */
	if (operands < argc && strcmp(argv[operands - 1], "--") == 0) {
		o->eal_argc = argc - operands;
		o->eal_argv = argv + operands;
	} else if (operands < argc) {
		snprintf(err, err_size, "unexpected argument '%s' (EAL arguments go after --)", argv[operands]);
		return false;
	}
	return true;
}

/* Options that are each fine but not together, or missing. */
static bool check_combination(const struct loadgen_options *o, char *err, size_t err_size)
{
	if (!o->config_path) {
		snprintf(err, err_size, "--config FILE is required");
		return false;
	}
	if (o->link && strcmp(o->link, "tcp") == 0 && strcmp(o->dataplane, "dpdk") == 0) {
		snprintf(err, err_size, "--link tcp runs over kernel sockets: it cannot be combined with --dataplane dpdk");
		return false;
	}
	if (strcmp(o->dataplane, "dpdk") == 0 && !o->dpdk_address) {
		snprintf(err, err_size, "--dataplane dpdk needs --dpdk-address (our IPv4 address on that link)");
		return false;
	}
	return true;
}

int loadgen_options_parse(int argc, char **argv, struct loadgen_options *o, char *err, size_t err_size)
{
	set_defaults(o);
	int operands;
	switch (option_table_parse(rows, ROW_COUNT, argc, argv, o, &operands, err, err_size)) {
	case OPTION_TABLE_HELP:
		loadgen_options_usage(stdout);
		return 1;
	case OPTION_TABLE_BAD:
		return -1;
	case OPTION_TABLE_OK:
		break;
	}
	if (!take_eal_arguments(argc, argv, operands, o, err, err_size) || !check_combination(o, err, err_size))
		return -1;
	return 0;
}
