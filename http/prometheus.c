#include "prometheus.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct prom_text {
	FILE *out;
	char *buffer;
	size_t size;
};

struct prom_text *prom_text_new(void)
{
	struct prom_text *t = calloc(1, sizeof *t);
	if (t && !(t->out = open_memstream(&t->buffer, &t->size))) {
		free(t);
		return NULL;
	}
	return t;
}

/* HELP text escapes backslash and newline; label values also the double quote. */
static void put_escaped(FILE *out, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '"' && quote)
			fputs("\\\"", out);
		else
			fputc(*s, out);
	}
}

void prom_family(struct prom_text *t, const char *name, enum prom_type type, const char *help)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	fprintf(t->out, "# HELP %s ", name);
	put_escaped(t->out, help, false);
	fprintf(t->out, "\n# TYPE %s %s\n", name, types[type]);
}

/* name{a="x",b="y"} or name{a="x",le="0.5"}; no braces without labels. */
static void put_name(FILE *out, const char *name, const char *suffix, const struct prom_label *labels, size_t n,
		     const char *le)
{
	fputs(name, out);
	fputs(suffix, out);
	if (n == 0 && !le)
		return;
	fputc('{', out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s%s=\"", i ? "," : "", labels[i].name);
		put_escaped(out, labels[i].value, true);
		fputc('"', out);
	}
	if (le)
		fprintf(out, "%sle=\"%s\"", n ? "," : "", le);
	fputc('}', out);
}

static void put_double(FILE *out, double v)
{
	if (isnan(v))
		fputs("NaN", out);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", out);
	else
		fprintf(out, "%.17g", v);
}

void prom_sample(struct prom_text *t, const char *name, const struct prom_label *labels, size_t label_count,
		 uint64_t value)
{
	put_name(t->out, name, "", labels, label_count, NULL);
	fprintf(t->out, " %llu\n", (unsigned long long)value);
}

void prom_sample_double(struct prom_text *t, const char *name, const struct prom_label *labels,
			size_t label_count, double value)
{
	put_name(t->out, name, "", labels, label_count, NULL);
	fputc(' ', t->out);
	put_double(t->out, value);
	fputc('\n', t->out);
}

void prom_histogram(struct prom_text *t, const char *name, const struct prom_label *labels, size_t label_count,
		    const double *bounds, const uint64_t *counts, size_t bound_count, double sum)
{
	uint64_t cumulative = 0;
	char le[32];
	for (size_t i = 0; i <= bound_count; i++) {
		cumulative += counts[i];
		if (i < bound_count)
			snprintf(le, sizeof le, "%g", bounds[i]);
		else
			snprintf(le, sizeof le, "+Inf");
		put_name(t->out, name, "_bucket", labels, label_count, le);
		fprintf(t->out, " %llu\n", (unsigned long long)cumulative);
	}
	put_name(t->out, name, "_sum", labels, label_count, NULL);
	fputc(' ', t->out);
	put_double(t->out, sum);
	fputc('\n', t->out);
	put_name(t->out, name, "_count", labels, label_count, NULL);
	fprintf(t->out, " %llu\n", (unsigned long long)cumulative);
}

void prom_latency(struct prom_text *t, const char *name, const struct prom_label *labels, size_t label_count,
		  const struct latency_counts *c)
{
	double bounds[LATENCY_BUCKETS];
	for (unsigned i = 0; i < LATENCY_BUCKETS; i++)
		bounds[i] = (double)latency_bounds_ns[i] / 1e9;
	prom_histogram(t, name, labels, label_count, bounds, c->counts, LATENCY_BUCKETS, (double)c->sum_ns / 1e9);
}

char *prom_text_finish(struct prom_text *t, size_t *length)
{
	if (!t)
		return NULL;
	char *text = NULL;
	if (fclose(t->out) == 0) {
		text = t->buffer;
		*length = t->size;
	} else {
		free(t->buffer);
	}
	free(t);
	return text;
}
