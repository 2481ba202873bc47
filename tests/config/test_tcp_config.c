/*
 * The TCP keys of config/ecosystem.yaml (docs/configuration.md, docs/tcp.md):
 * networks[].tcp and banks[].tcp listeners, banks[].link, loadgen.link. Their
 * defaults, the shipped file (all UDP, listeners on) and one check per mistake.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecosystem_config.h"

static const char BANKS[] = "banks:\n"
			    "  - name: big_bank\n"
			    "    institution_id: \"1\"\n"
			    "    http: 127.0.0.1:8101\n"
			    "    iso: 127.0.0.1:9101\n"
			    "%s" /* bank keys */
			    "    networks:\n"
			    "      - network: mastercard\n"
			    "        bins: [\"51051000\"]\n"
			    "networks:\n"
			    "  - name: mastercard\n"
			    "    major_industry_id: 5\n"
			    "    http: 127.0.0.1:8201\n"
			    "    iso: 127.0.0.1:9201\n"
			    "%s" /* network keys */
			    "%s"; /* loadgen section */

static struct ecosystem_config cfg;
static char err[512];

static bool parse(const char *bank_keys, const char *network_keys, const char *loadgen)
{
	char yaml[4096];
	snprintf(yaml, sizeof yaml, BANKS, bank_keys, network_keys, loadgen);
	memset(err, 0, sizeof err);
	return ecosystem_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, err, sizeof err);
}

static void expect_error(const char *bank_keys, const char *network_keys, const char *loadgen, const char *piece)
{
	cr_assert_not(parse(bank_keys, network_keys, loadgen), "accepted: bank '%s' network '%s' loadgen '%s'",
		      bank_keys, network_keys, loadgen);
	cr_assert_not_null(strstr(err, piece), "message '%s' lacks '%s'", err, piece);
}

Test(tcp_config, absent_keys_mean_udp_without_listeners)
{
	cr_assert(parse("", "", ""), "%s", err);
	cr_assert_not(cfg.banks[0].tcp.enabled);
	cr_assert_eq(cfg.banks[0].link, CFG_LINK_UDP);
	cr_assert_not(cfg.networks[0].tcp.enabled);
	cr_assert_eq(cfg.loadgen.link, CFG_LINK_UDP);
	struct cfg_endpoint e = cfg_bank_switch_endpoint(&cfg.banks[0]);
	cr_assert_str_eq(e.host, "127.0.0.1");
	cr_assert_eq(e.port, 9101);
}

Test(tcp_config, listener_defaults)
{
	cr_assert(parse("    tcp:\n      listen: 127.0.0.1:9111\n", "    tcp: {listen: 127.0.0.1:9211}\n", ""), "%s",
		  err);
	const struct cfg_tcp *t = &cfg.networks[0].tcp;
	cr_assert(t->enabled);
	cr_assert_str_eq(t->listen.host, "127.0.0.1");
	cr_assert_eq(t->listen.port, 9211);
	cr_assert_eq(t->framing, CFG_FRAMING_BINARY2);
	cr_assert_eq(t->max_message, 4096);
	cr_assert_eq(t->keepalive_s, 30);
	cr_assert_eq(t->idle_timeout_s, 90);
	cr_assert(cfg.banks[0].tcp.enabled);
	cr_assert_eq(cfg.banks[0].tcp.listen.port, 9111);
	cr_assert_eq(cfg.banks[0].link, CFG_LINK_UDP, "a listener alone does not change how switches reach the bank");
	cr_assert_eq(cfg_bank_switch_endpoint(&cfg.banks[0]).port, 9101);
}

Test(tcp_config, every_key_can_be_set)
{
	cr_assert(parse("    tcp:\n      listen: 127.0.0.1:9111\n      framing: ascii4\n      max_message: 999\n"
			"      keepalive_s: 0\n      idle_timeout_s: 5\n    link: tcp\n",
			"    tcp:\n      listen: 127.0.0.2:9211\n      keepalive_s: 10\n      idle_timeout_s: 0\n",
			"loadgen:\n  link: tcp\n"),
		  "%s", err);
	const struct cfg_bank *b = &cfg.banks[0];
	cr_assert_eq(b->tcp.framing, CFG_FRAMING_ASCII4);
	cr_assert_eq(b->tcp.max_message, 999);
	cr_assert_eq(b->tcp.keepalive_s, 0);
	cr_assert_eq(b->tcp.idle_timeout_s, 5);
	cr_assert_eq(b->link, CFG_LINK_TCP);
	cr_assert_str_eq(cfg_link_name(b->link), "tcp");
	struct cfg_endpoint e = cfg_bank_switch_endpoint(b);
	cr_assert_eq(e.port, 9111, "a bank with link tcp is reached at its TCP listener");
	cr_assert_str_eq(cfg.networks[0].tcp.listen.host, "127.0.0.2");
	cr_assert_eq(cfg.networks[0].tcp.keepalive_s, 10);
	cr_assert_eq(cfg.networks[0].tcp.idle_timeout_s, 0);
	cr_assert_eq(cfg.loadgen.link, CFG_LINK_TCP);
	cr_assert_str_eq(cfg_link_name(CFG_LINK_UDP), "udp");
}

Test(tcp_config, mistakes_are_named)
{
	expect_error("    link: tcp\n", "", "", "banks[0].link: 'tcp' needs banks[0].tcp.listen");
	expect_error("    link: sctp\n", "", "", "banks[0].link: 'sctp' is not one of udp, tcp");
	expect_error("", "", "loadgen:\n  link: tcp\n",
		     "loadgen.link: 'tcp' needs networks[0].tcp.listen (mastercard)");
	expect_error("", "    tcp: 127.0.0.1:9211\n", "", "networks[0].tcp: expected a mapping");
	expect_error("", "    tcp:\n      framing: ascii4\n", "", "networks[0].tcp.listen: missing required key");
	expect_error("", "    tcp:\n      listen: 127.0.0.1:9211\n      framing: ebcdic\n", "",
		     "networks[0].tcp.framing: 'ebcdic' is not one of binary2, ascii4");
	expect_error("", "    tcp:\n      listen: 127.0.0.1:9211\n      max_message: 5000\n", "",
		     "networks[0].tcp.max_message: '5000' is out of range 64..4096");
	expect_error("", "    tcp:\n      listen: 127.0.0.1:9211\n      keepalive_s: 30\n      idle_timeout_s: 30\n",
		     "", "networks[0].tcp.idle_timeout_s: '30' leaves idle_timeout_s 30 not above keepalive_s 30");
	expect_error("", "    tcp:\n      listen: 127.0.0.1:9211\n      port: 3\n", "",
		     "networks[0].tcp.port: unknown key");
	expect_error("", "    tcp:\n      listen: 127.0.0.1:0\n", "", "networks[0].tcp.listen: '127.0.0.1:0': the port");
}

/* The acquirer edge's limits (docs/configuration.md, "tcp listener"): networks only. */
Test(tcp_config, edge_limits_default_and_can_be_set)
{
	cr_assert(parse("", "    tcp: {listen: 127.0.0.1:9211}\n", ""), "%s", err);
	const struct cfg_tcp *t = &cfg.networks[0].tcp;
	cr_assert_eq(t->max_inbound, 256);
	cr_assert_eq(t->max_inbound_per_source, 64, "a quarter of the table per address");
	cr_assert_eq(t->evict_idle_s, 5);
	cr_assert_eq(t->quiet_timeout_s, 900, "ten idle timeouts");
	cr_assert_eq(t->ring_slots, 1024);
	cr_assert_eq(t->send_wait_ms, 1000);
	cr_assert_eq(t->shed_after_ms, 500, "a new 1100 waiting half a second is shed");

	cr_assert(parse("", "    tcp: {listen: 127.0.0.1:9211, idle_timeout_s: 0, max_inbound: 10}\n", ""), "%s", err);
	cr_assert_eq(t->max_inbound_per_source, 2, "a quarter of the configured table");
	cr_assert_eq(t->quiet_timeout_s, 900, "no idle timeout: 900 s");

	cr_assert(parse("", "    tcp:\n      listen: 127.0.0.1:9211\n      max_inbound: 1000\n"
			    "      max_inbound_per_source: 1000\n      evict_idle_s: 0\n      quiet_timeout_s: 0\n"
			    "      ring_slots: 4096\n      send_wait_ms: 50\n      shed_after_ms: 0\n",
			"loadgen:\n  link: tcp\n"),
		  "%s", err);
	cr_assert_eq(t->max_inbound, 1000);
	cr_assert_eq(t->max_inbound_per_source, 1000);
	cr_assert_eq(t->evict_idle_s, 0);
	cr_assert_eq(t->quiet_timeout_s, 0);
	cr_assert_eq(t->ring_slots, 4096);
	cr_assert_eq(t->send_wait_ms, 50);
	cr_assert_eq(t->shed_after_ms, 0, "0: never shed");
}

Test(tcp_config, edge_limit_mistakes_are_named)
{
#define EDGE(keys) "    tcp:\n      listen: 127.0.0.1:9211\n" keys
	expect_error("", EDGE("      max_inbound: 0\n"), "", "networks[0].tcp.max_inbound: '0' is out of range 1..65536");
	expect_error("", EDGE("      max_inbound: 8\n      max_inbound_per_source: 9\n"), "",
		     "networks[0].tcp.max_inbound_per_source: '9' leaves max_inbound_per_source 9 above max_inbound 8");
	expect_error("", EDGE("      quiet_timeout_s: 60\n"), "",
		     "networks[0].tcp.quiet_timeout_s: '60' leaves quiet_timeout_s 60 below idle_timeout_s 90 (0 = never)");
	expect_error("", EDGE("      ring_slots: 1000\n"), "",
		     "networks[0].tcp.ring_slots: '1000' is not a power of two (64, 128, ... 65536)");
	expect_error("", EDGE("      ring_slots: 32\n"), "", "networks[0].tcp.ring_slots: '32' is out of range 64..65536");
	expect_error("", EDGE("      evict_idle_s: -1\n"), "", "networks[0].tcp.evict_idle_s: '-1'");
	expect_error("", EDGE("      send_wait_ms: 0\n"), "", "networks[0].tcp.send_wait_ms: '0' is out of range 1..60000");
	expect_error("", EDGE("      shed_after_ms: 60001\n"), "",
		     "networks[0].tcp.shed_after_ms: '60001' is out of range 0..60000");
#undef EDGE
	/* A bank's listener has only the switches on it: no acquirer edge to limit. */
	expect_error("    tcp:\n      listen: 127.0.0.1:9111\n      max_inbound: 10\n", "", "",
		     "banks[0].tcp.max_inbound: unknown key");
}

Test(tcp_config, tcp_listeners_share_the_tcp_port_space)
{
	/* HTTP is TCP too: a TCP listener on an HTTP endpoint could never bind. */
	expect_error("", "    tcp:\n      listen: 127.0.0.1:8101\n", "",
		     "banks[0].http: '127.0.0.1:8101' is already the endpoint of networks[0].tcp.listen");
	expect_error("    tcp:\n      listen: 127.0.0.1:9211\n", "    tcp:\n      listen: 127.0.0.1:9211\n", "",
		     "banks[0].tcp.listen: '127.0.0.1:9211' is already the endpoint of networks[0].tcp.listen");
	/* UDP and TCP ports are separate: the same number on both is fine. */
	cr_assert(parse("    tcp:\n      listen: 127.0.0.1:9101\n", "    tcp:\n      listen: 127.0.0.1:9201\n", ""),
		  "%s", err);
}

Test(tcp_config, shipped_file_runs_udp_with_listeners_on)
{
	const char *src = getenv("ISO_SOURCE_DIR");
	cr_assert_not_null(src, "ISO_SOURCE_DIR is not set (run through ctest)");
	char path[1024];
	snprintf(path, sizeof path, "%s/config/ecosystem.yaml", src);
	cr_assert(ecosystem_config_load(path, &cfg, err, sizeof err), "%s", err);
	cr_assert_eq(cfg.loadgen.link, CFG_LINK_UDP);
	for (size_t i = 0; i < cfg.bank_count; i++) {
		cr_assert_eq(cfg.banks[i].link, CFG_LINK_UDP, "%s", cfg.banks[i].name);
		cr_assert(cfg.banks[i].tcp.enabled, "%s has no TCP listener", cfg.banks[i].name);
	}
	for (size_t i = 0; i < cfg.network_count; i++)
		cr_assert(cfg.networks[i].tcp.enabled, "%s has no TCP listener", cfg.networks[i].name);
}
