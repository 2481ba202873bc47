#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank_node.h"

void bank_options_usage(FILE *out)
{
	fprintf(out,
		"usage: bank-node --config FILE --bank NAME [--lmdb-path DIR] [--http-port N] [--iso-port N]\n"
		"                 [--durability sync|nometasync|async] [--batch-max N] [--answer-budget-ms N]\n"
		"                 [--delay-probability P --delay-ms N] [--drop-probability P] [--seed N]\n");
}

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_probability(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.0 && v <= 1.0))
		return false;
	*out = v;
	return true;
}

bool bank_options_parse(int argc, char **argv, struct bank_options *o, char *err, size_t err_size)
{
	enum { O_CONFIG = 1, O_BANK, O_LMDB, O_HTTP, O_ISO, O_DURABILITY, O_BATCH, O_BUDGET, O_DELAY_P, O_DELAY_MS, O_DROP_P, O_SEED, O_HELP };
	static const struct option long_options[] = {
		{"config", required_argument, NULL, O_CONFIG},
		{"bank", required_argument, NULL, O_BANK},
		{"lmdb-path", required_argument, NULL, O_LMDB},
		{"http-port", required_argument, NULL, O_HTTP},
		{"iso-port", required_argument, NULL, O_ISO},
		{"durability", required_argument, NULL, O_DURABILITY},
		{"batch-max", required_argument, NULL, O_BATCH},
		{"answer-budget-ms", required_argument, NULL, O_BUDGET},
		{"delay-probability", required_argument, NULL, O_DELAY_P},
		{"delay-ms", required_argument, NULL, O_DELAY_MS},
		{"drop-probability", required_argument, NULL, O_DROP_P},
		{"seed", required_argument, NULL, O_SEED},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	o->http_port = o->iso_port = o->durability = -1;
	o->batch_max = o->delay_ms = o->answer_budget_ms = -1;
	o->delay_probability = o->drop_probability = -1.0;
	optind = 1;
	opterr = 0;
	int c;
	long v;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case O_CONFIG:
			o->config_path = optarg;
			break;
		case O_BANK:
			o->bank_name = optarg;
			break;
		case O_LMDB:
			o->lmdb_path = optarg;
			break;
		case O_HTTP:
		case O_ISO:
			if (!parse_long(optarg, 1, 65535, &v)) {
				snprintf(err, err_size, "%s: '%s' is not a port (1-65535)",
					 c == O_HTTP ? "--http-port" : "--iso-port", optarg);
				return false;
			}
			*(c == O_HTTP ? &o->http_port : &o->iso_port) = (int)v;
			break;
		case O_DURABILITY:
			if (strcmp(optarg, "sync") == 0)
				o->durability = DURABILITY_SYNC;
			else if (strcmp(optarg, "nometasync") == 0)
				o->durability = DURABILITY_NOMETASYNC;
			else if (strcmp(optarg, "async") == 0)
				o->durability = DURABILITY_ASYNC;
			else {
				snprintf(err, err_size, "--durability: '%s' is not one of sync, nometasync, async", optarg);
				return false;
			}
			break;
		case O_BATCH:
			if (!parse_long(optarg, 1, 1 << 20, &o->batch_max)) {
				snprintf(err, err_size, "--batch-max: '%s' is not a count (1-1048576)", optarg);
				return false;
			}
			break;
		case O_BUDGET:
			if (!parse_long(optarg, 0, 60000, &o->answer_budget_ms)) {
				snprintf(err, err_size, "--answer-budget-ms: '%s' is not a time in ms (0-60000, 0 = never shed)",
					 optarg);
				return false;
			}
			break;
		case O_DELAY_P:
		case O_DROP_P:
			if (!parse_probability(optarg, c == O_DELAY_P ? &o->delay_probability : &o->drop_probability)) {
				snprintf(err, err_size, "%s: '%s' is not a probability in [0, 1]",
					 c == O_DELAY_P ? "--delay-probability" : "--drop-probability", optarg);
				return false;
			}
			break;
		case O_DELAY_MS:
			if (!parse_long(optarg, 0, 600000, &o->delay_ms)) {
				snprintf(err, err_size, "--delay-ms: '%s' is not a delay in ms (0-600000)", optarg);
				return false;
			}
			break;
		case O_SEED: {
			char *end;
			errno = 0;
			o->seed = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end) {
				snprintf(err, err_size, "--seed: '%s' is not an unsigned integer", optarg);
				return false;
			}
			o->seed_set = true;
			break;
		}
		case O_HELP:
			snprintf(err, err_size, "help");
			return false;
		default:
			snprintf(err, err_size, "unknown or incomplete option '%s'", argv[optind - 1]);
			return false;
		}
	}
	if (optind < argc) {
		snprintf(err, err_size, "unexpected argument '%s'", argv[optind]);
		return false;
	}
	if (!o->config_path || !o->bank_name) {
		snprintf(err, err_size, "--config and --bank are required");
		return false;
	}
	return true;
}

bool bank_options_apply(const struct bank_options *o, struct cfg_bank *bank, char *err, size_t err_size)
{
	if (o->lmdb_path) {
		if (strlen(o->lmdb_path) >= sizeof(bank->lmdb_path)) {
			snprintf(err, err_size, "--lmdb-path: longer than %zu bytes", sizeof(bank->lmdb_path) - 1);
			return false;
		}
		snprintf(bank->lmdb_path, sizeof(bank->lmdb_path), "%s", o->lmdb_path);
	}
	if (o->http_port > 0)
		bank->http.port = (uint16_t)o->http_port;
	if (o->iso_port > 0)
		bank->iso.port = (uint16_t)o->iso_port;
	if (o->durability >= 0)
		bank->durability = (enum durability)o->durability;
	if (o->batch_max > 0)
		bank->batch_max = (uint32_t)o->batch_max;
	if (o->answer_budget_ms >= 0)
		bank->answer_budget_ms = (uint32_t)o->answer_budget_ms;
	if (o->delay_probability >= 0)
		bank->faults.delay_probability = o->delay_probability;
	if (o->delay_ms >= 0)
		bank->faults.delay_ms = (uint32_t)o->delay_ms;
	if (o->drop_probability >= 0)
		bank->faults.drop_probability = o->drop_probability;
	if (bank->batch_max == 0)
		bank->batch_max = 256;
	return true;
}
