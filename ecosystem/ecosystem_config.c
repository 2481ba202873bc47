/*
 * config/ecosystem.yaml -> struct ecosystem_config, with libyaml's document API.
 *
 * Everything is validated here so that the agents can trust the structs: every
 * key is known, typed and in range, names are unique, references resolve. The
 * first problem found is reported as one line,
 *   "<file>:<line>: <key path>: <what is wrong with which value>",
 * because a typo in a config must stop an agent at start, not surface later as
 * a misrouted payment. docs/configuration.md lists the keys and defaults.
 */
#include "ecosystem_config.h"
#include "seed_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define CONFIG_FILE_MAX (4u << 20)
#define KEY_PATH_MAX 128
#define MAX_ENDPOINTS (3 * (CFG_MAX_BANKS + CFG_MAX_NETWORKS))

/* Every endpoint seen so far, so that two listeners cannot be given one address. HTTP and
 * the TCP ISO 8583 listeners share the TCP port space; the UDP iso endpoints have their own. */
struct seen_endpoint {
	struct cfg_endpoint endpoint;
	bool is_tcp;
	char path[KEY_PATH_MAX];
};

struct parser {
	yaml_document_t *doc;
	const char *source;
	char *err;
	size_t err_size;
	bool failed;
	size_t endpoint_count;
	struct seen_endpoint endpoints[MAX_ENDPOINTS];
};

/* ---- errors ---------------------------------------------------------------- */

static unsigned line_of(const yaml_node_t *n)
{
	return n ? (unsigned)n->start_mark.line + 1 : 1;
}

/* Records the first error only: later ones are usually consequences of it. */
__attribute__((format(printf, 4, 5))) static bool fail(struct parser *p, const yaml_node_t *at,
							const char *path, const char *fmt, ...)
{
	if (p->failed)
		return false;
	p->failed = true;
	char message[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	if (p->err == NULL || p->err_size == 0)
		return false;
	if (path && path[0])
		snprintf(p->err, p->err_size, "%s:%u: %s: %s", p->source, line_of(at), path, message);
	else
		snprintf(p->err, p->err_size, "%s:%u: %s", p->source, line_of(at), message);
	return false;
}

/* A node's text fit for a one-line message: at most 48 characters, no control characters. */
static const char *shown(const yaml_node_t *n, char *buf, size_t size)
{
	if (n->type == YAML_MAPPING_NODE)
		return "(a mapping)";
	if (n->type == YAML_SEQUENCE_NODE)
		return "(a list)";
	const unsigned char *v = n->data.scalar.value;
	size_t len = n->data.scalar.length, out = 0, shown_max = 48;
	for (size_t i = 0; i < len && i < shown_max && out + 4 < size; i++)
		buf[out++] = (v[i] < 0x20 || v[i] == 0x7f) ? '?' : (char)v[i];
	if (len > shown_max && out + 4 < size) {
		memcpy(buf + out, "...", 3);
		out += 3;
	}
	buf[out] = '\0';
	return buf;
}

/* ---- key paths and nodes ----------------------------------------------------- */

/* Key paths are short; one that would not fit is cut, which only shortens a message. */
static void child_path(char *out, const char *parent, const char *key)
{
	int n = parent[0] ? snprintf(out, KEY_PATH_MAX, "%s.%s", parent, key)
			  : snprintf(out, KEY_PATH_MAX, "%s", key);
	if (n < 0)
		out[0] = '\0';
}

static void item_path(char *out, const char *parent, size_t index)
{
	if (snprintf(out, KEY_PATH_MAX, "%s[%zu]", parent, index) < 0)
		out[0] = '\0';
}

static yaml_node_t *node_at(struct parser *p, int id)
{
	return yaml_document_get_node(p->doc, id);
}

static size_t sequence_length(const yaml_node_t *seq)
{
	return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

static yaml_node_t *sequence_item(struct parser *p, const yaml_node_t *seq, size_t i)
{
	return node_at(p, seq->data.sequence.items.start[i]);
}

static bool scalar_is(const yaml_node_t *n, const char *text)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.length == strlen(text) &&
	       memcmp(n->data.scalar.value, text, n->data.scalar.length) == 0;
}

static bool expect_type(struct parser *p, const yaml_node_t *n, const char *path, yaml_node_type_t type)
{
	if (n->type == type)
		return true;
	const char *wanted = type == YAML_MAPPING_NODE ? "a mapping of keys"
			     : type == YAML_SEQUENCE_NODE ? "a list"
							  : "a single value";
	char buf[64];
	return fail(p, n, path, "expected %s, found '%s'", wanted, shown(n, buf, sizeof buf));
}

/* The text of a scalar, refusing embedded NULs (a "\0" escape) that C strings would cut. */
static const char *scalar_text(struct parser *p, const yaml_node_t *n, const char *path)
{
	if (!expect_type(p, n, path, YAML_SCALAR_NODE))
		return NULL;
	const char *text = (const char *)n->data.scalar.value;
	if (strlen(text) != n->data.scalar.length) {
		fail(p, n, path, "value contains a NUL character");
		return NULL;
	}
	return text;
}

/* Refuses keys outside `allowed` (NULL-terminated) and keys given twice. */
static bool check_keys(struct parser *p, const yaml_node_t *map, const char *path, const char *const *allowed)
{
	if (!expect_type(p, map, path, YAML_MAPPING_NODE))
		return false;
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *key = node_at(p, pair->key);
		char buf[64], kpath[KEY_PATH_MAX];
		if (key->type != YAML_SCALAR_NODE)
			return fail(p, key, path, "a key must be a plain name, found %s", shown(key, buf, sizeof buf));
		const char *name = (const char *)key->data.scalar.value;
		child_path(kpath, path, shown(key, buf, sizeof buf));
		bool known = false;
		for (const char *const *a = allowed; *a && !known; a++)
			known = scalar_is(key, *a);
		if (!known) {
			char expected[384] = "";
			size_t used = 0;
			for (const char *const *a = allowed; *a && used < sizeof expected; a++)
				used += (size_t)snprintf(expected + used, sizeof expected - used, "%s%s",
							 a == allowed ? "" : ", ", *a);
			return fail(p, key, kpath, "unknown key (expected one of %s)", expected);
		}
		for (yaml_node_pair_t *earlier = map->data.mapping.pairs.start; earlier < pair; earlier++)
			if (scalar_is(node_at(p, earlier->key), name))
				return fail(p, key, kpath, "key given twice (first at line %u)",
					    line_of(node_at(p, earlier->key)));
	}
	return true;
}

/*
 * The value of `key` in `map`, NULL when absent; a missing required key is
 * reported at the line of the mapping that lacks it.
 */
static yaml_node_t *field(struct parser *p, const yaml_node_t *map, const char *path, const char *key,
			  bool required, char *fpath)
{
	child_path(fpath, path, key);
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++)
		if (scalar_is(node_at(p, pair->key), key))
			return node_at(p, pair->value);
	if (required)
		fail(p, map, fpath, "missing required key");
	return NULL;
}

/* ---- typed values ------------------------------------------------------------ */

static bool parse_decimal(const char *s, uint64_t *out)
{
	if (s[0] == '\0')
		return false;
	for (const char *c = s; *c; c++)
		if (*c < '0' || *c > '9')
			return false;
	errno = 0;
	unsigned long long v = strtoull(s, NULL, 10);
	if (errno == ERANGE)
		return false;
	*out = v;
	return true;
}

static bool get_uint(struct parser *p, const yaml_node_t *map, const char *path, const char *key, bool required,
		     uint64_t fallback, uint64_t min, uint64_t max, uint64_t *out)
{
	char fpath[KEY_PATH_MAX], buf[64];
	yaml_node_t *n = field(p, map, path, key, required, fpath);
	if (n == NULL) {
		*out = fallback;
		return !required;
	}
	const char *text = scalar_text(p, n, fpath);
	if (text == NULL)
		return false;
	uint64_t v;
	if (!parse_decimal(text, &v))
		return fail(p, n, fpath, "'%s' is not an unsigned decimal integer", shown(n, buf, sizeof buf));
	if (v < min || v > max)
		return fail(p, n, fpath, "'%s' is out of range %llu..%llu", shown(n, buf, sizeof buf),
			    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return true;
}

/* A section or mapping the config leaves out: every key of it takes its default. */
static const yaml_node_t absent_section = {.type = YAML_MAPPING_NODE};

static bool get_u32(struct parser *p, const yaml_node_t *map, const char *path, const char *key, bool required,
		    uint32_t fallback, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	if (!get_uint(p, map, path, key, required, fallback, min, max, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool get_probability(struct parser *p, const yaml_node_t *map, const char *path, const char *key,
			    double *out)
{
	char fpath[KEY_PATH_MAX], buf[64];
	yaml_node_t *n = field(p, map, path, key, false, fpath);
	if (n == NULL) {
		*out = 0.0;
		return true;
	}
	const char *text = scalar_text(p, n, fpath);
	if (text == NULL)
		return false;
	char *end = NULL;
	errno = 0;
	double v = text[0] ? strtod(text, &end) : NAN;
	if (end == NULL || *end != '\0' || errno != 0 || !isfinite(v) || v < 0.0 || v > 1.0)
		return fail(p, n, fpath, "'%s' is not a probability in [0, 1]", shown(n, buf, sizeof buf));
	*out = v;
	return true;
}

enum text_kind {
	TEXT_NAME,   /* letters, digits, '_', '-', '.': names end up in account ids and paths */
	TEXT_DIGITS, /* decimal digits only */
	TEXT_PATH,   /* any printable text */
};

static bool get_text(struct parser *p, const yaml_node_t *map, const char *path, const char *key, bool required,
		     const char *fallback, enum text_kind kind, size_t min_len, size_t max_len, char *out)
{
	char fpath[KEY_PATH_MAX], buf[64];
	yaml_node_t *n = field(p, map, path, key, required, fpath);
	if (n == NULL) {
		if (required)
			return false;
		strcpy(out, fallback);
		return true;
	}
	const char *text = scalar_text(p, n, fpath);
	if (text == NULL)
		return false;
	size_t len = strlen(text);
	if (len < min_len || len > max_len) {
		if (min_len == max_len)
			return fail(p, n, fpath, "'%s' must be exactly %zu characters long", shown(n, buf, sizeof buf),
				    min_len);
		return fail(p, n, fpath, "'%s' must be %zu to %zu characters long", shown(n, buf, sizeof buf),
			    min_len, max_len);
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		bool ok;
		switch (kind) {
		case TEXT_NAME:
			ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
			     c == '-' || c == '.';
			if (!ok)
				return fail(p, n, fpath, "'%s' may only hold letters, digits, '_', '-' and '.'",
					    shown(n, buf, sizeof buf));
			break;
		case TEXT_DIGITS:
			if (c < '0' || c > '9')
				return fail(p, n, fpath, "'%s' must be decimal digits only", shown(n, buf, sizeof buf));
			break;
		case TEXT_PATH:
			if (c < 0x20 || c == 0x7f)
				return fail(p, n, fpath, "'%s' holds a control character", shown(n, buf, sizeof buf));
			break;
		}
	}
	memcpy(out, text, len + 1);
	return true;
}

static bool get_choice(struct parser *p, const yaml_node_t *map, const char *path, const char *key,
		       int fallback, const char *const *names, int *out)
{
	char fpath[KEY_PATH_MAX], buf[64];
	yaml_node_t *n = field(p, map, path, key, false, fpath);
	if (n == NULL) {
		*out = fallback;
		return true;
	}
	if (!expect_type(p, n, fpath, YAML_SCALAR_NODE))
		return false;
	for (int i = 0; names[i]; i++)
		if (scalar_is(n, names[i])) {
			*out = i;
			return true;
		}
	char expected[128] = "";
	size_t used = 0;
	for (int i = 0; names[i] && used < sizeof expected; i++)
		used += (size_t)snprintf(expected + used, sizeof expected - used, "%s%s", i ? ", " : "", names[i]);
	return fail(p, n, fpath, "'%s' is not one of %s", shown(n, buf, sizeof buf), expected);
}

/* "a.b.c.d:port", an IPv4 host and a port in 1..65535; no two agents on one endpoint.
 * is_tcp: a TCP listener (http, tcp.listen), else a UDP endpoint (iso). */
static bool get_endpoint(struct parser *p, const yaml_node_t *map, const char *path, const char *key,
			 bool is_tcp, struct cfg_endpoint *out)
{
	char fpath[KEY_PATH_MAX], buf[64];
	yaml_node_t *n = field(p, map, path, key, true, fpath);
	if (n == NULL)
		return false;
	const char *text = scalar_text(p, n, fpath);
	if (text == NULL)
		return false;
	const char *colon = strrchr(text, ':');
	if (colon == NULL)
		return fail(p, n, fpath, "'%s' is not host:port", shown(n, buf, sizeof buf));
	size_t host_len = (size_t)(colon - text);
	struct in_addr addr;
	if (host_len == 0 || host_len >= sizeof out->host)
		return fail(p, n, fpath, "'%s': the host is not an IPv4 address", shown(n, buf, sizeof buf));
	memcpy(out->host, text, host_len);
	out->host[host_len] = '\0';
	if (inet_pton(AF_INET, out->host, &addr) != 1)
		return fail(p, n, fpath, "'%s': the host is not an IPv4 address", shown(n, buf, sizeof buf));
	uint64_t port;
	if (!parse_decimal(colon + 1, &port) || port < 1 || port > 65535)
		return fail(p, n, fpath, "'%s': the port is not in 1..65535", shown(n, buf, sizeof buf));
	out->port = (uint16_t)port;

	for (size_t i = 0; i < p->endpoint_count; i++) {
		const struct seen_endpoint *s = &p->endpoints[i];
		if (s->is_tcp == is_tcp && s->endpoint.port == out->port && strcmp(s->endpoint.host, out->host) == 0)
			return fail(p, n, fpath, "'%s' is already the endpoint of %s", shown(n, buf, sizeof buf),
				    s->path);
	}
	if (p->endpoint_count < MAX_ENDPOINTS) {
		struct seen_endpoint *s = &p->endpoints[p->endpoint_count++];
		s->endpoint = *out;
		s->is_tcp = is_tcp;
		snprintf(s->path, sizeof s->path, "%s", fpath);
	}
	return true;
}

/* A list node with 1..max entries (required), its length in *count. */
static yaml_node_t *get_list(struct parser *p, const yaml_node_t *map, const char *path, const char *key,
			     size_t max, char *fpath, size_t *count)
{
	yaml_node_t *n = field(p, map, path, key, true, fpath);
	if (n == NULL || !expect_type(p, n, fpath, YAML_SEQUENCE_NODE))
		return NULL;
	*count = sequence_length(n);
	if (*count == 0) {
		fail(p, n, fpath, "the list is empty, at least one entry is needed");
		return NULL;
	}
	if (*count > max) {
		fail(p, n, fpath, "%zu entries, at most %zu are supported", *count, max);
		return NULL;
	}
	return n;
}

/* ---- sections ---------------------------------------------------------------- */

/* Keys of a tcp mapping's uint field, for errors pointing at the one that is wrong. */
static yaml_node_t *tcp_key_node(struct parser *p, const yaml_node_t *tcp, const char *sub, const char *key,
				 const char *other, char *fpath)
{
	yaml_node_t *n = field(p, tcp, sub, key, false, fpath);
	return n ? n : field(p, tcp, sub, other, false, fpath);
}

/*
 * The limits of a network's acquirer edge (docs/configuration.md, "tcp
 * listener"): a bank's listener has only the switches on it and takes none.
 * Defaults: the table of tcp_port_config_defaults, a quarter of it per
 * address, eviction after 5 s, keep-alives alone hold a link ten idle
 * timeouts (or 900 s when the idle timeout is off), a worker waits up to 1 s
 * for room in a full send ring rather than drop an answer, a new 1100 that
 * waited half a second in the edge is shed (answered 909 at once).
 */
static bool parse_tcp_edge(struct parser *p, const yaml_node_t *tcp, const char *sub, struct cfg_tcp *out)
{
	char fpath[KEY_PATH_MAX], buf[64];
	uint32_t quiet_default = out->idle_timeout_s ? out->idle_timeout_s * 10u : 900u;
	if (quiet_default > 864000u)
		quiet_default = 864000u;
	if (!get_u32(p, tcp, sub, "max_inbound", false, 256, 1, 65536, &out->max_inbound) ||
	    !get_u32(p, tcp, sub, "max_inbound_per_source", false, out->max_inbound / 4 ? out->max_inbound / 4 : 1, 1,
		     65536, &out->max_inbound_per_source) ||
	    !get_u32(p, tcp, sub, "evict_idle_s", false, 5, 0, 86400, &out->evict_idle_s) ||
	    !get_u32(p, tcp, sub, "quiet_timeout_s", false, quiet_default, 0, 864000, &out->quiet_timeout_s) ||
	    !get_u32(p, tcp, sub, "ring_slots", false, 1024, 64, 65536, &out->ring_slots) ||
	    !get_u32(p, tcp, sub, "send_wait_ms", false, 1000, 1, 60000, &out->send_wait_ms) ||
	    !get_u32(p, tcp, sub, "shed_after_ms", false, 500, 0, 60000, &out->shed_after_ms))
		return false;
	if (out->max_inbound_per_source > out->max_inbound) {
		yaml_node_t *n = tcp_key_node(p, tcp, sub, "max_inbound_per_source", "max_inbound", fpath);
		return fail(p, n, fpath, "'%s' leaves max_inbound_per_source %u above max_inbound %u",
			    shown(n, buf, sizeof buf), out->max_inbound_per_source, out->max_inbound);
	}
	/* A quiet timeout below the idle timeout would close links the idle rule keeps on purpose. */
	if (out->quiet_timeout_s && out->idle_timeout_s && out->quiet_timeout_s < out->idle_timeout_s) {
		yaml_node_t *n = tcp_key_node(p, tcp, sub, "quiet_timeout_s", "idle_timeout_s", fpath);
		return fail(p, n, fpath, "'%s' leaves quiet_timeout_s %u below idle_timeout_s %u (0 = never)",
			    shown(n, buf, sizeof buf), out->quiet_timeout_s, out->idle_timeout_s);
	}
	/* Slots are taken a power of two at a time (tcp_ring.h): say so rather than round silently. */
	if (out->ring_slots & (out->ring_slots - 1)) {
		yaml_node_t *n = field(p, tcp, sub, "ring_slots", false, fpath);
		return fail(p, n, fpath, "'%s' is not a power of two (64, 128, ... 65536)", shown(n, buf, sizeof buf));
	}
	return true;
}

/*
 * The optional `tcp` mapping of a bank or network: a TCP listener for ISO 8583
 * hosts; a network's (edge) also takes the limits of its acquirer edge.
 */
static bool parse_tcp(struct parser *p, const yaml_node_t *map, const char *path, bool edge, struct cfg_tcp *out)
{
	static const char *const bank_keys[] = {"listen", "framing", "max_message", "keepalive_s", "idle_timeout_s",
						NULL};
	static const char *const edge_keys[] = {"listen",      "framing",		 "max_message",
						"keepalive_s", "idle_timeout_s",	 "max_inbound",
						"max_inbound_per_source", "evict_idle_s", "quiet_timeout_s",
						"ring_slots",  "send_wait_ms",		 "shed_after_ms", NULL};
	/* Same order as enum cfg_framing. */
	static const char *const framings[] = {"binary2", "ascii4", NULL};
	char sub[KEY_PATH_MAX];
	memset(out, 0, sizeof(*out));
	yaml_node_t *tcp = field(p, map, path, "tcp", false, sub);
	if (tcp == NULL)
		return true;
	int framing;
	/* 4096: the agents' message buffers (ISO_MAX_MESSAGE); 64: below that no request fits. */
	if (!expect_type(p, tcp, sub, YAML_MAPPING_NODE) || !check_keys(p, tcp, sub, edge ? edge_keys : bank_keys) ||
	    !get_endpoint(p, tcp, sub, "listen", true, &out->listen) ||
	    !get_choice(p, tcp, sub, "framing", CFG_FRAMING_BINARY2, framings, &framing) ||
	    !get_u32(p, tcp, sub, "max_message", false, 4096, 64, 4096, &out->max_message) ||
	    !get_u32(p, tcp, sub, "keepalive_s", false, 30, 0, 86400, &out->keepalive_s) ||
	    !get_u32(p, tcp, sub, "idle_timeout_s", false, 90, 0, 86400, &out->idle_timeout_s))
		return false;
	out->framing = (enum cfg_framing)framing;
	/* A link closed for silence while we ourselves keep it busy would flap for nothing. */
	if (out->keepalive_s && out->idle_timeout_s && out->idle_timeout_s <= out->keepalive_s) {
		char fpath[KEY_PATH_MAX], buf[64];
		yaml_node_t *n = tcp_key_node(p, tcp, sub, "idle_timeout_s", "keepalive_s", fpath);
		return fail(p, n, fpath, "'%s' leaves idle_timeout_s %u not above keepalive_s %u",
			    shown(n, buf, sizeof buf), out->idle_timeout_s, out->keepalive_s);
	}
	if (edge && !parse_tcp_edge(p, tcp, sub, out))
		return false;
	out->enabled = true;
	return true;
}

static const char *const link_names[] = {"udp", "tcp", NULL}; /* same order as enum cfg_link */

static bool all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* "51051000" (6..11 digits) or "51999100-51999199" (same length, low <= high). */
static bool parse_bin(struct parser *p, const yaml_node_t *n, const char *path, struct cfg_bin_range *out)
{
	char buf[64];
	const char *text = scalar_text(p, n, path);
	if (text == NULL)
		return false;
	const char *dash = strchr(text, '-');
	size_t low_len = dash ? (size_t)(dash - text) : strlen(text);
	const char *high = dash ? dash + 1 : text;
	size_t high_len = strlen(high);
	if (low_len < 6 || low_len > 11 || high_len < 6 || high_len > 11 || !all_digits(text, low_len) ||
	    !all_digits(high, high_len))
		return fail(p, n, path, "'%s' is not a BIN of 6 to 11 digits nor a range 'low-high' of two such BINs",
			    shown(n, buf, sizeof buf));
	if (low_len != high_len)
		return fail(p, n, path, "'%s': the range ends differ in length (%zu and %zu digits)",
			    shown(n, buf, sizeof buf), low_len, high_len);
	memcpy(out->low, text, low_len);
	out->low[low_len] = '\0';
	memcpy(out->high, high, high_len);
	out->high[high_len] = '\0';
	out->length = (uint8_t)low_len;
	if (strcmp(out->low, out->high) > 0)
		return fail(p, n, path, "'%s': the range's low end is above its high end", shown(n, buf, sizeof buf));
	return true;
}

static bool bins_overlap(const struct cfg_bin_range *a, const struct cfg_bin_range *b)
{
	/* Equal-length digit strings compare like the numbers they spell. */
	return a->length == b->length && strcmp(a->low, b->high) <= 0 && strcmp(b->low, a->high) <= 0;
}

static void format_bin(const struct cfg_bin_range *b, char *out, size_t size)
{
	if (strcmp(b->low, b->high) == 0)
		snprintf(out, size, "%s", b->low);
	else
		snprintf(out, size, "%s-%s", b->low, b->high);
}

/*
 * Checks a BIN of bank `bank_index` on `net` against the network's major
 * industry id, against every BIN of the same length already claimed on that
 * network (routing by BIN must have exactly one answer; a longer BIN inside a
 * shorter one is fine, the most specific wins), and against the card indexes
 * the generated population needs.
 */
static bool check_bin(struct parser *p, const yaml_node_t *n, const char *path, const struct ecosystem_config *c,
		      size_t bank_index, const struct cfg_bank_network *membership, size_t bin_index,
		      const struct cfg_network *net)
{
	const struct cfg_bin_range *bin = &membership->bins[bin_index];
	char shown_bin[32], other[32];
	format_bin(bin, shown_bin, sizeof shown_bin);
	if (bin->low[0] - '0' != net->major_industry_id || bin->high[0] - '0' != net->major_industry_id)
		return fail(p, n, path, "'%s' does not start with %s's major industry id %u", shown_bin, net->name,
			    (unsigned)net->major_industry_id);
	for (size_t b = 0; b <= bank_index; b++) {
		const struct cfg_bank *bank = &c->banks[b];
		size_t memberships = b == bank_index ? bank->network_count + 1 : bank->network_count;
		for (size_t m = 0; m < memberships; m++) {
			const struct cfg_bank_network *theirs = &bank->networks[m];
			if (strcmp(theirs->network, net->name) != 0)
				continue;
			size_t bins = theirs == membership ? bin_index : theirs->bin_count;
			for (size_t i = 0; i < bins; i++)
				if (bins_overlap(bin, &theirs->bins[i])) {
					format_bin(&theirs->bins[i], other, sizeof other);
					return fail(p, n, path, "'%s' overlaps '%s' of %s on %s", shown_bin, other,
						    bank->name, net->name);
				}
		}
	}
	if (bin_index == 0) {
		/* Generated PANs: BIN + zero-padded index = 15 digits, then the Luhn digit. */
		unsigned index_digits = 15u - bin->length;
		uint64_t capacity = 1;
		for (unsigned i = 0; i < index_digits; i++)
			capacity *= 10;
		if (c->loadgen.cards_per_bank > capacity)
			return fail(p, n, path,
				    "BIN '%s' leaves %u digits for generated card indexes, too few for "
				    "loadgen.cards_per_bank %u",
				    shown_bin, index_digits, c->loadgen.cards_per_bank);
	}
	return true;
}

static bool parse_membership(struct parser *p, const yaml_node_t *map, const char *path,
			     struct ecosystem_config *c, size_t bank_index, struct cfg_bank_network *m)
{
	static const char *const keys[] = {"network", "bins", NULL};
	char fpath[KEY_PATH_MAX], buf[64];
	if (!check_keys(p, map, path, keys))
		return false;
	if (!get_text(p, map, path, "network", true, NULL, TEXT_NAME, 1, CFG_NAME_MAX - 1, m->network))
		return false;
	yaml_node_t *net_node = field(p, map, path, "network", true, fpath);
	const struct cfg_network *net = ecosystem_find_network(c, m->network);
	if (net == NULL) {
		char known[CFG_MAX_NETWORKS * (CFG_NAME_MAX + 2)] = "";
		size_t used = 0;
		for (size_t i = 0; i < c->network_count; i++)
			used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
						 c->networks[i].name);
		return fail(p, net_node, fpath, "'%s' is not a configured network (networks: %s)",
			    shown(net_node, buf, sizeof buf), known);
	}
	const struct cfg_bank *bank = &c->banks[bank_index];
	for (size_t i = 0; i < bank->network_count; i++)
		if (strcmp(bank->networks[i].network, m->network) == 0)
			return fail(p, net_node, fpath, "'%s' is listed twice for this bank", m->network);

	size_t count;
	yaml_node_t *bins = get_list(p, map, path, "bins", CFG_MAX_BINS, fpath, &count);
	if (bins == NULL)
		return false;
	for (size_t i = 0; i < count; i++) {
		char bpath[KEY_PATH_MAX];
		item_path(bpath, fpath, i);
		yaml_node_t *item = sequence_item(p, bins, i);
		if (!parse_bin(p, item, bpath, &m->bins[i]))
			return false;
		if (!check_bin(p, item, bpath, c, bank_index, m, i, net))
			return false;
		m->bin_count = i + 1;
	}
	return true;
}

/* Length of a path without trailing slashes, so that "var/a/" and "var/a" compare equal. */
static size_t trimmed_length(const char *path)
{
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	return len;
}

static bool same_path(const char *a, const char *b)
{
	size_t len = trimmed_length(a);
	return len == trimmed_length(b) && strncmp(a, b, len) == 0;
}

/*
 * Two agents on one LMDB environment would share (and fight over) one set of
 * accounts or one card registry: every lmdb_path must be different. Networks
 * are parsed before banks, so a bank is checked against all networks.
 */
static bool check_unique_lmdb_path(struct parser *p, const yaml_node_t *map, const char *path,
				   const struct ecosystem_config *c, const char *lmdb_path, size_t banks_before,
				   size_t networks_before)
{
	char fpath[KEY_PATH_MAX], other[KEY_PATH_MAX];
	const char *owner = NULL;
	for (size_t i = 0; i < networks_before && !owner; i++)
		if (same_path(c->networks[i].lmdb_path, lmdb_path)) {
			item_path(other, "networks", i);
			owner = other;
		}
	for (size_t i = 0; i < banks_before && !owner; i++)
		if (same_path(c->banks[i].lmdb_path, lmdb_path)) {
			item_path(other, "banks", i);
			owner = other;
		}
	if (owner == NULL)
		return true;
	yaml_node_t *n = field(p, map, path, "lmdb_path", false, fpath);
	return fail(p, n ? n : map, fpath, "'%s' is already the LMDB path of %s", lmdb_path, owner);
}

/*
 * pan_protection: { key_file: PATH } at the top (every agent) or in one bank or
 * network (that agent): where the PAN protection keys are (docs/data-protection.md).
 * Only the path is in the YAML, never a key. Empty when nowhere: the agents refuse to start.
 */
static bool parse_pan_protection(struct parser *p, const yaml_node_t *map, const char *path, const char *fallback,
				 char out[CFG_PATH_MAX])
{
	static const char *const keys[] = {"key_file", NULL};
	char sub[KEY_PATH_MAX];
	yaml_node_t *n = field(p, map, path, "pan_protection", false, sub);
	if (n == NULL) {
		snprintf(out, CFG_PATH_MAX, "%s", fallback);
		return true;
	}
	if (!expect_type(p, n, sub, YAML_MAPPING_NODE) || !check_keys(p, n, sub, keys))
		return false;
	return get_text(p, n, sub, "key_file", true, NULL, TEXT_PATH, 1, CFG_PATH_MAX - 1, out);
}

static bool parse_bank(struct parser *p, const yaml_node_t *map, const char *path, struct ecosystem_config *c,
		       size_t index)
{
	static const char *const keys[] = {"name",	   "institution_id", "http",   "iso",	   "lmdb_path",
					   "lmdb_map_size", "durability",     "batch_max", "fraud", "faults",
					   "networks",	   "tcp",	      "link", "answer_budget_ms", "pan_protection", NULL};
	static const char *const durabilities[] = {"sync", "nometasync", "async", NULL};
	static const char *const fraud_keys[] = {"max_amount", "max_approvals_per_minute", NULL};
	static const char *const fault_keys[] = {"delay_probability", "delay_ms", "drop_probability", NULL};
	struct cfg_bank *b = &c->banks[index];
	char fpath[KEY_PATH_MAX], buf[64], default_path[CFG_PATH_MAX];

	if (!check_keys(p, map, path, keys))
		return false;
	if (!get_text(p, map, path, "name", true, NULL, TEXT_NAME, 1, CFG_NAME_MAX - 1, b->name))
		return false;
	for (size_t i = 0; i < index; i++)
		if (strcmp(c->banks[i].name, b->name) == 0) {
			yaml_node_t *n = field(p, map, path, "name", true, fpath);
			return fail(p, n, fpath, "'%s' is already the name of banks[%zu]", shown(n, buf, sizeof buf), i);
		}
	if (!get_text(p, map, path, "institution_id", true, NULL, TEXT_DIGITS, 1, 11, b->institution_id))
		return false;
	for (size_t i = 0; i < index; i++)
		if (strcmp(c->banks[i].institution_id, b->institution_id) == 0) {
			yaml_node_t *n = field(p, map, path, "institution_id", true, fpath);
			return fail(p, n, fpath, "'%s' is already the institution id of %s", shown(n, buf, sizeof buf),
				    c->banks[i].name);
		}
	if (!get_endpoint(p, map, path, "http", true, &b->http) || !get_endpoint(p, map, path, "iso", false, &b->iso))
		return false;
	snprintf(default_path, sizeof default_path, "var/%s", b->name);
	int durability;
	if (!get_text(p, map, path, "lmdb_path", false, default_path, TEXT_PATH, 1, CFG_PATH_MAX - 1, b->lmdb_path) ||
	    !get_uint(p, map, path, "lmdb_map_size", false, 1ull << 33, 1ull << 20, 1ull << 40, &b->lmdb_map_size) ||
	    !get_choice(p, map, path, "durability", DURABILITY_SYNC, durabilities, &durability) ||
	    !get_u32(p, map, path, "batch_max", false, 256, 1, 65536, &b->batch_max) ||
	    !get_u32(p, map, path, "answer_budget_ms", false, 100, 0, 60000, &b->answer_budget_ms))
		return false;
	b->durability = (enum durability)durability;
	int link;
	if (!parse_tcp(p, map, path, false, &b->tcp) || !get_choice(p, map, path, "link", CFG_LINK_UDP, link_names, &link))
		return false;
	b->link = (enum cfg_link)link;
	if (b->link == CFG_LINK_TCP && !b->tcp.enabled) {
		yaml_node_t *n = field(p, map, path, "link", false, fpath);
		return fail(p, n, fpath, "'tcp' needs %s.tcp.listen: the switches connect there", path);
	}
	if (!check_unique_lmdb_path(p, map, path, c, b->lmdb_path, index, c->network_count) ||
	    !parse_pan_protection(p, map, path, c->pan_key_file, b->pan_key_file))
		return false;

	char sub[KEY_PATH_MAX];
	yaml_node_t *fraud = field(p, map, path, "fraud", false, sub);
	if (fraud) {
		if (!check_keys(p, fraud, sub, fraud_keys) ||
		    !get_uint(p, fraud, sub, "max_amount", false, 0, 0, 999999999999ull, &b->fraud.max_amount) ||
		    !get_u32(p, fraud, sub, "max_approvals_per_minute", false, 0, 0, 1000000,
			     &b->fraud.max_approvals_per_minute))
			return false;
	}
	yaml_node_t *faults = field(p, map, path, "faults", false, sub);
	if (faults) {
		if (!check_keys(p, faults, sub, fault_keys) ||
		    !get_probability(p, faults, sub, "delay_probability", &b->faults.delay_probability) ||
		    !get_u32(p, faults, sub, "delay_ms", false, 0, 0, 60000, &b->faults.delay_ms) ||
		    !get_probability(p, faults, sub, "drop_probability", &b->faults.drop_probability))
			return false;
	}

	size_t count;
	yaml_node_t *memberships = get_list(p, map, path, "networks", CFG_MAX_NETWORKS, sub, &count);
	if (memberships == NULL)
		return false;
	for (size_t i = 0; i < count; i++) {
		char mpath[KEY_PATH_MAX];
		item_path(mpath, sub, i);
		if (!parse_membership(p, sequence_item(p, memberships, i), mpath, c, index, &b->networks[i]))
			return false;
		b->network_count = i + 1;
	}
	return true;
}

static bool parse_network(struct parser *p, const yaml_node_t *map, const char *path, struct ecosystem_config *c,
			  size_t index)
{
	static const char *const keys[] = {"name",		"major_industry_id",  "http",
					   "iso",		"lmdb_path",	      "dataplane",
					   "bank_timeout_ms",	"reversal_retry_ms",  "reversal_max_attempts",
					   "outcome_memory",	"card_production_ms", "tcp",
					   "reversal_retry_max_ms", "reversal_window", "reversal_drain_per_s",
					   "reversal_retention_s", "pan_protection", NULL};
	static const char *const dataplanes[] = {"socket", "dpdk", NULL};
	struct cfg_network *n = &c->networks[index];
	char fpath[KEY_PATH_MAX], buf[64], default_path[CFG_PATH_MAX];

	if (!check_keys(p, map, path, keys))
		return false;
	if (!get_text(p, map, path, "name", true, NULL, TEXT_NAME, 1, CFG_NAME_MAX - 1, n->name))
		return false;
	for (size_t i = 0; i < index; i++)
		if (strcmp(c->networks[i].name, n->name) == 0) {
			yaml_node_t *at = field(p, map, path, "name", true, fpath);
			return fail(p, at, fpath, "'%s' is already the name of networks[%zu]", shown(at, buf, sizeof buf),
				    i);
		}
	uint32_t mii;
	if (!get_u32(p, map, path, "major_industry_id", true, 0, 0, 9, &mii))
		return false;
	n->major_industry_id = (uint8_t)mii;
	if (!get_endpoint(p, map, path, "http", true, &n->http) || !get_endpoint(p, map, path, "iso", false, &n->iso))
		return false;
	snprintf(default_path, sizeof default_path, "var/%s", n->name);
	int dataplane;
	if (!get_text(p, map, path, "lmdb_path", false, default_path, TEXT_PATH, 1, CFG_PATH_MAX - 1, n->lmdb_path) ||
	    !get_choice(p, map, path, "dataplane", 0, dataplanes, &dataplane) ||
	    !get_u32(p, map, path, "bank_timeout_ms", false, 250, 1, 600000, &n->bank_timeout_ms) ||
	    !get_u32(p, map, path, "reversal_retry_ms", false, 200, 1, 600000, &n->reversal_retry_ms) ||
	    !get_u32(p, map, path, "reversal_retry_max_ms", false, 30000, 1, 3600000, &n->reversal_retry_max_ms) ||
	    !get_u32(p, map, path, "reversal_window", false, 64, 1, 100000, &n->reversal_window) ||
	    !get_u32(p, map, path, "reversal_drain_per_s", false, 2000, 1, 1000000, &n->reversal_drain_per_s) ||
	    !get_u32(p, map, path, "reversal_retention_s", false, 86400, 1, 31u * 86400u, &n->reversal_retention_s) ||
	    !get_u32(p, map, path, "reversal_max_attempts", false, 0, 0, 1000000, &n->reversal_max_attempts) ||
	    !get_u32(p, map, path, "outcome_memory", false, 262144, 1, 1u << 26, &n->outcome_memory) ||
	    !get_u32(p, map, path, "card_production_ms", false, 200, 0, 600000, &n->card_production_ms))
		return false;
	if (n->reversal_retry_max_ms < n->reversal_retry_ms) {
		yaml_node_t *at = field(p, map, path, "reversal_retry_max_ms", false, fpath);
		return fail(p, at, fpath, "%u is below reversal_retry_ms (%u)", n->reversal_retry_max_ms,
			    n->reversal_retry_ms);
	}
	snprintf(n->dataplane, sizeof n->dataplane, "%s", dataplanes[dataplane]);
	if (!parse_tcp(p, map, path, true, &n->tcp))
		return false;
	if (!check_unique_lmdb_path(p, map, path, c, n->lmdb_path, 0, index) ||
	    !parse_pan_protection(p, map, path, c->pan_key_file, n->pan_key_file))
		return false;
	return true;
}

static bool parse_loadgen(struct parser *p, const yaml_node_t *map, const struct ecosystem_config *c,
			  struct cfg_loadgen *l)
{
	static const char *const keys[] = {"rate",	     "duration_s", "max_requests", "arrivals",
					   "cards_per_bank", "initial_balance", "min_amount", "max_amount",
					   "timeout_ms",     "currency",   "acquirer_id",  "link", NULL};
	/* Same order as enum arrival_process. */
	static const char *const arrivals[] = {"constant", "poisson", NULL};
	const char *path = "loadgen";
	char fpath[KEY_PATH_MAX], buf[64];
	if (map == NULL)
		map = &absent_section; /* absent section: every default */
	else if (!check_keys(p, map, path, keys))
		return false;
	int arrival, link;
	if (!get_uint(p, map, path, "rate", false, 1000, 1, 100000000, &l->rate) ||
	    !get_u32(p, map, path, "duration_s", false, 10, 1, 86400, &l->duration_s) ||
	    !get_uint(p, map, path, "max_requests", false, 0, 0, UINT64_MAX, &l->max_requests) ||
	    !get_choice(p, map, path, "arrivals", ARRIVAL_POISSON, arrivals, &arrival) ||
	    !get_u32(p, map, path, "cards_per_bank", false, 1000, 1, 10000000, &l->cards_per_bank) ||
	    !get_uint(p, map, path, "initial_balance", false, 100000000, 0, 999999999999999ull, &l->initial_balance) ||
	    !get_uint(p, map, path, "min_amount", false, 100, 1, 999999999999ull, &l->min_amount) ||
	    !get_uint(p, map, path, "max_amount", false, 20000, 1, 999999999999ull, &l->max_amount) ||
	    !get_u32(p, map, path, "timeout_ms", false, 1000, 1, 600000, &l->timeout_ms) ||
	    !get_text(p, map, path, "currency", false, "978", TEXT_DIGITS, 3, 3, l->currency) ||
	    !get_text(p, map, path, "acquirer_id", false, "30000000003", TEXT_DIGITS, 1, 11, l->acquirer_id) ||
	    !get_choice(p, map, path, "link", CFG_LINK_UDP, link_names, &link))
		return false;
	l->arrivals = (enum arrival_process)arrival;
	l->link = (enum cfg_link)link;
	for (size_t i = 0; l->link == CFG_LINK_TCP && i < c->network_count; i++)
		if (!c->networks[i].tcp.enabled) {
			yaml_node_t *n = field(p, map, path, "link", false, fpath);
			return fail(p, n, fpath, "'tcp' needs networks[%zu].tcp.listen (%s): the generator connects there",
				    i, c->networks[i].name);
		}
	if (l->max_amount < l->min_amount) {
		yaml_node_t *n = field(p, map, path, "max_amount", false, fpath);
		if (n == NULL)
			n = field(p, map, path, "min_amount", false, fpath);
		return fail(p, n, fpath, "'%s' leaves loadgen.min_amount %llu above loadgen.max_amount %llu",
			    shown(n, buf, sizeof buf), (unsigned long long)l->min_amount,
			    (unsigned long long)l->max_amount);
	}
	return true;
}

/*
 * http_security.rate_limits and .auth_failures (docs/security.md, "Rate
 * limits"): defaults that leave a person with a banking app and the agents'
 * own traffic alone, and stop a script; the operator is not limited.
 */
static bool parse_http_limits(struct parser *p, const yaml_node_t *map, const char *path, struct cfg_http_security *h)
{
	static const char *const scopes[] = {"customer", "bank", "network", "operator", NULL};
	static const char *const rule_keys[] = {"per_minute", "burst", NULL};
	static const char *const failure_keys[] = {"limit", "window_s", NULL};
	static const uint32_t default_rate[4] = {60, 12000, 12000, 0}, default_burst[4] = {20, 600, 600, 1};
	char fpath[KEY_PATH_MAX], sub[KEY_PATH_MAX];
	const yaml_node_t *limits = field(p, map, path, "rate_limits", false, fpath);
	if (limits && (!expect_type(p, limits, fpath, YAML_MAPPING_NODE) || !check_keys(p, limits, fpath, scopes)))
		return false;
	const char *limits_path = "http_security.rate_limits";
	for (int i = 0; i < 4; i++) {
		const yaml_node_t *rule = limits ? field(p, limits, limits_path, scopes[i], false, sub) : NULL;
		if (rule && (!expect_type(p, rule, sub, YAML_MAPPING_NODE) || !check_keys(p, rule, sub, rule_keys)))
			return false;
		snprintf(sub, sizeof sub, "http_security.rate_limits.%s", scopes[i]);
		struct cfg_rate_limit *r = &h->rate_limits[i];
		if (!get_u32(p, rule ? rule : &absent_section, sub, "per_minute", false, default_rate[i], 0, 60000000,
			     &r->per_minute) ||
		    !get_u32(p, rule ? rule : &absent_section, sub, "burst", false, default_burst[i], 1, 1000000, &r->burst))
			return false;
	}
	const yaml_node_t *failures = field(p, map, path, "auth_failures", false, fpath);
	if (failures && (!expect_type(p, failures, fpath, YAML_MAPPING_NODE) ||
			 !check_keys(p, failures, fpath, failure_keys)))
		return false;
	snprintf(sub, sizeof sub, "http_security.auth_failures");
	return get_u32(p, failures ? failures : &absent_section, sub, "limit", false, 20, 0, 1000000, &h->auth_failure_limit) &&
	       get_u32(p, failures ? failures : &absent_section, sub, "window_s", false, 60, 1, 86400, &h->auth_failure_window_s);
}

/* The optional http_security section (struct cfg_http_security). */
static bool parse_http_security(struct parser *p, const yaml_node_t *map, struct cfg_http_security *h)
{
	static const char *const keys[] = {"tls_cert",	      "tls_key",	    "ca",
					   "secrets_file",    "agent_tokens_file", "webhook_allow_hosts",
					   "max_connections", "per_ip_connections", "connection_timeout_s",
					   "rate_limits",     "auth_failures",	    "client_certs",
					   NULL};
	const char *path = "http_security";
	memset(h, 0, sizeof(*h));
	h->enabled = map != NULL;
	if (map == NULL)
		map = &absent_section;
	else if (!check_keys(p, map, path, keys))
		return false;
	bool req = h->enabled;
	if (!get_u32(p, map, path, "max_connections", false, 1000, 4, 60000, &h->max_connections) ||
	    !get_u32(p, map, path, "per_ip_connections", false, 64, 1, 60000, &h->per_ip_connections) ||
	    !get_u32(p, map, path, "connection_timeout_s", false, 10, 1, 3600, &h->connection_timeout_s) ||
	    !parse_http_limits(p, map, path, h))
		return false;
	if (!req)
		return true;
	if (!get_text(p, map, path, "tls_cert", true, NULL, TEXT_PATH, 1, CFG_PATH_MAX - 1, h->tls_cert) ||
	    !get_text(p, map, path, "tls_key", true, NULL, TEXT_PATH, 1, CFG_PATH_MAX - 1, h->tls_key) ||
	    !get_text(p, map, path, "ca", true, NULL, TEXT_PATH, 1, CFG_PATH_MAX - 1, h->ca) ||
	    !get_text(p, map, path, "secrets_file", true, NULL, TEXT_PATH, 1, CFG_PATH_MAX - 1, h->secrets_file) ||
	    !get_text(p, map, path, "agent_tokens_file", true, NULL, TEXT_PATH, 1, CFG_PATH_MAX - 1,
		      h->agent_tokens_file) ||
	    /* Short enough that "<dir>/<any agent name>.pem" fits a path. */
	    !get_text(p, map, path, "client_certs", true, NULL, TEXT_PATH, 1, sizeof h->client_certs - 1,
		      h->client_certs))
		return false;
	char fpath[KEY_PATH_MAX];
	yaml_node_t *hosts = field(p, map, path, "webhook_allow_hosts", false, fpath);
	if (hosts == NULL)
		return true;
	if (!expect_type(p, hosts, fpath, YAML_SEQUENCE_NODE))
		return false;
	size_t count = sequence_length(hosts);
	if (count > CFG_MAX_WEBHOOK_HOSTS)
		return fail(p, hosts, fpath, "%zu entries, at most %d are supported", count, CFG_MAX_WEBHOOK_HOSTS);
	for (size_t i = 0; i < count; i++) {
		char ipath[KEY_PATH_MAX], buf[64];
		item_path(ipath, fpath, i);
		yaml_node_t *item = sequence_item(p, hosts, i);
		const char *text = scalar_text(p, item, ipath);
		if (text == NULL)
			return false;
		size_t len = strlen(text);
		if (len == 0 || len >= sizeof h->webhook_allow_hosts[0])
			return fail(p, item, ipath, "'%s' must be 1 to %zu characters long", shown(item, buf, sizeof buf),
				    sizeof h->webhook_allow_hosts[0] - 1);
		for (size_t k = 0; k < len; k++) {
			unsigned char ch = (unsigned char)text[k];
			if (ch <= ' ' || ch >= 0x7f || ch == '/' || ch == '@')
				return fail(p, item, ipath, "'%s' is not a host name or address", shown(item, buf, sizeof buf));
		}
		memcpy(h->webhook_allow_hosts[i], text, len + 1);
		h->webhook_allow_host_count = i + 1;
	}
	return true;
}

static bool parse_iso_mac(struct parser *p, const yaml_node_t *map, struct cfg_iso_mac *m)
{
	static const char *const keys[] = {"key_file", "grace_s", "allow_unprotected", NULL};
	static const char *const booleans[] = {"false", "true", NULL};
	const char *path = "iso_mac";
	if (map == NULL)
		map = &absent_section; /* absent: no key file, so every agent refuses to start (docs/protocol.md) */
	else if (!expect_type(p, map, path, YAML_MAPPING_NODE) || !check_keys(p, map, path, keys))
		return false;
	int allow;
	if (!get_text(p, map, path, "key_file", false, "", TEXT_PATH, 0, CFG_PATH_MAX - 1, m->key_file) ||
	    !get_u32(p, map, path, "grace_s", false, 300, 0, 86400 * 7, &m->grace_s) ||
	    !get_choice(p, map, path, "allow_unprotected", 0, booleans, &allow))
		return false;
	m->allow_unprotected = allow == 1;
	return true;
}

static bool parse_root(struct parser *p, const yaml_node_t *root, struct ecosystem_config *c)
{
	static const char *const keys[] = {"banks", "networks", "loadgen", "iso_mac", "pan_protection", "http_security", NULL};
	char fpath[KEY_PATH_MAX];
	if (root == NULL)
		return fail(p, NULL, "", "the document is empty (expected banks, networks and loadgen)");
	if (!check_keys(p, root, "", keys))
		return false;

	/* The global key file first: agents without their own inherit it. */
	if (!parse_pan_protection(p, root, "", "", c->pan_key_file))
		return false;
	/* Networks first and then loadgen: bank entries are checked against both. */
	size_t count;
	yaml_node_t *networks = get_list(p, root, "", "networks", CFG_MAX_NETWORKS, fpath, &count);
	if (networks == NULL)
		return false;
	for (size_t i = 0; i < count; i++) {
		char ipath[KEY_PATH_MAX];
		item_path(ipath, "networks", i);
		if (!parse_network(p, sequence_item(p, networks, i), ipath, c, i))
			return false;
		c->network_count = i + 1;
	}
	if (!parse_loadgen(p, field(p, root, "", "loadgen", false, fpath), c, &c->loadgen))
		return false;
	if (!parse_http_security(p, field(p, root, "", "http_security", false, fpath), &c->http_security))
		return false;
	if (!parse_iso_mac(p, field(p, root, "", "iso_mac", false, fpath), &c->iso_mac))
		return false;
	yaml_node_t *banks = get_list(p, root, "", "banks", CFG_MAX_BANKS, fpath, &count);
	if (banks == NULL)
		return false;
	for (size_t i = 0; i < count; i++) {
		char ipath[KEY_PATH_MAX];
		item_path(ipath, "banks", i);
		if (!parse_bank(p, sequence_item(p, banks, i), ipath, c, i))
			return false;
		c->bank_count = i + 1;
	}
	return true;
}

/* ---- entry points -------------------------------------------------------------- */

static bool yaml_failure(struct parser *p, const yaml_parser_t *yp)
{
	char message[256];
	if (yp->error == YAML_MEMORY_ERROR) {
		snprintf(p->err, p->err_size, "%s: out of memory while parsing", p->source);
		return false;
	}
	const char *problem = yp->problem ? yp->problem : "syntax error";
	if (yp->context)
		snprintf(message, sizeof message, "invalid YAML: %s (%s, line %zu)", problem, yp->context,
			 yp->context_mark.line + 1);
	else
		snprintf(message, sizeof message, "invalid YAML: %s", problem);
	if (p->err && p->err_size)
		snprintf(p->err, p->err_size, "%s:%zu: %s", p->source, yp->problem_mark.line + 1, message);
	return false;
}

/* The seed's layout, converted and then parsed as this project's (seed_config.h). */
static bool parse_seed_layout(const char *native, const char *source_name, struct ecosystem_config *out, char *err,
			      size_t err_size)
{
	char source[CFG_PATH_MAX + 64];
	snprintf(source, sizeof source, "%s (as `iso8583-config convert` shows it)", source_name);
	bool ok = ecosystem_config_parse(native, strlen(native), source, out, err, err_size);
	snprintf(out->source, sizeof out->source, "%s", source_name);
	return ok;
}

bool ecosystem_config_parse(const char *yaml, size_t len, const char *source_name, struct ecosystem_config *out,
			    char *err, size_t err_size)
{
	char *native = NULL;
	switch (seed_config_convert(yaml, len, source_name ? source_name : "(config)", &native, err, err_size)) {
	case SEED_INVALID:
		memset(out, 0, sizeof *out);
		return false;
	case SEED_CONVERTED: {
		bool ok = parse_seed_layout(native, source_name ? source_name : "(config)", out, err, err_size);
		free(native);
		return ok;
	}
	case SEED_NOT_SEED:
		break;
	}
	struct parser *p = calloc(1, sizeof *p);
	if (p == NULL) {
		snprintf(err, err_size, "%s: out of memory", source_name);
		return false;
	}
	p->source = source_name ? source_name : "(config)";
	p->err = err;
	p->err_size = err_size;
	if (err && err_size)
		err[0] = '\0';
	memset(out, 0, sizeof *out);
	snprintf(out->source, sizeof out->source, "%s", p->source);

	yaml_parser_t yp;
	yaml_document_t doc;
	bool ok = false;
	if (!yaml_parser_initialize(&yp)) {
		snprintf(err, err_size, "%s: cannot initialise the YAML parser", p->source);
		free(p);
		return false;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&yp, &doc)) {
		yaml_failure(p, &yp);
	} else {
		p->doc = &doc;
		ok = parse_root(p, yaml_document_get_root_node(&doc), out);
		yaml_document_delete(&doc);
		if (ok) {
			/* A second document would be silently ignored: refuse it. */
			yaml_document_t extra;
			if (!yaml_parser_load(&yp, &extra)) {
				ok = yaml_failure(p, &yp);
			} else {
				yaml_node_t *root = yaml_document_get_root_node(&extra);
				if (root) {
					p->doc = &extra;
					ok = fail(p, root, "", "a second YAML document; the file must hold exactly one");
				}
				yaml_document_delete(&extra);
			}
		}
	}
	yaml_parser_delete(&yp);
	free(p);
	return ok;
}

bool ecosystem_config_load(const char *path, struct ecosystem_config *out, char *err, size_t err_size)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
		return false;
	}
	char *text = malloc(CONFIG_FILE_MAX + 1);
	size_t len = text ? fread(text, 1, CONFIG_FILE_MAX + 1, f) : 0;
	bool read_error = text == NULL || ferror(f);
	int saved_errno = errno;
	fclose(f);
	if (read_error) {
		snprintf(err, err_size, "%s: cannot read: %s", path, text ? strerror(saved_errno) : "out of memory");
		free(text);
		return false;
	}
	if (len > CONFIG_FILE_MAX) {
		snprintf(err, err_size, "%s: larger than %u bytes, not a config file", path, CONFIG_FILE_MAX);
		free(text);
		return false;
	}
	bool ok = ecosystem_config_parse(text, len, path, out, err, err_size);
	free(text);
	return ok;
}

void cfg_client_cert_path(const struct cfg_http_security *h, const char *agent, const char *suffix,
			  char out[CFG_PATH_MAX])
{
	snprintf(out, CFG_PATH_MAX, "%s/%s%s", h->client_certs, agent, suffix);
}

const struct cfg_bank *ecosystem_find_bank(const struct ecosystem_config *c, const char *name)
{
	for (size_t i = 0; i < c->bank_count; i++)
		if (strcmp(c->banks[i].name, name) == 0)
			return &c->banks[i];
	return NULL;
}

const struct cfg_network *ecosystem_find_network(const struct ecosystem_config *c, const char *name)
{
	for (size_t i = 0; i < c->network_count; i++)
		if (strcmp(c->networks[i].name, name) == 0)
			return &c->networks[i];
	return NULL;
}

const char *durability_name(enum durability d)
{
	switch (d) {
	case DURABILITY_SYNC:
		return "sync";
	case DURABILITY_NOMETASYNC:
		return "nometasync";
	case DURABILITY_ASYNC:
		return "async";
	}
	return "unknown";
}

const char *cfg_link_name(enum cfg_link l)
{
	return l == CFG_LINK_TCP ? "tcp" : "udp";
}

struct cfg_endpoint cfg_bank_switch_endpoint(const struct cfg_bank *b)
{
	return b->link == CFG_LINK_TCP ? b->tcp.listen : b->iso;
}
