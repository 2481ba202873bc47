/*
 * The bank-node command line as a table: one row per option says its name,
 * what its value may be, which field of struct bank_options it goes to, and
 * what --help says of it. The parser and the usage text both read the rows,
 * so that --help cannot promise what the parser refuses, or leave out what it
 * takes. Options not given stay unset (NULL or negative) and the bank's config
 * entry decides (bank_options_apply).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank_node.h"
#include "option_help.h"

enum bank_option_kind {
	BANK_OPTION_TEXT,        /* a string, kept as given (const char *) */
	BANK_OPTION_RANGE,       /* a decimal integer in [min, max] (an int or a long) */
	BANK_OPTION_CHOICE,      /* one of choices, stored as the matching value (an int) */
	BANK_OPTION_PROBABILITY, /* a number in [0, 1] (a double) */
	BANK_OPTION_SEED,        /* any unsigned 64-bit integer; seed_set records that it was given */
	BANK_OPTION_HELP,
};

struct bank_option {
	const char *name;  /* without the leading "--" */
	const char *value; /* the value's name in --help; choices show themselves */
	enum bank_option_kind kind;
	size_t offset, size; /* the field in struct bank_options */
	long min, max;       /* BANK_OPTION_RANGE */
	const char *what;    /* BANK_OPTION_RANGE: a bad value "is not <what> (<min>-<max><note>)" */
	const char *note;
	const char *const *choices; /* BANK_OPTION_CHOICE: NULL-terminated, with their values */
	const int *values;
	const char *fallback; /* --help: where the value comes from when not given */
	const char *help;
};

#define FIELD(f) .offset = offsetof(struct bank_options, f), .size = sizeof(((struct bank_options *)0)->f)
#define FIRST_ROW_VAL 256 /* getopt_long answers row i with FIRST_ROW_VAL + i, clear of '?' */
#define HELP_COLUMN 28    /* where the help text starts */

static const char *const durability_names[] = {"sync", "nometasync", "async", NULL};
static const int durability_values[] = {DURABILITY_SYNC, DURABILITY_NOMETASYNC, DURABILITY_ASYNC};

/* In the order --help lists them. */
static const struct bank_option rows[] = {
	{.name = "config", .value = "FILE", .kind = BANK_OPTION_TEXT, FIELD(config_path),
	 .help = "ecosystem config; required"},
	{.name = "bank", .value = "NAME", .kind = BANK_OPTION_TEXT, FIELD(bank_name),
	 .help = "which of the config's banks to be; required"},
	{.name = "lmdb-path", .value = "DIR", .kind = BANK_OPTION_TEXT, FIELD(lmdb_path),
	 .fallback = "the bank's lmdb_path", .help = "where the bank's LMDB store lives"},
	{.name = "http-port", .value = "N", .kind = BANK_OPTION_RANGE, FIELD(http_port), .min = 1, .max = 65535,
	 .what = "a port", .fallback = "the bank's http", .help = "port of the HTTP API"},
	{.name = "iso-port", .value = "N", .kind = BANK_OPTION_RANGE, FIELD(iso_port), .min = 1, .max = 65535,
	 .what = "a port", .fallback = "the bank's iso", .help = "UDP port of ISO 8583 requests"},
	{.name = "durability", .kind = BANK_OPTION_CHOICE, FIELD(durability), .choices = durability_names,
	 .values = durability_values, .fallback = "the bank's durability",
	 .help = "when an answer may leave: once the commit is on disk, without syncing\n"
		 "the meta page, or without waiting for the disk"},
	{.name = "batch-max", .value = "N", .kind = BANK_OPTION_RANGE, FIELD(batch_max), .min = 1, .max = 1 << 20,
	 .what = "a count", .fallback = "the bank's batch_max, else 256",
	 .help = "most authorizations per LMDB write transaction"},
	{.name = "answer-budget-ms", .value = "N", .kind = BANK_OPTION_RANGE, FIELD(answer_budget_ms), .min = 0,
	 .max = 60000, .what = "a time in ms", .note = ", 0 = never shed", .fallback = "the bank's answer_budget_ms",
	 .help = "an 1100 that waited longer for the writer is answered 912"},
	{.name = "delay-probability", .value = "P", .kind = BANK_OPTION_PROBABILITY, FIELD(delay_probability),
	 .fallback = "the bank's faults", .help = "share of answers held back --delay-ms after commit"},
	{.name = "delay-ms", .value = "N", .kind = BANK_OPTION_RANGE, FIELD(delay_ms), .min = 0, .max = 600000,
	 .what = "a delay in ms", .fallback = "the bank's faults", .help = "how long a delayed answer is held back"},
	{.name = "drop-probability", .value = "P", .kind = BANK_OPTION_PROBABILITY, FIELD(drop_probability),
	 .fallback = "the bank's faults", .help = "share of well-formed requests dropped unanswered"},
	{.name = "seed", .value = "N", .kind = BANK_OPTION_SEED, FIELD(seed), .fallback = "the clock",
	 .help = "seed of the fault-injection PRNGs, for runs that repeat"},
	{.name = "help", .kind = BANK_OPTION_HELP, .help = "this text"},
};
#define ROW_COUNT (sizeof rows / sizeof rows[0])

static void set_defaults(struct bank_options *o)
{
	memset(o, 0, sizeof(*o));
	o->http_port = o->iso_port = o->durability = -1;
	o->batch_max = o->delay_ms = o->answer_budget_ms = -1;
	o->delay_probability = o->drop_probability = -1.0;
}

static void option_head(const struct bank_option *row, char *out, size_t size)
{
	int n = snprintf(out, size, "--%s", row->name);
	if (row->choices) {
		for (int i = 0; row->choices[i] && n > 0 && (size_t)n < size; i++)
			n += snprintf(out + n, size - (size_t)n, "%c%s", i ? '|' : ' ', row->choices[i]);
	} else if (row->value) {
		snprintf(out + n, size - (size_t)n, " %s", row->value);
	}
}

/* The range the parser enforces and where an unset value comes from: "(1-65535, default: the bank's http)". */
static void option_facts(const struct bank_option *row, char *out, size_t size)
{
	char range[64] = "";
	if (row->kind == BANK_OPTION_RANGE)
		snprintf(range, sizeof range, "%ld-%ld%s", row->min, row->max, row->note ? row->note : "");
	else if (row->kind == BANK_OPTION_PROBABILITY)
		snprintf(range, sizeof range, "0-1");
	if (range[0] && row->fallback)
		snprintf(out, size, "(%s, default: %s)", range, row->fallback);
	else if (range[0] || row->fallback)
		snprintf(out, size, "(%s%s%s)", range, row->fallback ? "default: " : "", row->fallback ? row->fallback : "");
	else
		out[0] = '\0';
}

void bank_options_usage(FILE *out)
{
	fprintf(out, "usage: bank-node --config FILE --bank NAME [options]\n"
		     "\n"
		     "One issuing bank of the config: decides 1100 authorizations and 1420/1421\n"
		     "reversals over UDP (and TCP), keeps its ledger in LMDB, serves an HTTP API.\n"
		     "Options override the bank's entry in the config.\n"
		     "\n");
	for (size_t i = 0; i < ROW_COUNT; i++) {
		char head[96], facts[160];
		option_head(&rows[i], head, sizeof head);
		option_facts(&rows[i], facts, sizeof facts);
		option_help_line(out, HELP_COLUMN, head, rows[i].help, facts);
	}
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

static int choice_index(const struct bank_option *row, const char *value)
{
	for (int i = 0; row->choices[i]; i++)
		if (strcmp(row->choices[i], value) == 0)
			return i;
	return -1;
}

/* "sync, nometasync, async". */
static void choice_list(const struct bank_option *row, char *out, size_t size)
{
	size_t n = 0;
	out[0] = '\0';
	for (int i = 0; row->choices[i] && n < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%s", i ? ", " : "", row->choices[i]);
}

/* Stores one option's value in its field; false with the reason in err when the row does not allow it. */
static bool store(const struct bank_option *row, const char *value, struct bank_options *o, char *err,
		  size_t err_size)
{
	void *at = (char *)o + row->offset;
	switch (row->kind) {
	case BANK_OPTION_TEXT:
		memcpy(at, &value, sizeof value);
		return true;
	case BANK_OPTION_RANGE: {
		long v;
		if (!parse_long(value, row->min, row->max, &v)) {
			snprintf(err, err_size, "--%s: '%s' is not %s (%ld-%ld%s)", row->name, value, row->what, row->min,
				 row->max, row->note ? row->note : "");
			return false;
		}
		if (row->size == sizeof(int)) {
			int narrow = (int)v;
			memcpy(at, &narrow, sizeof narrow);
		} else {
			memcpy(at, &v, sizeof v);
		}
		return true;
	}
	case BANK_OPTION_CHOICE: {
		int i = choice_index(row, value);
		if (i < 0) {
			char list[128];
			choice_list(row, list, sizeof list);
			snprintf(err, err_size, "--%s: '%s' is not one of %s", row->name, value, list);
			return false;
		}
		memcpy(at, &row->values[i], sizeof(int));
		return true;
	}
	case BANK_OPTION_PROBABILITY: {
		double p;
		if (!parse_probability(value, &p)) {
			snprintf(err, err_size, "--%s: '%s' is not a probability in [0, 1]", row->name, value);
			return false;
		}
		memcpy(at, &p, sizeof p);
		return true;
	}
	case BANK_OPTION_SEED: {
		char *end;
		errno = 0;
		o->seed = strtoull(value, &end, 10);
		if (errno || end == value || *end) {
			snprintf(err, err_size, "--%s: '%s' is not an unsigned integer", row->name, value);
			return false;
		}
		o->seed_set = true;
		return true;
	}
	case BANK_OPTION_HELP:
		break;
	}
	return true;
}

bool bank_options_parse(int argc, char **argv, struct bank_options *o, char *err, size_t err_size)
{
	struct option longs[ROW_COUNT + 1];
	for (size_t i = 0; i < ROW_COUNT; i++)
		longs[i] = (struct option){rows[i].name, rows[i].kind == BANK_OPTION_HELP ? no_argument : required_argument,
					   NULL, FIRST_ROW_VAL + (int)i};
	longs[ROW_COUNT] = (struct option){NULL, 0, NULL, 0};
	set_defaults(o);
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c < FIRST_ROW_VAL || c >= FIRST_ROW_VAL + (int)ROW_COUNT) {
			snprintf(err, err_size, "unknown or incomplete option '%s'", argv[optind - 1]);
			return false;
		}
		const struct bank_option *row = &rows[c - FIRST_ROW_VAL];
		if (row->kind == BANK_OPTION_HELP) {
			snprintf(err, err_size, "help");
			return false;
		}
		if (!store(row, optarg, o, err, err_size))
			return false;
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
