/*
 * The real switch on its DPDK dataplane, end to end through kernels and veths.
 * Needs root (network namespaces), iproute2 and ethtool: without them the tests
 * fail and say why, they are never skipped. Addresses from 198.18.0.0/15 live
 * only inside the namespaces the tests make.
 *
 * Veth note: a kernel socket sending over veth or a bridge leaves the UDP
 * checksum for the "hardware" to finish; net_af_packet hands DPDK the unfinished
 * checksum, which the port rightly drops. `ethtool -K <if> tx off` on the kernel
 * side makes the kernel finish it, as a real NIC would.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "card_population.h"
#include "ecosystem_config.h"
#include "framing.h"
#include "iso8583.h"
#include "iso_mac.h"
#include "iso_mac_keys.h"
#include "iso_test_messages.h"
#include "netns_lab.h"
#include "one_bank_ecosystem.h"

#define SWITCH_UDP 13500
#define BANK_UDP 13501
#define SWITCH_HTTP 13502
#define BANK_HTTP 13503
#define CARDHOLDER_UDP 13510

static struct netns_lab lab;

static void teardown(void)
{
	lab_teardown(&lab);
}

static void binary(const char *relative, char *out, size_t size)
{
	const char *build = getenv("ISO_BUILD_DIR");
	cr_assert(build, "ISO_BUILD_DIR is not set (run through ctest)");
	snprintf(out, size, "%s/%s", build, relative);
	cr_assert_eq(access(out, X_OK), 0, "no program at %s", out);
}

static void write_config(const char *path, const char *switch_ip, const char *bank_ip)
{
	char keys[600];
	snprintf(keys, sizeof keys, "%s/iso_mac.keys", lab.dir);
	const struct one_bank_ecosystem e = {.switch_ip = switch_ip, .bank_ip = bank_ip, .switch_udp = SWITCH_UDP,
					     .bank_udp = BANK_UDP, .switch_http = SWITCH_HTTP, .bank_http = BANK_HTTP,
					     .lmdb_dir = lab.dir, .cards_per_bank = 100, .mac_key_file = keys};
	cr_assert(one_bank_ecosystem_write(path, &e), "cannot write %s", path);
}

/* Starts the switch on the vdev inside ns (NULL: ours) with `workers` workers; waits until it serves. */
static struct lab_process *start_switch(const char *ns, const char *vdev, int workers, const char *config,
					char *prefix, size_t prefix_size)
{
	static char path[256], prefix_option[96], workers_text[8];
	binary("switch/switch", path, sizeof path);
	snprintf(workers_text, sizeof workers_text, "%d", workers);
	lab_dpdk_prefix(&lab, "sw", prefix, prefix_size);
	snprintf(prefix_option, sizeof prefix_option, "--file-prefix=%s", prefix);
	char *argv[] = {path, "--config", (char *)config, "--network", "mastercard", "--dataplane", "dpdk",
			"--workers", workers_text, "--",
			"--no-huge", "--no-pci", "-m", "256", "-l", "0", "--vdev", (char *)vdev, "--log-level",
			"lib.eal:warning", prefix_option, NULL};
	struct lab_process *p = lab_start(&lab, ns, "switch", argv);
	cr_assert(lab_wait_log(p, "on dpdk dataplane", 30000), "the switch did not come up on DPDK");
	return p;
}

/* A counter of the port's /iso8583/port_stats as dpdk-telemetry.py reads it, -1 when unavailable. */
static long telemetry_counter(const char *prefix, const char *name)
{
	char command[256];
	snprintf(command, sizeof command,
		 "echo /iso8583/port_stats | dpdk-telemetry.py -f %s 2>/dev/null | grep -o '\"%s\": [0-9]*'", prefix,
		 name);
	FILE *p = popen(command, "r");
	cr_assert(p);
	char line[128] = "";
	char *ok = fgets(line, sizeof line, p);
	pclose(p);
	return ok && strchr(line, ':') ? atol(strchr(line, ':') + 1) : -1;
}

static size_t receive(int fd, uint8_t *buf, size_t capacity, int timeout_ms, struct sockaddr_in *from)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, timeout_ms) != 1)
		return 0;
	socklen_t len = sizeof *from;
	ssize_t n = recvfrom(fd, buf, capacity, 0, (struct sockaddr *)from, &len);
	return n > 0 ? (size_t)n : 0;
}

/* m framed for the UDP link, its MAC under mac; fails the test when it cannot be encoded. */
static size_t encode(struct iso_msg *m, struct iso_cmac *mac, uint8_t *out, size_t capacity)
{
	size_t framed = iso_encode_framed_signed(m, mac, out, capacity);
	cr_assert_gt(framed, 0, "cannot encode the %d", m->mti);
	return framed;
}

/* The keyed context of a link from the lab's key file (write_config made it). */
static struct iso_cmac *link_key(const char *link)
{
	static struct iso_mac_link keys[8];
	char path[600], err[256];
	size_t count;
	snprintf(path, sizeof path, "%s/iso_mac.keys", lab.dir);
	cr_assert(iso_mac_keyfile_read(path, keys, 8, &count, err, sizeof err), "%s", err);
	for (size_t i = 0; i < count; i++)
		if (strcmp(keys[i].name, link) == 0)
			return iso_cmac_new(keys[i].current.bytes, keys[i].current.length);
	cr_assert_fail("no key for %s", link);
	return NULL;
}

static void expect_mac(struct iso_cmac *mac, const uint8_t *frame, size_t length, const struct iso_msg *m)
{
	cr_assert(iso_mac_present(m, frame + 2, length - 2) && iso_cmac_check_frame(mac, frame + 2, length - 2),
		  "the switch's %u carries no valid MAC", m->mti);
}

static void decode(const uint8_t *frame, size_t length, struct iso_msg *out)
{
	struct iso_error err;
	cr_assert_gt(length, 2);
	cr_assert_eq(iso_decode(&iso_profile_ascii, frame + 2, length - 2, out, &err), ISO_OK, "bad ISO message");
}

/*
 *   netns sw                                netns peer
 *   switch --dataplane dpdk                 kernel UDP sockets
 *     net_af_packet0 on veth  <--- veth --->  cardholder 198.18.10.2:13510
 *     serving 198.18.10.1:13500               fake bank 198.18.10.3:13501
 *
 * A cardholder 1100 must reach the bank as a 1100 and the bank's 1110 must come
 * back with the cardholder's own STAN. The kernel finds the switch by ARP (the
 * DPDK port answers) and the switch finds the bank by ARP (the port asks).
 */
Test(dpdk_switch_e2e, authorization_through_the_switch_on_af_packet, .fini = teardown, .timeout = 90)
{
	lab_init(&lab, true);
	char ns_switch[48], ns_peer[48], veth_switch[32], veth_peer[32], config[256], prefix[48];
	lab_namespace(&lab, "sw", ns_switch, sizeof ns_switch);
	lab_namespace(&lab, "peer", ns_peer, sizeof ns_peer);
	snprintf(veth_switch, sizeof veth_switch, "idpdk%sa", lab.tag);
	snprintf(veth_peer, sizeof veth_peer, "idpdk%sb", lab.tag);
	lab_must("ip link add %s netns %s type veth peer name %s netns %s", veth_switch, ns_switch, veth_peer, ns_peer);
	lab_must("ip -n %s link set %s up", ns_switch, veth_switch);
	/* The bank gets its own address, so that the switch has to ask for it by ARP. */
	lab_must("ip -n %s addr add 198.18.10.2/24 dev %s && ip -n %s addr add 198.18.10.3/24 dev %s && "
		 "ip -n %s link set %s up",
		 ns_peer, veth_peer, ns_peer, veth_peer, ns_peer, veth_peer);
	lab_must("ip netns exec %s ethtool -K %s tx off >/dev/null", ns_peer, veth_peer);
	snprintf(config, sizeof config, "%s/ecosystem.yaml", lab.dir);
	write_config(config, "198.18.10.1", "198.18.10.3");
	char vdev[80];
	snprintf(vdev, sizeof vdev, "net_af_packet0,iface=%s", veth_switch);
	struct lab_process *sw = start_switch(ns_switch, vdev, 1, config, prefix, sizeof prefix);

	static struct ecosystem_config cfg;
	char err[256];
	cr_assert(ecosystem_config_load(config, &cfg, err, sizeof err), "%s", err);
	struct population_card card;
	population_bank_card(&cfg, &cfg.banks[0], 3, &card);
	int bank = lab_udp_socket(ns_peer, "198.18.10.3", BANK_UDP);
	int cardholder = lab_udp_socket(ns_peer, "198.18.10.2", CARDHOLDER_UDP);

	static struct iso_text_msg request;
	const struct iso_cardholder_1100 keys = {.pan = card.pan, .expiry = card.expiry, .amount = "000000002500",
						 .stan = "424242", .rrn = "DPDKE2E00001", .terminal = "TERM0001"};
	iso_text_msg_cardholder_1100(&request, &keys);
	static uint8_t out[ISO_MAX_MESSAGE + 2], in[ISO_MAX_MESSAGE + 2];
	struct iso_cmac *acquirer = link_key("acquirer:mastercard"), *bank_link = link_key("mastercard:big_bank");
	size_t n = encode(&request.m, acquirer, out, sizeof out);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(SWITCH_UDP)};
	inet_pton(AF_INET, "198.18.10.1", &to.sin_addr);
	cr_assert_eq(sendto(cardholder, out, n, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)n);

	struct sockaddr_in from;
	size_t got = receive(bank, in, sizeof in, 10000, &from);
	if (!got)
		lab_print_log(sw);
	cr_assert_gt(got, 0, "the bank got no 1100 from the switch (ARP or the DPDK port failed)");
	char from_ip[32];
	inet_ntop(AF_INET, &from.sin_addr, from_ip, sizeof from_ip);
	cr_assert_str_eq(from_ip, "198.18.10.1", "the switch sends from its DPDK address");
	cr_assert_eq(ntohs(from.sin_port), SWITCH_UDP);
	struct iso_msg to_bank;
	decode(in, got, &to_bank);
	cr_assert_eq(to_bank.mti, 1100);
	expect_mac(bank_link, in, got, &to_bank);
	cr_assert(iso_field_equals(&to_bank, 2, card.pan));
	cr_assert(iso_field_equals(&to_bank, 4, "000000002500"));

	static struct iso_msg answer;
	iso_approval_of(&to_bank, &answer, "A00042");
	n = encode(&answer, bank_link, out, sizeof out);
	cr_assert_eq(sendto(bank, out, n, 0, (struct sockaddr *)&from, sizeof from), (ssize_t)n);

	got = receive(cardholder, in, sizeof in, 10000, &from);
	if (!got)
		lab_print_log(sw);
	cr_assert_gt(got, 0, "the cardholder got no 1110");
	struct iso_msg reply;
	decode(in, got, &reply);
	cr_assert_eq(reply.mti, 1110);
	expect_mac(acquirer, in, got, &reply);
	iso_cmac_free(acquirer);
	iso_cmac_free(bank_link);
	cr_assert(iso_field_equals(&reply, 39, "000"), "approved");
	cr_assert(iso_field_equals(&reply, 11, "424242"), "the cardholder's own STAN is restored");
	cr_assert(iso_field_equals(&reply, 37, "DPDKE2E00001"));
	cr_assert(iso_field_equals(&reply, 41, "TERM0001"));

	cr_assert_eq(telemetry_counter(prefix, "rx_datagrams"), 2, "dpdk-telemetry.py shows the 1100 and the 1110");
	cr_assert_eq(telemetry_counter(prefix, "tx_datagrams"), 2);
	cr_assert_geq(telemetry_counter(prefix, "tx_arp_replies"), 1, "the port answered the kernel's ARP");
	cr_assert_geq(telemetry_counter(prefix, "tx_arp_requests"), 1, "the port asked for the bank");
	cr_assert_eq(telemetry_counter(prefix, "tx_held"), 1, "the 1100 to the bank waited for the ARP reply");
	cr_assert_eq(telemetry_counter(prefix, "tx_unresolved"), 0);
	close(bank);
	close(cardholder);
}

/*
 *   netns lg: cardholder-loadgen --dataplane dpdk (net_af_packet, 198.18.11.3)
 *   netns sw: switch --dataplane dpdk (net_af_packet, 198.18.11.1)
 *   netns peer: bridge br0 198.18.11.2 joining both veths, the real bank-node (kernel UDP, LMDB)
 *
 * Every authorization of a short load run must be answered and approved: two
 * DPDK processes and a kernel host, meeting by ARP over a bridge.
 */
Test(dpdk_switch_e2e, load_generator_and_switch_both_on_dpdk_with_the_real_bank, .fini = teardown, .timeout = 110)
{
	lab_init(&lab, true);
	char ns_lg[48], ns_switch[48], ns_peer[48], config[256], switch_prefix[48], lg_prefix[48];
	lab_namespace(&lab, "lg", ns_lg, sizeof ns_lg);
	lab_namespace(&lab, "sw", ns_switch, sizeof ns_switch);
	lab_namespace(&lab, "peer", ns_peer, sizeof ns_peer);
	char sw_a[32], sw_b[32], lg_a[32], lg_b[32]; /* at most 15 characters used: IFNAMSIZ */
	snprintf(sw_a, sizeof sw_a, "idpdk%ssa", lab.tag);
	snprintf(sw_b, sizeof sw_b, "idpdk%ssb", lab.tag);
	snprintf(lg_a, sizeof lg_a, "idpdk%sla", lab.tag);
	snprintf(lg_b, sizeof lg_b, "idpdk%slb", lab.tag);
	lab_must("ip link add %s netns %s type veth peer name %s netns %s", sw_a, ns_switch, sw_b, ns_peer);
	lab_must("ip link add %s netns %s type veth peer name %s netns %s", lg_a, ns_lg, lg_b, ns_peer);
	lab_must("ip -n %s link add br0 type bridge && ip -n %s link set %s master br0 && "
		 "ip -n %s link set %s master br0",
		 ns_peer, ns_peer, sw_b, ns_peer, lg_b);
	lab_must("ip -n %s addr add 198.18.11.2/24 dev br0", ns_peer);
	lab_must("ip -n %s link set br0 up && ip -n %s link set %s up && ip -n %s link set %s up", ns_peer, ns_peer,
		 sw_b, ns_peer, lg_b);
	lab_must("ip -n %s link set %s up && ip -n %s link set %s up", ns_switch, sw_a, ns_lg, lg_a);
	lab_must("ip netns exec %s ethtool -K br0 tx off >/dev/null", ns_peer);
	snprintf(config, sizeof config, "%s/ecosystem.yaml", lab.dir);
	write_config(config, "198.18.11.1", "198.18.11.2");

	static char bank_path[256];
	binary("bank-node/bank-node", bank_path, sizeof bank_path);
	char *bank_argv[] = {bank_path, "--config", config, "--bank", "big_bank", NULL};
	struct lab_process *bank = lab_start(&lab, ns_peer, "bank", bank_argv);
	cr_assert(lab_wait_log(bank, "iso udp", 30000), "the bank did not come up");
	char switch_vdev[80];
	snprintf(switch_vdev, sizeof switch_vdev, "net_af_packet0,iface=%s,qpairs=2", sw_a);
	struct lab_process *sw = start_switch(ns_switch, switch_vdev, 2, config, switch_prefix, sizeof switch_prefix);

	static char lg_path[256], vdev[64], prefix_option[96], report[256];
	binary("cardholder-loadgen/cardholder-loadgen", lg_path, sizeof lg_path);
	snprintf(vdev, sizeof vdev, "net_af_packet0,iface=%s", lg_a);
	lab_dpdk_prefix(&lab, "lg", lg_prefix, sizeof lg_prefix);
	snprintf(prefix_option, sizeof prefix_option, "--file-prefix=%s", lg_prefix);
	snprintf(report, sizeof report, "%s/report", lab.dir);
	char *lg_argv[] = {lg_path, "--config", config, "--network", "mastercard", "--rate", "1000", "--duration",
			   "2", "--no-plots", "--no-progress", "--report-dir", report, "--dataplane", "dpdk",
			   "--dpdk-address", "198.18.11.3", "--dpdk-port", "13510", "--", "--no-huge", "--no-pci", "-m",
			   "256", "-l", "0", "--vdev", vdev, "--log-level", "lib.eal:warning", prefix_option, NULL};
	struct lab_process *lg = lab_start(&lab, ns_lg, "loadgen", lg_argv);
	int status = lab_wait_exit(lg, 60000);
	if (status != 0) {
		lab_print_log(lg);
		lab_print_log(sw);
		lab_print_log(bank);
	}
	cr_assert_eq(status, 0, "the load generator failed (exit %d)", status);

	FILE *f = fopen(lg->log, "r");
	cr_assert(f);
	char line[2048];
	bool found = false;
	unsigned long long sent = 0, answered = 0, approved = 0, timeouts = 1;
	while (fgets(line, sizeof line, f)) {
		const char *s = strstr(line, "SUMMARY ");
		if (!s)
			continue;
		found = true;
		const char *p;
		if ((p = strstr(s, " sent=")))
			sent = strtoull(p + 6, NULL, 10);
		if ((p = strstr(s, " answered=")))
			answered = strtoull(p + 10, NULL, 10);
		if ((p = strstr(s, " codes=000:")))
			approved = strtoull(p + 11, NULL, 10);
		if ((p = strstr(s, " timeouts=")))
			timeouts = strtoull(p + 10, NULL, 10);
	}
	fclose(f);
	if (!found || sent == 0 || answered != sent || approved != sent || timeouts != 0)
		lab_print_log(lg);
	cr_assert(found, "no SUMMARY line from the load generator");
	cr_assert_gt(sent, 1000, "about 2000 authorizations planned");
	cr_assert_eq(answered, sent, "every authorization answered");
	cr_assert_eq(approved, sent, "every authorization approved");
	cr_assert_eq(timeouts, 0);
	/* The load generator and the bank put several messages in a datagram when they can, so
	 * datagram counts are not message counts; but nothing may have been lost on the way. */
	cr_assert_gt(telemetry_counter(switch_prefix, "rx_datagrams"), 0);
	cr_assert_eq(telemetry_counter(switch_prefix, "rx_bad_udp_checksum"), 0);
	cr_assert_eq(telemetry_counter(switch_prefix, "tx_unresolved"), 0);
	cr_assert_eq(telemetry_counter(switch_prefix, "tx_dropped_full"), 0);
}

/*
 * The switch as a net_memif server, dpdk-testpmd as the client sending UDP to the
 * switch's address and port (txonly): shared memory between two DPDK processes,
 * no kernel and no root. testpmd's datagrams are not ISO 8583 (the switch counts
 * them as malformed); the switch's port must take them all as datagrams.
 */
Test(dpdk_switch_e2e, memif_between_the_switch_and_testpmd, .fini = teardown, .timeout = 90)
{
	lab_init(&lab, false);
	cr_assert_eq(access("/usr/bin/dpdk-testpmd", X_OK), 0, "this test needs dpdk-testpmd (package dpdk)");
	char config[256], prefix[48], testpmd_prefix[48], vdev[256], testpmd_vdev[256];
	snprintf(config, sizeof config, "%s/ecosystem.yaml", lab.dir);
	write_config(config, "198.18.13.1", "198.18.13.2");
	snprintf(vdev, sizeof vdev, "net_memif0,role=server,socket=%s/memif.sock,mac=02:00:00:00:13:01", lab.dir);
	start_switch(NULL, vdev, 1, config, prefix, sizeof prefix);

	snprintf(testpmd_vdev, sizeof testpmd_vdev, "net_memif0,role=client,socket=%s/memif.sock", lab.dir);
	lab_dpdk_prefix(&lab, "tp", testpmd_prefix, sizeof testpmd_prefix);
	static char prefix_option[96];
	snprintf(prefix_option, sizeof prefix_option, "--file-prefix=%s", testpmd_prefix);
	char *argv[] = {"/usr/bin/dpdk-testpmd", "--no-huge", "--no-pci", "-m", "256", "-l", "0-1", "--vdev",
			testpmd_vdev, "--log-level", "lib.eal:warning", prefix_option, "--",
			"--forward-mode=txonly", "--eth-peer=0,02:00:00:00:13:01", "--tx-ip=198.18.13.2,198.18.13.1",
			"--tx-udp=13501,13500", "--stats-period", "1", "--total-num-mbufs", "4096", NULL};
	struct lab_process *tp = lab_start(&lab, NULL, "testpmd", argv);

	long datagrams = 0;
	for (int i = 0; i < 200 && datagrams < 10000; i++) {
		usleep(100000);
		datagrams = telemetry_counter(prefix, "rx_datagrams");
	}
	if (datagrams < 10000)
		lab_print_log(tp);
	cr_assert_geq(datagrams, 10000, "the switch's memif port received testpmd's datagrams");
	cr_assert_eq(telemetry_counter(prefix, "rx_bad_ip_checksum"), 0);
	cr_assert_eq(telemetry_counter(prefix, "rx_not_for_us"), 0, "addressed to the switch's MAC, IPv4 and port");
}
