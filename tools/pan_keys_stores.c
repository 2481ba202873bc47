/* The stores a pan-keys subcommand works on, from its arguments. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pan_keys_commands.h"

static int add(struct pan_keys_stores *out, const char *dir)
{
	char real[PATH_MAX];
	if (!realpath(dir, real)) {
		fprintf(stderr, "pan-keys: store %s: no such directory\n", dir);
		return -1;
	}
	for (size_t i = 0; i < out->count; i++)
		if (strcmp(out->dirs[i], real) == 0)
			return 0; /* once: LMDB must not open one environment twice in a process */
	if (out->count == PAN_KEYS_MAX_STORES || strlen(real) >= sizeof(out->dirs[0])) {
		fprintf(stderr, "pan-keys: more than %d stores, or a path too long\n", PAN_KEYS_MAX_STORES);
		return -1;
	}
	memcpy(out->dirs[out->count++], real, strlen(real) + 1); /* fits: checked above */
	return 0;
}

int pan_keys_stores_from_args(struct pan_keys_stores *out, int argc, char **argv)
{
	out->count = 0;
	for (int i = 0; i < argc; i++) {
		if (add(out, argv[i]))
			return -1;
		char saf[1100];
		snprintf(saf, sizeof(saf), "%s/saf/data.mdb", argv[i]);
		if (access(saf, F_OK) == 0) {
			snprintf(saf, sizeof(saf), "%s/saf", argv[i]);
			if (add(out, saf))
				return -1;
		}
	}
	if (out->count == 0) {
		fprintf(stderr, "pan-keys: no store given\n");
		return -1;
	}
	return 0;
}

static const char *key_name(uint32_t id, char buf[16])
{
	if (id == PAN_USAGE_NO_KEY)
		return "none";
	snprintf(buf, 16, "%u", (unsigned)id);
	return buf;
}

void pan_keys_print_usage(const char *dir, const char *kind, const struct pan_usage *u, unsigned current)
{
	char name[16];
	for (size_t i = 0; i < u->row_count; i++) {
		const struct pan_usage_row *r = &u->rows[i];
		printf("store=%s kind=%s db=%s key=%s records=%llu damaged=%llu\n", dir, kind, r->db,
		       key_name(r->key_id, name), (unsigned long long)r->records, (unsigned long long)r->damaged);
	}
	/* The human line: per key over the store's databases, lowest id first. */
	printf("# %s (%s):", dir, kind);
	unsigned long long damaged = 0, unsealed = 0;
	for (size_t i = 0; i < u->row_count; i++) {
		damaged += u->rows[i].damaged;
		if (u->rows[i].key_id == PAN_USAGE_NO_KEY)
			unsealed += u->rows[i].records;
	}
	bool any = false;
	for (uint32_t last = 0;;) {
		uint32_t next = 0; /* the lowest id above last */
		for (size_t i = 0; i < u->row_count; i++)
			if (u->rows[i].key_id > last && (next == 0 || u->rows[i].key_id < next))
				next = u->rows[i].key_id;
		if (next == 0)
			break;
		unsigned long long n = 0;
		for (size_t i = 0; i < u->row_count; i++)
			if (u->rows[i].key_id == next)
				n += u->rows[i].records;
		printf("%s key %u%s seals %llu", any ? "," : "", (unsigned)next, next == current ? " (current)" : "", n);
		any = true;
		last = next;
	}
	if (!any)
		printf(" no sealed record");
	if (unsealed)
		printf("; %llu without a seal yet", unsealed);
	printf("; %llu damaged%s\n", damaged, damaged ? " (pan-keys reseal lists them)" : "");
}
