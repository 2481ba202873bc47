/*
 * One line of an agent's --help, laid out the same way by every option table
 * (bank-node's, cardholder-loadgen's): the option's head in a column, its help
 * (newlines continue under the help column), then the facts the parser
 * enforces, "(1-65535, default: ...)", on a line of their own when they would
 * run past the width.
 */
#ifndef OPTION_HELP_H
#define OPTION_HELP_H

#include <stddef.h>
#include <stdio.h>

#define OPTION_HELP_WIDTH 100

void option_help_line(FILE *out, size_t help_column, const char *head, const char *help, const char *facts);

#endif
