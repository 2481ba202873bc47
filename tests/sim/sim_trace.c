#include "sim_trace.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void sim_trace_init(struct sim_trace *t, const uint64_t *now_us, bool keep, FILE *echo)
{
	memset(t, 0, sizeof(*t));
	t->hash = 0xcbf29ce484222325ull;
	t->now_us = now_us;
	t->keep = keep;
	t->echo = echo;
}

void sim_trace_free(struct sim_trace *t)
{
	free(t->text);
	t->text = NULL;
	t->length = t->capacity = 0;
}

static void keep_line(struct sim_trace *t, const char *line, size_t n)
{
	if (t->length + n + 1 > t->capacity) {
		size_t cap = t->capacity ? t->capacity * 2 : 1u << 20;
		while (cap < t->length + n + 1)
			cap *= 2;
		char *p = realloc(t->text, cap);
		if (!p) {
			t->keep = false; /* the hash goes on; only the excerpts are lost */
			return;
		}
		t->text = p;
		t->capacity = cap;
	}
	memcpy(t->text + t->length, line, n);
	t->length += n;
	t->text[t->length] = '\0';
}

void sim_trace_line(struct sim_trace *t, const char *fmt, ...)
{
	char line[1024];
	uint64_t now = *t->now_us;
	int head = snprintf(line, sizeof(line), "%llu.%03llu ", (unsigned long long)(now / 1000),
			    (unsigned long long)(now % 1000));
	va_list ap;
	va_start(ap, fmt);
	int body = vsnprintf(line + head, sizeof(line) - (size_t)head - 1, fmt, ap);
	va_end(ap);
	size_t n = (size_t)head + (body < 0 ? 0 : (size_t)body);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	line[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		t->hash ^= (uint8_t)line[i];
		t->hash *= 0x100000001b3ull;
	}
	t->lines++;
	if (t->keep)
		keep_line(t, line, n);
	if (t->echo)
		fputs(line, t->echo);
}

/* Calls on every kept line (without its newline) that contains needle. */
static size_t each_line_with(const struct sim_trace *t, const char *needle, size_t skip, FILE *out)
{
	size_t seen = 0;
	const char *line = t->text;
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		const char *hit = strstr(line, needle);
		if (hit && hit < line + n && seen++ >= skip && out)
			fprintf(out, "  %.*s\n", (int)n, line);
		line += n + (end ? 1 : 0);
	}
	return seen;
}

void sim_trace_grep(const struct sim_trace *t, const char *needle, FILE *out, size_t max)
{
	if (!t->text)
		return;
	size_t total = each_line_with(t, needle, 0, NULL);
	size_t skip = total > max ? total - max : 0;
	if (skip)
		fprintf(out, "  ... %zu earlier line(s)\n", skip);
	each_line_with(t, needle, skip, out);
}
