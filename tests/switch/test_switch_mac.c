/*
 * MACs on the ISO 8583 links with the real programs (docs/protocol.md, "MAC"):
 * the switch and two bank nodes, every link keyed from a throwaway key file.
 * A cardholder 1100 without a MAC, or with a wrong one, hears 916 and moves no
 * money; a replay of a valid message is a duplicate (913), debited once; after
 * a rotation (new key file, SIGHUP) the previous key is accepted within the
 * grace period and refused after it; a datagram straight to a bank from an
 * address that is not its network's is dropped, and one from the network's
 * address without the link's MAC hears 916. Ports 13160-13199.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ecosystem_harness.h"
#include "message_builder.h"
#include "test_clock.h"
#include "test_http.h"
#include "test_log_file.h"
#include "test_mac_keys.h"
#include "test_udp_peer.h"

#define ANSWER_MS 8000
#define INITIAL_BALANCE 100000
#define ACQUIRER "acquirer:mastercard"

static struct eco_env env;
static struct test_udp_peer holder;
static char key_file[400];

static void start(uint16_t base, uint32_t grace_s)
{
	struct eco_settings s = {.base_port = base, .keepalive_s = 30, .idle_timeout_s = 90, .bank_timeout_ms = 2000,
				 .cards_per_bank = 10, .initial_balance = INITIAL_BALANCE, .mac_grace_s = grace_s,
				 .tag = "mac"};
	cr_assert(eco_prepare(&env, &s), "cannot prepare %s", env.dir);
	snprintf(key_file, sizeof(key_file), "%s/iso_mac.keys", env.dir);
	cr_assert(eco_start_all(&env, 2), "the ecosystem did not start");
	cr_assert(test_udp_peer_open(&holder, 0));
}

static void cleanup(void)
{
	test_udp_peer_close(&holder);
	eco_cleanup(&env);
}

/* A framed 1100 of big_bank's card k, STAN stan, 10.00; signed with keys (NULL: no MAC). */
static size_t payment(size_t k, unsigned stan, const char *keys, uint8_t *buf, size_t capacity)
{
	struct population_card c;
	eco_card(&env, 0, k, &c);
	static struct test_msg t;
	char stan_text[7];
	snprintf(stan_text, sizeof(stan_text), "%06u", stan % 1000000u);
	tm_authorization(&t, c.pan, c.expiry, stan_text, "000000001000");
	size_t n = tm_encode(&t, buf, capacity);
	cr_assert(n > 0);
	n = test_mac_sign_framed(keys, ACQUIRER, buf, n, capacity);
	cr_assert(n > 0, "cannot sign");
	return n;
}

/* Sends a framed message to the switch and returns the action code of its answer ("" if none). */
static const char *ask_switch(const uint8_t *frame, size_t n, char action[4], bool answer_signed)
{
	cr_assert(test_udp_peer_send(&holder, env.switch_udp, frame, n));
	uint8_t in[ISO_MAX_MESSAGE + 2];
	size_t got = test_udp_peer_receive(&holder, in, sizeof(in), ANSWER_MS, NULL);
	action[0] = '\0';
	struct iso_msg m;
	if (got == 0 || !tm_decode_framed(in, got, &m))
		return action;
	tm_text(&m, 39, action, 4);
	if (answer_signed)
		cr_assert(test_mac_check_framed(key_file, ACQUIRER, in, got), "the switch's answer has no valid MAC");
	return action;
}

static void wait_for_reload(const char *log, long offset, const char *what)
{
	int64_t deadline = test_now_ms() + 10000;
	while (!test_log_mentions(log, offset, "reloaded the MAC keys")) {
		cr_assert(test_now_ms() < deadline, "%s did not reload its MAC keys within 10 s", what);
		test_sleep_ms(20);
	}
}

/* A new key for the acquirers' link in the file, then SIGHUP to the switch; old_keys keeps the old file. */
static void rotate_acquirer_key(char *old_keys, size_t size)
{
	snprintf(old_keys, size, "%s/iso_mac.keys.old", env.dir);
	FILE *from = fopen(key_file, "r"), *to = fopen(old_keys, "w");
	cr_assert(from && to);
	chmod(old_keys, 0600);
	char line[512];
	while (fgets(line, sizeof(line), from))
		fputs(line, to);
	fclose(from);
	cr_assert_eq(fclose(to), 0);
	cr_assert(test_mac_rotate_link(key_file, ACQUIRER));
	long offset = test_log_size(env.switch_log);
	cr_assert_eq(kill(env.switch_pid, SIGHUP), 0);
	wait_for_reload(env.switch_log, offset, "the switch");
}

Test(switch_mac, missing_or_wrong_mac_is_916_and_moves_no_money, .fini = cleanup, .timeout = 120)
{
	start(13160, 300);
	uint8_t frame[ISO_MAX_MESSAGE + 2];
	char action[4];
	size_t n = payment(0, 1, NULL, frame, sizeof(frame));
	cr_assert_str_eq(ask_switch(frame, n, action, true), "916");
	cr_assert_eq(eco_switch_stat(&env, "iso_mac." ACQUIRER ".mac_missing"), 1);

	n = payment(0, 2, key_file, frame, sizeof(frame));
	frame[n - 1] ^= 0x5a; /* the MAC's last byte */
	cr_assert_str_eq(ask_switch(frame, n, action, true), "916");
	n = payment(0, 3, key_file, frame, sizeof(frame));
	frame[20] ^= 0x01; /* a covered byte (in the PAN's digits: still a well-formed message) */
	ask_switch(frame, n, action, false);
	cr_assert(strcmp(action, "916") == 0 || strcmp(action, "904") == 0, "action %s", action);
	cr_assert_geq(eco_switch_stat(&env, "iso_mac." ACQUIRER ".mac_wrong"), 1);
	cr_assert_geq(eco_switch_stat(&env, "totals.mac_refused"), 2);
	cr_assert_eq(eco_switch_stat(&env, "totals.forwarded"), 0, "nothing reached a bank");
	cr_assert_eq(eco_balance(&env, 0, 0), INITIAL_BALANCE);

	/* The same card with a valid MAC goes through: the keys and the bank link work. */
	n = payment(0, 4, key_file, frame, sizeof(frame));
	cr_assert_str_eq(ask_switch(frame, n, action, true), "000");
	cr_assert_eq(eco_balance(&env, 0, 0), INITIAL_BALANCE - 1000);
}

Test(switch_mac, a_replayed_message_with_a_valid_mac_is_a_duplicate, .fini = cleanup, .timeout = 120)
{
	start(13160, 300);
	uint8_t frame[ISO_MAX_MESSAGE + 2];
	char action[4];
	size_t n = payment(1, 10, key_file, frame, sizeof(frame));
	cr_assert_str_eq(ask_switch(frame, n, action, true), "000");
	cr_assert_str_eq(ask_switch(frame, n, action, true), "913", "the replay");
	cr_assert_str_eq(ask_switch(frame, n, action, true), "913", "the replay again");
	cr_assert_eq(eco_balance(&env, 0, 1), INITIAL_BALANCE - 1000, "debited once");
	cr_assert_eq(eco_switch_stat(&env, "totals.duplicates"), 2);
}

Test(switch_mac, previous_key_accepted_within_the_grace_period, .fini = cleanup, .timeout = 120)
{
	start(13160, 300);
	char old_keys[600];
	rotate_acquirer_key(old_keys, sizeof(old_keys));
	uint8_t frame[ISO_MAX_MESSAGE + 2];
	char action[4];
	/* A cardholder that has not picked up the new key yet; its answer is signed with the new one. */
	size_t n = payment(2, 20, old_keys, frame, sizeof(frame));
	cr_assert_str_eq(ask_switch(frame, n, action, true), "000");
	n = payment(2, 21, key_file, frame, sizeof(frame));
	cr_assert_str_eq(ask_switch(frame, n, action, true), "000");
	cr_assert_eq(eco_switch_stat(&env, "iso_mac." ACQUIRER ".mac_previous_key"), 1);
	cr_assert_eq(eco_balance(&env, 0, 2), INITIAL_BALANCE - 2000);
}

Test(switch_mac, previous_key_refused_after_the_grace_period, .fini = cleanup, .timeout = 120)
{
	start(13180, 1);
	char old_keys[600];
	rotate_acquirer_key(old_keys, sizeof(old_keys));
	int64_t reloaded = test_now_ms();
	/* The grace period is a time: let it pass (1 s, and a margin). */
	test_sleep_ms((int)(1500 - (test_now_ms() - reloaded)));
	uint8_t frame[ISO_MAX_MESSAGE + 2];
	char action[4];
	size_t n = payment(3, 30, old_keys, frame, sizeof(frame));
	cr_assert_str_eq(ask_switch(frame, n, action, true), "916");
	cr_assert_eq(eco_balance(&env, 0, 3), INITIAL_BALANCE);
	n = payment(3, 31, key_file, frame, sizeof(frame));
	cr_assert_str_eq(ask_switch(frame, n, action, true), "000");
	cr_assert_eq(eco_balance(&env, 0, 3), INITIAL_BALANCE - 1000);
}

static long long bank_stat(int bank, const char *name)
{
	json_t *root = test_http_get_json(env.bank_http[bank], "/stats");
	cr_assert(root);
	json_t *v = json_object_get(root, name);
	long long n = json_is_integer(v) ? (long long)json_integer_value(v) : -1;
	json_decref(root);
	return n;
}

Test(switch_mac, a_bank_answers_only_its_network, .fini = cleanup, .timeout = 120)
{
	start(13160, 300);
	uint8_t frame[ISO_MAX_MESSAGE + 2];
	/* A valid MAC of the network's link does not help a datagram from elsewhere. */
	size_t n = payment(4, 40, NULL, frame, sizeof(frame));
	n = test_mac_sign_framed(key_file, "mastercard:big_bank", frame, n, sizeof(frame));
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = 0};
	inet_pton(AF_INET, "127.0.0.2", &from.sin_addr);
	cr_assert_eq(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0, "cannot bind 127.0.0.2");
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(env.bank_udp[0])};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	cr_assert_eq(sendto(fd, frame, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
	int64_t deadline = test_now_ms() + ANSWER_MS;
	while (bank_stat(0, "source_refused") < 1 && test_now_ms() < deadline)
		test_sleep_ms(20);
	cr_assert_eq(bank_stat(0, "source_refused"), 1);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 300000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	uint8_t in[512];
	cr_assert_leq(recv(fd, in, sizeof(in), 0), 0, "no answer to a stranger");
	close(fd);
	cr_assert_eq(eco_balance(&env, 0, 4), INITIAL_BALANCE);

	/* From the network's address but without the link's MAC: 916, nothing else. */
	n = payment(4, 41, NULL, frame, sizeof(frame));
	cr_assert(test_udp_peer_send(&holder, env.bank_udp[0], frame, n));
	size_t got = test_udp_peer_receive(&holder, in, sizeof(in), ANSWER_MS, NULL);
	struct iso_msg m;
	char action[4];
	cr_assert(got > 0 && tm_decode_framed(in, got, &m), "no answer from the bank");
	cr_assert_str_eq(tm_text(&m, 39, action, sizeof(action)), "916");
	cr_assert(test_mac_check_framed(key_file, "mastercard:big_bank", in, got), "the bank signs its 916");
	cr_assert_eq(bank_stat(0, "mac_refused"), 1);
	cr_assert_eq(eco_balance(&env, 0, 4), INITIAL_BALANCE);
}
