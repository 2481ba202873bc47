/*
 * The ports are moved in the YAML document itself (libyaml's node tree, then
 * its emitter), so that every other key of the config, known to the loader or
 * added later, comes through unchanged.
 */
#include "config_ports.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "ecosystem_config.h"
#include "seed_config.h"

/* Keys whose value is an endpoint "host:port" (docs/configuration.md). */
static bool is_endpoint_key(const char *key)
{
	return strcmp(key, "http") == 0 || strcmp(key, "iso") == 0 || strcmp(key, "listen") == 0;
}

struct walk {
	yaml_document_t *doc;
	long shift;    /* 0 on the first pass, which only measures */
	long low, high;
	bool failed;
};

static void visit_endpoint(struct walk *w, yaml_node_t *value)
{
	if (value->type != YAML_SCALAR_NODE)
		return;
	char *text = (char *)value->data.scalar.value;
	char *colon = strrchr(text, ':');
	char *end;
	long port = colon ? strtol(colon + 1, &end, 10) : 0;
	if (!colon || *end != '\0' || port < 1 || port > 65535)
		return; /* the loader says what is wrong with it */
	if (w->shift == 0) {
		if (w->low == 0 || port < w->low)
			w->low = port;
		if (port > w->high)
			w->high = port;
		return;
	}
	size_t host = (size_t)(colon - text);
	char *moved = malloc(host + 8);
	if (!moved) {
		w->failed = true;
		return;
	}
	snprintf(moved, host + 8, "%.*s:%ld", (int)host, text, port + w->shift);
	free(value->data.scalar.value);
	value->data.scalar.value = (yaml_char_t *)moved;
	value->data.scalar.length = strlen(moved);
}

static void visit(struct walk *w, yaml_node_t *n)
{
	if (!n)
		return;
	if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++)
			visit(w, yaml_document_get_node(w->doc, *i));
	} else if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *key = yaml_document_get_node(w->doc, p->key);
			yaml_node_t *value = yaml_document_get_node(w->doc, p->value);
			if (key && key->type == YAML_SCALAR_NODE && is_endpoint_key((const char *)key->data.scalar.value))
				visit_endpoint(w, value);
			else
				visit(w, value);
		}
	}
}

static int write_to_stream(void *stream, unsigned char *buffer, size_t size)
{
	return fwrite(buffer, 1, size, stream) == size;
}

/* Emits (and so deletes) doc after a comment line; the text, or NULL. */
static char *emit(yaml_document_t *doc, const char *source, unsigned base)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	if (!out) {
		yaml_document_delete(doc);
		return NULL;
	}
	fprintf(out, "# %s with every port moved so that the lowest is %u (iso8583-config move-ports)\n", source, base);
	yaml_emitter_t emitter;
	bool ok = yaml_emitter_initialize(&emitter);
	if (ok) {
		yaml_emitter_set_output(&emitter, write_to_stream, out);
		yaml_emitter_set_width(&emitter, 120);
		ok = yaml_emitter_open(&emitter) && yaml_emitter_dump(&emitter, doc) && yaml_emitter_close(&emitter);
		yaml_emitter_delete(&emitter);
	} else {
		yaml_document_delete(doc);
	}
	if (fclose(out) != 0 || !ok) {
		free(text);
		return NULL;
	}
	return text;
}

static char *move_native(const char *yaml, size_t len, const char *source, unsigned base, char *err,
			 size_t err_size)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, err_size, "%s: cannot initialise the YAML parser", source);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	bool loaded = yaml_parser_load(&parser, &doc);
	yaml_parser_delete(&parser);
	if (!loaded) {
		snprintf(err, err_size, "%s: not YAML", source);
		return NULL;
	}
	struct walk w = {.doc = &doc};
	visit(&w, yaml_document_get_root_node(&doc));
	if (w.low == 0) {
		yaml_document_delete(&doc);
		snprintf(err, err_size, "%s: no endpoint to move", source);
		return NULL;
	}
	if (base < 1 || base + (w.high - w.low) > 65535) {
		yaml_document_delete(&doc);
		snprintf(err, err_size, "%s: ports %ld..%ld moved to start at %u would pass 65535", source, w.low, w.high,
			 base);
		return NULL;
	}
	w.shift = (long)base - w.low;
	if (w.shift != 0)
		visit(&w, yaml_document_get_root_node(&doc));
	if (w.failed) {
		yaml_document_delete(&doc);
		snprintf(err, err_size, "%s: out of memory", source);
		return NULL;
	}
	char *text = emit(&doc, source, base);
	if (!text)
		snprintf(err, err_size, "%s: cannot write the moved config", source);
	return text;
}

char *config_move_ports(const char *yaml, size_t len, const char *source, unsigned base, char *err,
			size_t err_size)
{
	/* Checked first, so that a config the agents would refuse is not moved. */
	struct ecosystem_config *check = malloc(sizeof *check);
	if (!check) {
		snprintf(err, err_size, "%s: out of memory", source);
		return NULL;
	}
	if (!ecosystem_config_parse(yaml, len, source, check, err, err_size)) {
		free(check);
		return NULL;
	}
	char *native = NULL;
	enum seed_result seed = seed_config_convert(yaml, len, source, &native, err, err_size);
	if (seed == SEED_CONVERTED) {
		yaml = native;
		len = strlen(native);
	}
	char *moved = move_native(yaml, len, source, base, err, err_size);
	free(native);
	if (moved && !ecosystem_config_parse(moved, strlen(moved), source, check, err, err_size)) {
		free(moved);
		moved = NULL;
	}
	free(check);
	return moved;
}
