#include "option_help.h"

#include <string.h>

void option_help_line(FILE *out, size_t help_column, const char *head, const char *help, const char *facts)
{
	fprintf(out, "  %-*s", (int)help_column - 3, head);
	if (strlen(head) > help_column - 3)
		fprintf(out, "\n%*s", (int)help_column - 1, "");
	fputc(' ', out);
	size_t column = help_column;
	for (const char *h = help; *h; h++) {
		fputc(*h, out);
		column++;
		if (*h == '\n') {
			fprintf(out, "%*s", (int)help_column, "");
			column = help_column;
		}
	}
	size_t facts_length = strlen(facts);
	if (facts_length && column + 1 + facts_length > OPTION_HELP_WIDTH)
		fprintf(out, "\n%*s%s", (int)help_column, "", facts);
	else if (facts_length)
		fprintf(out, " %s", facts);
	fputc('\n', out);
}
