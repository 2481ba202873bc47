#include "option_table.h"

#include "option_help.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define OPTION_TABLE_MAX 64
#define FIRST_ROW_VAL 256 /* getopt_long answers row i with FIRST_ROW_VAL + i, clear of any short option */
#define HELP_COLUMN 25 /* where the help text starts */

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

/* The size a row's field must have; 0 for OPTION_UNSIGNED, which takes several. */
static size_t field_size(enum option_kind kind)
{
	switch (kind) {
	case OPTION_TEXT:
	case OPTION_CHOICE: return sizeof(const char *);
	case OPTION_ENUM: return sizeof(int);
	case OPTION_DECIMAL: return sizeof(double);
	case OPTION_SET:
	case OPTION_CLEAR: return sizeof(bool);
	case OPTION_UNSIGNED:
	case OPTION_HELP: break;
	}
	return 0;
}

/* A row whose field cannot hold its kind would write past it: refuse the table instead. */
static bool row_fits(const struct option_row *row)
{
	if (row->kind == OPTION_HELP)
		return true;
	if (row->kind == OPTION_UNSIGNED)
		return row->size == sizeof(uint16_t) || row->size == sizeof(uint32_t) || row->size == sizeof(uint64_t);
	return row->size == field_size(row->kind);
}

static int choice_index(const struct option_row *row, const char *value)
{
	for (int i = 0; row->choices[i]; i++)
		if (strcmp(row->choices[i], value) == 0)
			return i;
	return -1;
}

static void store_unsigned(void *at, size_t size, uint64_t v)
{
	if (size == sizeof(uint16_t)) {
		uint16_t narrow = (uint16_t)v;
		memcpy(at, &narrow, size);
	} else if (size == sizeof(uint32_t)) {
		uint32_t narrow = (uint32_t)v;
		memcpy(at, &narrow, size);
	} else {
		memcpy(at, &v, size);
	}
}

/* Stores one option's value in its field; false when the row does not allow the value. */
static bool store(const struct option_row *row, const char *value, void *into)
{
	void *at = (char *)into + row->offset;
	switch (row->kind) {
	case OPTION_TEXT:
		memcpy(at, &value, sizeof value);
		break;
	case OPTION_CHOICE:
		if (choice_index(row, value) < 0)
			return false;
		memcpy(at, &value, sizeof value);
		break;
	case OPTION_ENUM: {
		int i = choice_index(row, value);
		if (i < 0)
			return false;
		memcpy(at, &row->values[i], sizeof(int));
		break;
	}
	case OPTION_UNSIGNED: {
		uint64_t u;
		if (!parse_u64(value, &u) || u < row->min || u > row->max)
			return false;
		store_unsigned(at, row->size, u);
		break;
	}
	case OPTION_DECIMAL: {
		double d;
		if (!parse_double(value, &d) || d <= 0 || (row->most > 0 && d > row->most))
			return false;
		memcpy(at, &d, sizeof d);
		break;
	}
	case OPTION_SET:
	case OPTION_CLEAR: {
		bool b = row->kind == OPTION_SET;
		memcpy(at, &b, sizeof b);
		break;
	}
	case OPTION_HELP:
		break;
	}
	if (row->records_given) {
		bool given = true;
		memcpy((char *)into + row->given_offset, &given, sizeof given);
	}
	return true;
}

static bool takes_value(enum option_kind kind)
{
	return kind != OPTION_SET && kind != OPTION_CLEAR && kind != OPTION_HELP;
}

enum option_table_result option_table_parse(const struct option_row *rows, size_t count, int argc, char **argv,
					    void *into, int *operands, char *err, size_t err_size)
{
	struct option longs[OPTION_TABLE_MAX + 1];
	if (count > OPTION_TABLE_MAX) {
		snprintf(err, err_size, "option table: %zu options, at most %d", count, OPTION_TABLE_MAX);
		return OPTION_TABLE_BAD;
	}
	for (size_t i = 0; i < count; i++) {
		if (!row_fits(&rows[i])) {
			snprintf(err, err_size, "option table: the field of --%s cannot hold its value", rows[i].name);
			return OPTION_TABLE_BAD;
		}
		longs[i] = (struct option){rows[i].name, takes_value(rows[i].kind) ? required_argument : no_argument, NULL,
					   FIRST_ROW_VAL + (int)i};
	}
	longs[count] = (struct option){NULL, 0, NULL, 0};

	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		/* '?': unknown, ambiguous, or missing its value (getopt_long tells them apart by optopt only). */
		if (c < FIRST_ROW_VAL || c >= FIRST_ROW_VAL + (int)count) {
			snprintf(err, err_size, "unknown option '%s' (see --help)", argv[optind - 1]);
			return OPTION_TABLE_BAD;
		}
		const struct option_row *row = &rows[c - FIRST_ROW_VAL];
		if (row->kind == OPTION_HELP)
			return OPTION_TABLE_HELP;
		if (!store(row, optarg, into)) {
			snprintf(err, err_size, "bad value '%s' for --%s", optarg ? optarg : "", row->name);
			return OPTION_TABLE_BAD;
		}
	}
	*operands = optind;
	return OPTION_TABLE_OK;
}

/* "--name VALUE", the choices standing for the value when there are some. */
static void option_head(const struct option_row *row, char *out, size_t size)
{
	int n = snprintf(out, size, "--%s", row->name);
	if (row->choices) {
		for (int i = 0; row->choices[i] && n > 0 && (size_t)n < size; i++)
			n += snprintf(out + n, size - (size_t)n, "%c%s", i ? '|' : ' ', row->choices[i]);
	} else if (row->value) {
		snprintf(out + n, size - (size_t)n, " %s", row->value);
	}
}

/* A line being put together; what does not fit is cut. */
struct line {
	char text[160];
	size_t length;
};

__attribute__((format(printf, 2, 3))) static void line_add(struct line *l, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	int n = vsnprintf(l->text + l->length, sizeof l->text - l->length, format, ap);
	va_end(ap);
	if (n > 0)
		l->length = l->length + (size_t)n < sizeof l->text ? l->length + (size_t)n : sizeof l->text - 1;
}

static uint64_t load_unsigned(const void *at, size_t size)
{
	if (size == sizeof(uint16_t)) {
		uint16_t narrow;
		memcpy(&narrow, at, sizeof narrow);
		return narrow;
	}
	if (size == sizeof(uint32_t)) {
		uint32_t narrow;
		memcpy(&narrow, at, sizeof narrow);
		return narrow;
	}
	uint64_t v;
	memcpy(&v, at, sizeof v);
	return v;
}

/*
 * The range the parser enforces, the default it starts from (read from
 * `defaults`), or where the value comes from when not given: "(1..64, default 1)".
 */
static void option_facts(const struct option_row *row, const void *defaults, struct line *facts)
{
	const void *at = (const char *)defaults + row->offset;
	const char *sep = "(";
	facts->length = 0;
	facts->text[0] = '\0';
	if (row->kind == OPTION_UNSIGNED && (row->min != 0 || row->max != UINT64_MAX)) {
		line_add(facts, "%s%llu..%llu", sep, (unsigned long long)row->min, (unsigned long long)row->max);
		sep = ", ";
	}
	if (row->kind == OPTION_DECIMAL) {
		line_add(facts, "%sabove 0", sep);
		if (row->most > 0)
			line_add(facts, ", at most %g", row->most);
		sep = ", ";
	}
	if (row->show_default && row->kind == OPTION_UNSIGNED) {
		line_add(facts, "%sdefault %llu", sep, (unsigned long long)load_unsigned(at, row->size));
		sep = ", ";
	} else if (row->show_default) {
		const char *text;
		memcpy(&text, at, sizeof text);
		line_add(facts, "%sdefault %s", sep, text ? text : "none");
		sep = ", ";
	}
	if (row->fallback) {
		line_add(facts, "%sdefault: %s", sep, row->fallback);
		sep = ", ";
	}
	if (facts->length)
		line_add(facts, ")");
}

void option_table_usage(const struct option_row *rows, size_t count, const void *defaults, FILE *out)
{
	for (size_t i = 0; i < count; i++) {
		char head[96];
		struct line facts;
		option_head(&rows[i], head, sizeof head);
		option_facts(&rows[i], defaults, &facts);
		option_help_line(out, HELP_COLUMN, head, rows[i].help, facts.text);
	}
}
