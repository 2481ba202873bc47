/*
 * iso8583-config: the ecosystem config, read as the agents read it.
 *
 *   iso8583-config check FILE     loads FILE (this project's layout or the seed's)
 *                                 and prints the banks, networks and BINs it holds
 *   iso8583-config convert FILE   prints the seed's layout of FILE in this
 *                                 project's layout, defaults filled in
 *   iso8583-config move-ports --base N FILE
 *                                 prints FILE with every port moved so that the
 *                                 lowest is N (two ecosystems side by side)
 *
 * Exit status: 0 ok, 2 for a config that does not load (as the agents).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecosystem_config.h"
#include "config_ports.h"
#include "seed_config.h"

#define CONFIG_TEXT_MAX (4u << 20) /* as the loader */

static const char usage[] =
	"usage: iso8583-config check FILE\n"
	"       iso8583-config convert FILE\n"
	"       iso8583-config move-ports --base N FILE\n"
	"\n"
	"check    loads FILE as the agents do (this project's layout, or the seed's\n"
	"         `agents: {bank: ..., network: ...}`) and prints what it holds.\n"
	"convert  prints FILE, in the seed's layout, in this project's: the same banks,\n"
	"         networks and IINs, with loopback addresses, institution ids and\n"
	"         storage paths filled in (docs/configuration.md).\n"
	"move-ports  prints FILE (either layout) with the port of every endpoint\n"
	"         (http, iso, tcp.listen) moved by one offset so that the lowest is N:\n"
	"         a second ecosystem beside the first (scripts/ecosystem.sh --port-base).\n"
	"Exit status: 0, or 2 when FILE does not load.\n";

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "iso8583-config: %s: cannot open: %s\n", path, strerror(errno));
		return NULL;
	}
	char *text = malloc(CONFIG_TEXT_MAX + 1);
	*len = text ? fread(text, 1, CONFIG_TEXT_MAX + 1, f) : 0;
	fclose(f);
	if (!text || *len > CONFIG_TEXT_MAX) {
		fprintf(stderr, "iso8583-config: %s: %s\n", path, text ? "too large for a config" : "out of memory");
		free(text);
		return NULL;
	}
	text[*len] = '\0';
	return text;
}

static int convert(const char *path)
{
	size_t len;
	char *text = read_file(path, &len);
	if (!text)
		return 2;
	char err[512], *native = NULL;
	enum seed_result r = seed_config_convert(text, len, path, &native, err, sizeof err);
	free(text);
	if (r == SEED_INVALID) {
		fprintf(stderr, "iso8583-config: %s\n", err);
		return 2;
	}
	if (r == SEED_NOT_SEED) {
		fprintf(stderr, "iso8583-config: %s is not in the seed's layout (no top-level 'agents'): nothing to convert\n",
			path);
		return 2;
	}
	fputs(native, stdout);
	free(native);
	return 0;
}

static void print_bins(const struct cfg_bank_network *m)
{
	for (size_t k = 0; k < m->bin_count; k++) {
		const struct cfg_bin_range *r = &m->bins[k];
		if (strcmp(r->low, r->high) == 0)
			printf("%s%s", k ? "," : "", r->low);
		else
			printf("%s%s-%s", k ? "," : "", r->low, r->high);
	}
}

static int check(const char *path)
{
	static struct ecosystem_config c;
	char err[512];
	if (!ecosystem_config_load(path, &c, err, sizeof err)) {
		fprintf(stderr, "iso8583-config: %s\n", err);
		return 2;
	}
	for (size_t n = 0; n < c.network_count; n++) {
		const struct cfg_network *net = &c.networks[n];
		printf("network %s mii %u http %s:%u iso %s:%u", net->name, net->major_industry_id, net->http.host,
		       net->http.port, net->iso.host, net->iso.port);
		/* The acquirer edge's limits as the switch will apply them, defaults filled in. */
		if (net->tcp.enabled)
			printf(" tcp %s:%u max_inbound %u per_source %u evict_idle_s %u quiet_timeout_s %u ring_slots %u"
			       " send_wait_ms %u shed_after_ms %u",
			       net->tcp.listen.host, net->tcp.listen.port, net->tcp.max_inbound,
			       net->tcp.max_inbound_per_source, net->tcp.evict_idle_s, net->tcp.quiet_timeout_s,
			       net->tcp.ring_slots, net->tcp.send_wait_ms, net->tcp.shed_after_ms);
		printf("\n");
	}
	for (size_t b = 0; b < c.bank_count; b++) {
		const struct cfg_bank *bank = &c.banks[b];
		printf("bank %s institution %s http %s:%u iso %s:%u", bank->name, bank->institution_id, bank->http.host,
		       bank->http.port, bank->iso.host, bank->iso.port);
		for (size_t m = 0; m < bank->network_count; m++) {
			printf(" %s:", bank->networks[m].network);
			print_bins(&bank->networks[m]);
		}
		printf("\n");
	}
	return 0;
}

static int move_ports(const char *base_text, const char *path)
{
	char *end;
	long base = strtol(base_text, &end, 10);
	if (*base_text == '\0' || *end != '\0' || base < 1 || base > 65535) {
		fprintf(stderr, "iso8583-config: --base %s: a port (1..65535) is expected\n", base_text);
		return 2;
	}
	size_t len;
	char *text = read_file(path, &len);
	if (!text)
		return 2;
	char err[512];
	char *moved = config_move_ports(text, len, path, (unsigned)base, err, sizeof err);
	free(text);
	if (!moved) {
		fprintf(stderr, "iso8583-config: %s\n", err);
		return 2;
	}
	fputs(moved, stdout);
	free(moved);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "move-ports") && !strcmp(argv[2], "--base"))
		return move_ports(argv[3], argv[4]);
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 3 || (strcmp(argv[1], "check") && strcmp(argv[1], "convert"))) {
		fputs(usage, stderr);
		return 2;
	}
	return strcmp(argv[1], "check") == 0 ? check(argv[2]) : convert(argv[2]);
}
