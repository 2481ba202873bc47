/*
 * The seed's config layout read with libyaml, checked, and written out in
 * this project's layout, which ecosystem_config_parse then checks like any
 * other file. Names and IINs are checked here before they are written, so the
 * YAML this writes can hold nothing but what it means to.
 */
#include "seed_config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "ecosystem_config.h"

#define IIN_MAX 11

struct iin_list {
	char peer[CFG_NAME_MAX]; /* the network (at a bank) or the bank (at a network) */
	size_t count;
	char iins[CFG_MAX_BINS][IIN_MAX + 1];
	unsigned line;
};

struct seed_agent {
	char name[CFG_NAME_MAX];
	unsigned major_industry_id; /* networks only */
	size_t list_count;
	struct iin_list lists[CFG_MAX_BANKS > CFG_MAX_NETWORKS ? CFG_MAX_BANKS : CFG_MAX_NETWORKS];
};

struct seed {
	yaml_document_t *doc;
	const char *source;
	char *err;
	size_t err_size;
	size_t bank_count, network_count;
	struct seed_agent banks[CFG_MAX_BANKS];
	struct seed_agent networks[CFG_MAX_NETWORKS];
};

static bool fail(struct seed *s, unsigned line, const char *path, const char *fmt, const char *value)
{
	char message[256];
	snprintf(message, sizeof message, fmt, value);
	snprintf(s->err, s->err_size, "%s:%u: %s: %s (the seed's layout)", s->source, line, path, message);
	return false;
}

static unsigned line_of(const yaml_node_t *n)
{
	return n ? (unsigned)n->start_mark.line + 1 : 0;
}

static yaml_node_t *node(struct seed *s, int id)
{
	return yaml_document_get_node(s->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *lookup(struct seed *s, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(s, p->key));
		if (k && strcmp(k, key) == 0)
			return node(s, p->value);
	}
	return NULL;
}

/* Every key of map is one of allowed (NULL-terminated). */
static bool only_keys(struct seed *s, const yaml_node_t *map, const char *path, const char *const *allowed)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return fail(s, line_of(map), path, "%s", "expected a mapping");
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(s, p->key));
		bool known = false;
		for (size_t i = 0; k && allowed[i] && !known; i++)
			known = strcmp(k, allowed[i]) == 0;
		if (!known)
			return fail(s, line_of(node(s, p->key)), path, "unknown key '%s'", k ? k : "?");
	}
	return true;
}

static bool is_name(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n >= CFG_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9') ||
		      t[i] == '_' || t[i] == '-'))
			return false;
	return true;
}

static bool is_iin(const char *t)
{
	size_t n = strlen(t);
	if (n < 6 || n > IIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (t[i] < '0' || t[i] > '9')
			return false;
	return true;
}

/* One IIN, or a list of them, into out. */
static bool read_iins(struct seed *s, const yaml_node_t *value, const char *path, struct iin_list *out)
{
	const yaml_node_t *items[CFG_MAX_BINS];
	size_t count = 0;
	if (value && value->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = value->data.sequence.items.start; i < value->data.sequence.items.top; i++) {
			if (count == CFG_MAX_BINS)
				return fail(s, line_of(value), path, "more than %s IINs", "32");
			items[count++] = node(s, *i);
		}
	} else {
		items[count++] = value;
	}
	if (count == 0)
		return fail(s, line_of(value), path, "%s", "no IIN");
	for (size_t i = 0; i < count; i++) {
		const char *t = scalar(items[i]);
		if (!t || !is_iin(t))
			return fail(s, line_of(items[i]), path, "'%s' is not an issuer identification number (6 to 11 digits)",
				    t ? t : "(not a scalar)");
		snprintf(out->iins[i], sizeof out->iins[i], "%s", t);
	}
	out->count = count;
	out->line = line_of(value);
	return true;
}

/* name: { issuer_identification_numbers: { peer: iin | [iin, ...] } }, and for networks the MII. */
static bool read_agent(struct seed *s, const char *kind, const yaml_node_pair_t *pair, bool network,
		       struct seed_agent *out)
{
	static const char *const bank_keys[] = {"issuer_identification_numbers", NULL};
	static const char *const network_keys[] = {"major_industry_identifier", "issuer_identification_numbers", NULL};
	char path[256];
	const char *name = scalar(node(s, pair->key));
	snprintf(path, sizeof path, "agents.%s.%s", kind, name ? name : "?");
	if (!name || !is_name(name))
		return fail(s, line_of(node(s, pair->key)), path, "'%s' is not a name (letters, digits, _ and -)",
			    name ? name : "?");
	snprintf(out->name, sizeof out->name, "%s", name);
	const yaml_node_t *map = node(s, pair->value);
	if (!only_keys(s, map, path, network ? network_keys : bank_keys))
		return false;
	if (network) {
		const char *mii = scalar(lookup(s, map, "major_industry_identifier"));
		if (!mii || strlen(mii) != 1 || mii[0] < '0' || mii[0] > '9')
			return fail(s, line_of(map), path, "major_industry_identifier: '%s' is not a digit",
				    mii ? mii : "(missing)");
		out->major_industry_id = (unsigned)(mii[0] - '0');
	}
	const yaml_node_t *iins = lookup(s, map, "issuer_identification_numbers");
	if (!iins) /* a network no bank issues under yet, or a bank of no network */
		return true;
	char ipath[320];
	snprintf(ipath, sizeof ipath, "%s.issuer_identification_numbers", path);
	if (iins->type != YAML_MAPPING_NODE)
		return fail(s, line_of(iins), ipath, "%s", "expected a mapping of names to IINs");
	for (yaml_node_pair_t *p = iins->data.mapping.pairs.start; p < iins->data.mapping.pairs.top; p++) {
		const char *peer = scalar(node(s, p->key));
		char ppath[400];
		snprintf(ppath, sizeof ppath, "%s.%s", ipath, peer ? peer : "?");
		if (!peer || !is_name(peer))
			return fail(s, line_of(node(s, p->key)), ipath, "'%s' is not a name", peer ? peer : "?");
		if (out->list_count == sizeof(out->lists) / sizeof(out->lists[0]))
			return fail(s, line_of(iins), ipath, "%s", "too many entries");
		struct iin_list *list = &out->lists[out->list_count++];
		snprintf(list->peer, sizeof list->peer, "%s", peer);
		if (!read_iins(s, node(s, p->value), ppath, list))
			return false;
	}
	return true;
}

static bool read_agents(struct seed *s, const yaml_node_t *map, const char *kind, bool network)
{
	char path[64];
	snprintf(path, sizeof path, "agents.%s", kind);
	if (!map || map->type != YAML_MAPPING_NODE || map->data.mapping.pairs.top == map->data.mapping.pairs.start)
		return fail(s, line_of(map), path, "%s", "expected a mapping of at least one name");
	size_t max = network ? CFG_MAX_NETWORKS : CFG_MAX_BANKS;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		size_t *count = network ? &s->network_count : &s->bank_count;
		if (*count == max)
			return fail(s, line_of(map), path, "more agents than the %s this build takes",
				    network ? "8" : "16");
		struct seed_agent *a = network ? &s->networks[*count] : &s->banks[*count];
		if (!read_agent(s, kind, p, network, a))
			return false;
		(*count)++;
	}
	return true;
}

static const struct iin_list *list_for(const struct seed_agent *a, const char *peer)
{
	for (size_t i = 0; i < a->list_count; i++)
		if (strcmp(a->lists[i].peer, peer) == 0)
			return &a->lists[i];
	return NULL;
}

static const struct seed_agent *agent_named(const struct seed_agent *all, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(all[i].name, name) == 0)
			return &all[i];
	return NULL;
}

static bool contains(const struct iin_list *l, const char *iin)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->iins[i], iin) == 0)
			return true;
	return false;
}

/* Every IIN of `have` is in `want`: the two sides of the seed's double entry. */
static bool listed_by_other_side(struct seed *s, const char *kind, const struct seed_agent *a,
				 const struct iin_list *have, const char *other_kind, const struct seed_agent *others,
				 size_t other_count)
{
	char path[256], other_path[256];
	snprintf(path, sizeof path, "agents.%s.%s.issuer_identification_numbers.%s", kind, a->name, have->peer);
	const struct seed_agent *other = agent_named(others, other_count, have->peer);
	if (!other)
		return fail(s, have->line, path, "no %s of that name", other_kind);
	snprintf(other_path, sizeof other_path, "agents.%s.%s.issuer_identification_numbers.%s", other_kind,
		 other->name, a->name);
	const struct iin_list *want = list_for(other, a->name);
	for (size_t i = 0; i < have->count; i++)
		if (!want || !contains(want, have->iins[i])) {
			char message[300];
			snprintf(message, sizeof message, "'%%s' is not in %s", other_path);
			return fail(s, have->line, path, message, have->iins[i]);
		}
	return true;
}

static bool cross_check(struct seed *s)
{
	for (size_t b = 0; b < s->bank_count; b++)
		for (size_t i = 0; i < s->banks[b].list_count; i++)
			if (!listed_by_other_side(s, "bank", &s->banks[b], &s->banks[b].lists[i], "network", s->networks,
						  s->network_count))
				return false;
	for (size_t n = 0; n < s->network_count; n++)
		for (size_t i = 0; i < s->networks[n].list_count; i++)
			if (!listed_by_other_side(s, "network", &s->networks[n], &s->networks[n].lists[i], "bank",
						  s->banks, s->bank_count))
				return false;
	return true;
}

static char *write_native(const struct seed *s)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	if (!out)
		return NULL;
	fprintf(out, "# Converted from the seed's layout (%s): addresses, institution ids and\n"
		     "# storage paths are the defaults of docs/configuration.md.\n",
		s->source);
	/* The seed has no keys: the shipped config's key file paths (docs/data-protection.md,
	 * docs/protocol.md "MAC"); scripts/ecosystem.sh creates both for a run. */
	fprintf(out, "pan_protection:\n  key_file: var/keys/pan.keys\n");
	fprintf(out, "iso_mac:\n  key_file: iso_mac.keys\n");
	fprintf(out, "banks:\n");
	for (size_t b = 0; b < s->bank_count; b++) {
		const struct seed_agent *a = &s->banks[b];
		/* 10000000001, 20000000002, ...: 11 digits, unique, and the shipped config's for the first two. */
		unsigned long long institution = 10000000000ull * (b % 9 + 1) + (b + 1);
		fprintf(out,
			"  - name: %s\n    institution_id: \"%llu\"\n    http: 127.0.0.1:%zu\n"
			"    iso: 127.0.0.1:%zu\n    lmdb_path: var/%s\n",
			a->name, institution, 8101 + b, 9101 + b, a->name);
		if (a->list_count)
			fprintf(out, "    networks:\n");
		for (size_t i = 0; i < a->list_count; i++) {
			fprintf(out, "      - network: %s\n        bins: [", a->lists[i].peer);
			for (size_t k = 0; k < a->lists[i].count; k++)
				fprintf(out, "%s\"%s\"", k ? ", " : "", a->lists[i].iins[k]);
			fprintf(out, "]\n");
		}
	}
	fprintf(out, "networks:\n");
	for (size_t n = 0; n < s->network_count; n++) {
		const struct seed_agent *a = &s->networks[n];
		fprintf(out,
			"  - name: %s\n    major_industry_id: %u\n    http: 127.0.0.1:%zu\n    iso: 127.0.0.1:%zu\n"
			"    lmdb_path: var/%s\n",
			a->name, a->major_industry_id, 8201 + n, 9201 + n, a->name);
	}
	if (fclose(out) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static enum seed_result convert_document(struct seed *s, char **native)
{
	static const char *const root_keys[] = {"agents", NULL};
	static const char *const agents_keys[] = {"bank", "network", NULL};
	const yaml_node_t *root = yaml_document_get_root_node(s->doc);
	if (!root || root->type != YAML_MAPPING_NODE || !lookup(s, root, "agents"))
		return SEED_NOT_SEED;
	const yaml_node_t *agents = lookup(s, root, "agents");
	if (!only_keys(s, root, "(top level)", root_keys) || !only_keys(s, agents, "agents", agents_keys) ||
	    !read_agents(s, lookup(s, agents, "network"), "network", true) ||
	    !read_agents(s, lookup(s, agents, "bank"), "bank", false) || !cross_check(s))
		return SEED_INVALID;
	*native = write_native(s);
	if (!*native) {
		snprintf(s->err, s->err_size, "%s: out of memory", s->source);
		return SEED_INVALID;
	}
	return SEED_CONVERTED;
}

enum seed_result seed_config_convert(const char *yaml, size_t len, const char *source, char **native, char *err,
				     size_t err_size)
{
	*native = NULL;
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser))
		return SEED_NOT_SEED;
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	enum seed_result result = SEED_NOT_SEED; /* bad YAML: the native parser says where */
	if (yaml_parser_load(&parser, &doc)) {
		struct seed *s = calloc(1, sizeof *s);
		if (s) {
			*s = (struct seed){ .doc = &doc, .source = source, .err = err, .err_size = err_size };
			result = convert_document(s, native);
			free(s);
		}
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	return result;
}
