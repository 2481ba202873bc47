/*
 * The real switch on its DPDK dataplane, end to end through the kernel:
 *
 *   netns iso-dpdk-sw-<pid>                 netns iso-dpdk-peer-<pid>
 *   switch --dataplane dpdk                 kernel UDP sockets on 198.18.10.2
 *     net_af_packet0,iface=veth A  <-veth->   veth B: fake bank :13501,
 *     serving 198.18.10.1:13500                       cardholder :13510
 *
 * A cardholder 1100 must reach the bank as a 1100, and the bank's 1110 must
 * come back to the cardholder with its own STAN. The kernel finds the switch
 * by ARP (answered by the DPDK port) and the switch finds the bank by ARP
 * (asked by the DPDK port). Needs root (network namespaces) and iproute2 and
 * ethtool: without them the test fails and says why, it is never skipped.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "card_population.h"
#include "ecosystem_config.h"
#include "framing.h"
#include "iso8583.h"

#define SWITCH_IP "198.18.10.1"
#define PEER_IP "198.18.10.2"
#define SWITCH_UDP 13500
#define BANK_UDP 13501
#define SWITCH_HTTP 13502
#define BANK_HTTP 13503
#define CARDHOLDER_UDP 13510

static char ns_switch[64], ns_peer[64], veth_switch[16], veth_peer[16], dir[128], config_path[256],
	switch_log[256], file_prefix[64];
static pid_t switch_pid = -1;

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int shell(const char *fmt, ...)
{
	char command[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(command, sizeof command, fmt, ap);
	va_end(ap);
	int status = system(command);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void must(const char *what, int rc)
{
	cr_assert_eq(rc, 0, "%s failed (exit %d)", what, rc);
}

static void write_config(void)
{
	snprintf(config_path, sizeof config_path, "%s/ecosystem.yaml", dir);
	FILE *f = fopen(config_path, "w");
	cr_assert(f);
	fprintf(f,
		"banks:\n"
		"  - name: big_bank\n"
		"    institution_id: \"10000000001\"\n"
		"    http: 127.0.0.1:%d\n"
		"    iso: " PEER_IP ":%d\n"
		"    lmdb_path: %s/big_bank\n"
		"    networks:\n"
		"      - network: mastercard\n"
		"        bins: [\"51051000\"]\n"
		"networks:\n"
		"  - name: mastercard\n"
		"    major_industry_id: 5\n"
		"    http: 127.0.0.1:%d\n"
		"    iso: " SWITCH_IP ":%d\n"
		"    lmdb_path: %s/mastercard\n"
		"    dataplane: dpdk\n"
		"    bank_timeout_ms: 5000\n"
		"loadgen:\n"
		"  cards_per_bank: 10\n",
		BANK_HTTP, BANK_UDP, dir, SWITCH_HTTP, SWITCH_UDP, dir);
	fclose(f);
}

static void setup(void)
{
	cr_assert_eq(geteuid(), 0, "this test needs root: it creates network namespaces and a veth pair");
	cr_assert_eq(shell("command -v ip >/dev/null && command -v ethtool >/dev/null"), 0,
		     "this test needs iproute2 (ip) and ethtool");
	const char *build = getenv("ISO_BUILD_DIR");
	cr_assert(build, "ISO_BUILD_DIR is not set (run through ctest)");
	char switch_path[256];
	snprintf(switch_path, sizeof switch_path, "%s/switch/switch", build);
	cr_assert_eq(access(switch_path, X_OK), 0, "no switch binary at %s", switch_path);

	long pid = (long)getpid();
	snprintf(ns_switch, sizeof ns_switch, "iso-dpdk-sw-%ld", pid);
	snprintf(ns_peer, sizeof ns_peer, "iso-dpdk-peer-%ld", pid);
	snprintf(veth_switch, sizeof veth_switch, "idpdk%lda", pid % 100000);
	snprintf(veth_peer, sizeof veth_peer, "idpdk%ldb", pid % 100000);
	snprintf(file_prefix, sizeof file_prefix, "iso-dpdk-e2e-%ld", pid);
	snprintf(dir, sizeof dir, "/tmp/iso-dpdk-e2e-XXXXXX");
	cr_assert(mkdtemp(dir));
	snprintf(switch_log, sizeof switch_log, "%s/switch.log", dir);
	write_config();

	must("ip netns add", shell("ip netns add %s && ip netns add %s", ns_switch, ns_peer));
	must("veth pair", shell("ip link add %s netns %s type veth peer name %s netns %s", veth_switch, ns_switch,
				veth_peer, ns_peer));
	must("switch side up", shell("ip -n %s link set lo up && ip -n %s link set %s up", ns_switch, ns_switch,
				     veth_switch));
	must("peer side up", shell("ip -n %s link set lo up && ip -n %s addr add " PEER_IP "/24 dev %s && "
				   "ip -n %s link set %s up",
				   ns_peer, ns_peer, veth_peer, ns_peer, veth_peer));
	/* veth leaves UDP checksums to the receiver (CHECKSUM_PARTIAL); af_packet hands DPDK the
	 * unfinished checksum, which the port rightly drops. A real NIC or tx off completes it. */
	must("ethtool tx off", shell("ip netns exec %s ethtool -K %s tx off >/dev/null", ns_peer, veth_peer));

	char vdev[64];
	snprintf(vdev, sizeof vdev, "net_af_packet0,iface=%s", veth_switch);
	char prefix_option[96];
	snprintf(prefix_option, sizeof prefix_option, "--file-prefix=%s", file_prefix);
	switch_pid = fork();
	cr_assert_geq(switch_pid, 0);
	if (switch_pid == 0) {
		int fd = open(switch_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		char *argv[] = {"ip", "netns", "exec", ns_switch, switch_path, "--config", config_path, "--network",
				"mastercard", "--dataplane", "dpdk", "--", "--no-huge", "--no-pci", "-m", "256", "-l",
				"0", "--vdev", vdev, "--log-level", "lib.eal:warning", prefix_option, NULL};
		execvp("ip", argv);
		_exit(127);
	}
}

static void teardown(void)
{
	if (switch_pid > 0) {
		kill(switch_pid, SIGTERM);
		int status;
		double deadline = now_seconds() + 10;
		while (waitpid(switch_pid, &status, WNOHANG) == 0 && now_seconds() < deadline)
			usleep(20000);
		if (waitpid(switch_pid, &status, WNOHANG) == 0) {
			kill(switch_pid, SIGKILL);
			waitpid(switch_pid, &status, 0);
		}
		switch_pid = -1;
	}
	if (ns_switch[0])
		shell("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", ns_switch, ns_peer);
	if (file_prefix[0])
		shell("rm -rf /var/run/dpdk/%s", file_prefix);
	if (dir[0] && strncmp(dir, "/tmp/iso-dpdk-e2e-", 18) == 0)
		shell("rm -rf %s", dir);
}

static void print_switch_log(void)
{
	shell("echo '--- switch log:'; cat %s", switch_log);
}

static bool log_contains(const char *text)
{
	FILE *f = fopen(switch_log, "r");
	if (!f)
		return false;
	char line[1024];
	bool found = false;
	while (!found && fgets(line, sizeof line, f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

/* A UDP socket bound inside the peer namespace; it stays there after we switch back. */
static int peer_socket(uint16_t port)
{
	char path[128];
	snprintf(path, sizeof path, "/var/run/netns/%s", ns_peer);
	int home = open("/proc/self/ns/net", O_RDONLY);
	int there = open(path, O_RDONLY);
	cr_assert(home >= 0 && there >= 0, "namespace files: %s", strerror(errno));
	cr_assert_eq(setns(there, CLONE_NEWNET), 0, "setns: %s", strerror(errno));
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, PEER_IP, &a.sin_addr);
	int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
	cr_assert_eq(setns(home, CLONE_NEWNET), 0);
	close(home);
	close(there);
	cr_assert_eq(rc, 0, "bind " PEER_IP ":%u: %s", port, strerror(errno));
	return fd;
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

struct text_msg {
	struct iso_msg m;
	char text[ISO_MAX_FIELD + 1][40];
};

static void put(struct text_msg *t, int field, const char *value)
{
	snprintf(t->text[field], sizeof t->text[field], "%s", value);
	iso_set_str(&t->m, field, t->text[field]);
}

static size_t encode(const struct iso_msg *m, uint8_t *out, size_t capacity)
{
	size_t written;
	struct iso_error err;
	cr_assert_eq(iso_encode(&iso_profile_ascii, m, out + 2, capacity - 2, &written, &err), ISO_OK);
	frame_write_header(FRAME_HEADER_BINARY2, written, out);
	return written + 2;
}

static void decode(const uint8_t *frame, size_t length, struct iso_msg *out)
{
	struct iso_error err;
	cr_assert_gt(length, 2);
	cr_assert_eq(iso_decode(&iso_profile_ascii, frame + 2, length - 2, out, &err), ISO_OK, "bad ISO message");
}

static void send_to_switch(int fd, const uint8_t *data, size_t length)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(SWITCH_UDP)};
	inet_pton(AF_INET, SWITCH_IP, &to.sin_addr);
	cr_assert_eq(sendto(fd, data, length, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)length);
}

Test(dpdk_switch_e2e, authorization_through_the_switch_on_af_packet, .init = setup, .fini = teardown,
     .timeout = 90)
{
	double deadline = now_seconds() + 30;
	while (!log_contains("on dpdk dataplane") && now_seconds() < deadline) {
		int status;
		if (waitpid(switch_pid, &status, WNOHANG) == switch_pid) {
			switch_pid = -1;
			print_switch_log();
			cr_assert_fail("the switch exited before it was ready");
		}
		usleep(20000);
	}
	if (!log_contains("on dpdk dataplane")) {
		print_switch_log();
		cr_assert_fail("the switch did not report its DPDK dataplane within 30 s");
	}

	static struct ecosystem_config cfg;
	char err[256];
	cr_assert(ecosystem_config_load(config_path, &cfg, err, sizeof err), "%s", err);
	struct population_card card;
	population_bank_card(&cfg, &cfg.banks[0], 3, &card);

	int bank = peer_socket(BANK_UDP);
	int cardholder = peer_socket(CARDHOLDER_UDP);

	static struct text_msg request;
	iso_msg_init(&request.m, 1100);
	put(&request, 2, card.pan);
	put(&request, 3, "000000");
	put(&request, 4, "000000002500");
	put(&request, 7, "1125120000");
	put(&request, 11, "424242");
	put(&request, 12, "261125120000");
	put(&request, 14, card.expiry);
	put(&request, 22, "100000000000");
	put(&request, 24, "100");
	put(&request, 32, "30000000003");
	put(&request, 37, "DPDKE2E00001");
	put(&request, 41, "TERM0001");
	put(&request, 42, "MERCHANT0000001");
	put(&request, 49, "978");
	static uint8_t out[ISO_MAX_MESSAGE + 2], in[ISO_MAX_MESSAGE + 2];
	size_t n = encode(&request.m, out, sizeof out);
	send_to_switch(cardholder, out, n);

	struct sockaddr_in from;
	size_t got = receive(bank, in, sizeof in, 10000, &from);
	if (!got)
		print_switch_log();
	cr_assert_gt(got, 0, "the bank got no 1100 from the switch (ARP or the DPDK port failed)");
	char from_ip[32];
	inet_ntop(AF_INET, &from.sin_addr, from_ip, sizeof from_ip);
	cr_assert_str_eq(from_ip, SWITCH_IP, "the switch sends from its DPDK address");
	cr_assert_eq(ntohs(from.sin_port), SWITCH_UDP);
	struct iso_msg to_bank;
	decode(in, got, &to_bank);
	cr_assert_eq(to_bank.mti, 1100);
	cr_assert(iso_field_equals(&to_bank, 2, card.pan));
	cr_assert(iso_field_equals(&to_bank, 4, "000000002500"));

	static struct iso_msg answer;
	iso_msg_init(&answer, 1110);
	static const int echoed[] = {2, 3, 4, 7, 11, 12, 32, 37, 41, 49};
	for (size_t k = 0; k < sizeof echoed / sizeof echoed[0]; k++)
		if (iso_has(&to_bank, echoed[k]))
			iso_set(&answer, echoed[k], to_bank.fields[echoed[k]].data, to_bank.fields[echoed[k]].length);
	iso_set_str(&answer, 38, "A00042");
	iso_set_str(&answer, 39, "000");
	n = encode(&answer, out, sizeof out);
	cr_assert_eq(sendto(bank, out, n, 0, (struct sockaddr *)&from, sizeof from), (ssize_t)n);

	got = receive(cardholder, in, sizeof in, 10000, &from);
	if (!got)
		print_switch_log();
	cr_assert_gt(got, 0, "the cardholder got no 1110");
	struct iso_msg reply;
	decode(in, got, &reply);
	cr_assert_eq(reply.mti, 1110);
	cr_assert(iso_field_equals(&reply, 39, "000"), "approved");
	cr_assert(iso_field_equals(&reply, 11, "424242"), "the cardholder's own STAN is restored");
	cr_assert(iso_field_equals(&reply, 37, "DPDKE2E00001"));
	cr_assert(iso_field_equals(&reply, 41, "TERM0001"));

	/* The port's counters, read the way an operator would. */
	char command[256];
	snprintf(command, sizeof command,
		 "echo /iso8583/port_stats | dpdk-telemetry.py -f %s 2>/dev/null | grep -o '\"rx_datagrams\": [0-9]*'",
		 file_prefix);
	FILE *p = popen(command, "r");
	cr_assert(p);
	char line[128] = "";
	char *ok = fgets(line, sizeof line, p);
	pclose(p);
	cr_assert(ok, "dpdk-telemetry.py gave no /iso8583/port_stats");
	cr_assert_geq(atoi(strchr(line, ':') + 1), 2, "the port received the 1100 and the 1110: %s", line);

	close(bank);
	close(cardholder);
}
