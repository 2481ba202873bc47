/*
 * A command line described as a table: one row per long option says its
 * name, what its value is and may be, which field of the options struct it
 * goes to, and what --help says of it. The parser and the usage text both
 * read the rows, so that what --help promises and what the parser accepts
 * cannot drift apart.
 *
 * Values are checked as the generator always did: unsigned integers are
 * decimal without a sign, decimals finite and above 0, choices exact; a bad
 * value is reported as "bad value 'V' for --NAME".
 */
#ifndef OPTION_TABLE_H
#define OPTION_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum option_kind {
	OPTION_TEXT,     /* any string, kept as given (const char *) */
	OPTION_CHOICE,   /* one of .choices, kept as given (const char *) */
	OPTION_ENUM,     /* one of .choices, stored as the matching .values entry (an int-sized enum) */
	OPTION_UNSIGNED, /* decimal in [.min, .max], into a uint16_t, uint32_t/unsigned or uint64_t */
	OPTION_DECIMAL,  /* finite, above 0 and at most .most unless that is 0 (double) */
	OPTION_SET,      /* no value: the bool becomes true */
	OPTION_CLEAR,    /* no value: the bool becomes false */
	OPTION_HELP,     /* no value, no field: the parser answers OPTION_TABLE_HELP */
};

struct option_row {
	const char *name;  /* without the leading "--" */
	const char *value; /* the value's name in --help ("N", "FILE"); choices show themselves */
	enum option_kind kind;
	size_t offset, size; /* the field in the options struct */
	bool records_given;  /* also set the bool at given_offset: the option was on the command line */
	size_t given_offset;
	uint64_t min, max;          /* OPTION_UNSIGNED */
	double most;                /* OPTION_DECIMAL: 0 for no upper bound */
	const char *const *choices; /* OPTION_CHOICE, OPTION_ENUM: NULL-terminated */
	const int *values;          /* OPTION_ENUM: one per choice */
	bool show_default;          /* --help prints the field's default value */
	const char *fallback;       /* --help: where the value comes from when not given, e.g. "config loadgen.rate" */
	const char *help;           /* what the option does; a '\n' continues on an indented line */
};

/* The rows' fields of struct T (offset and size). */
#define OPTION_FIELD(T, f) .offset = offsetof(T, f), .size = sizeof(((T *)0)->f)
#define OPTION_GIVEN(T, f) .records_given = true, .given_offset = offsetof(T, f)

enum option_table_result { OPTION_TABLE_OK = 0, OPTION_TABLE_HELP = 1, OPTION_TABLE_BAD = -1 };

/*
 * Parses argv's options (getopt_long: any order, unambiguous prefixes, stops
 * at "--") into the struct at `into`, which holds the defaults. *operands
 * gets the index of the first argument that is not an option. OPTION_TABLE_HELP
 * as soon as --help is seen; OPTION_TABLE_BAD with a message in err on an
 * unknown option, a missing value or a bad value.
 */
enum option_table_result option_table_parse(const struct option_row *rows, size_t count, int argc, char **argv,
					    void *into, int *operands, char *err, size_t err_size);

/* One line (or more) per row: the option, its value, what it does, its range and default from `defaults`. */
void option_table_usage(const struct option_row *rows, size_t count, const void *defaults, FILE *out);

#endif
