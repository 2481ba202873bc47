/*
 * config_move_ports: the shipped config and the seed's moved to other ports
 * load with every endpoint shifted by one offset and every other value as it
 * was; a move past 65535 and a config that does not load are refused.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_ports.h"
#include "ecosystem_config.h"

static struct ecosystem_config before, after;
static char err[512];

static char *read_source(const char *relative, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", getenv("ISO_SOURCE_DIR"), relative);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	char *text = malloc(1 << 16);
	*len = fread(text, 1, (1 << 16) - 1, f);
	text[*len] = '\0';
	fclose(f);
	return text;
}

static void move_and_load(const char *relative, unsigned base)
{
	size_t len;
	char *text = read_source(relative, &len);
	cr_assert(ecosystem_config_parse(text, len, relative, &before, err, sizeof err), "%s", err);
	char *moved = config_move_ports(text, len, relative, base, err, sizeof err);
	cr_assert_not_null(moved, "%s", err);
	cr_assert(ecosystem_config_parse(moved, strlen(moved), "moved", &after, err, sizeof err), "%s\n%s", err,
		  moved);
	free(text);
	free(moved);
}

static void assert_moved(const struct cfg_endpoint *a, const struct cfg_endpoint *b, int shift, const char *what)
{
	cr_assert_str_eq(b->host, a->host, "%s host", what);
	cr_assert_eq((int)b->port, (int)a->port + shift, "%s: %u, was %u", what, b->port, a->port);
}

Test(config_ports, the_shipped_config_moves_as_a_whole)
{
	move_and_load("config/ecosystem.yaml", 20000);
	int shift = 20000 - 8101; /* big_bank's http is the lowest port */
	cr_assert_eq(after.bank_count, before.bank_count);
	cr_assert_eq(after.network_count, before.network_count);
	for (size_t i = 0; i < before.bank_count; i++) {
		const struct cfg_bank *a = &before.banks[i], *b = &after.banks[i];
		assert_moved(&a->http, &b->http, shift, a->name);
		assert_moved(&a->iso, &b->iso, shift, a->name);
		cr_assert_eq(b->tcp.enabled, a->tcp.enabled);
		if (a->tcp.enabled)
			assert_moved(&a->tcp.listen, &b->tcp.listen, shift, a->name);
		/* everything else as it was */
		cr_assert_str_eq(b->name, a->name);
		cr_assert_str_eq(b->lmdb_path, a->lmdb_path);
		cr_assert_eq(b->fraud.max_amount, a->fraud.max_amount);
		cr_assert_eq(b->durability, a->durability);
		cr_assert_eq(b->network_count, a->network_count);
		cr_assert_str_eq(b->networks[0].bins[0].low, a->networks[0].bins[0].low);
	}
	for (size_t i = 0; i < before.network_count; i++) {
		const struct cfg_network *a = &before.networks[i], *b = &after.networks[i];
		assert_moved(&a->http, &b->http, shift, a->name);
		assert_moved(&a->iso, &b->iso, shift, a->name);
		if (a->tcp.enabled)
			assert_moved(&a->tcp.listen, &b->tcp.listen, shift, a->name);
		cr_assert_eq(b->bank_timeout_ms, a->bank_timeout_ms);
	}
	cr_assert_eq(after.loadgen.rate, before.loadgen.rate);
	cr_assert_eq(after.loadgen.max_amount, before.loadgen.max_amount);
}

Test(config_ports, the_seeds_config_moves_too)
{
	move_and_load("config/examples/seed-ecosystem.yaml", 30000);
	cr_assert_eq(after.banks[0].http.port, 30000);
	cr_assert_eq(after.networks[1].iso.port, 30000 + 9202 - 8101);
	cr_assert_eq(after.banks[1].networks[0].bin_count, 1);
}

Test(config_ports, refusals)
{
	size_t len;
	char *text = read_source("config/ecosystem.yaml", &len);
	cr_assert_null(config_move_ports(text, len, "x", 65000, err, sizeof err));
	cr_assert(strstr(err, "would pass 65535"), "%s", err);
	cr_assert_null(config_move_ports("banks: [", 8, "broken", 20000, err, sizeof err));
	cr_assert(strstr(err, "invalid YAML"), "%s", err);
	free(text);
}
