/*
 * The real bank-node binary, started as a process on loopback with a
 * generated config and a temporary LMDB: the HTTP API, payments and
 * reversals over UDP, malformed input, and fault injection.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank_process.h"

static struct bank_process bank;

static void start_bank(uint16_t http_port, uint16_t iso_port, const char *const *extra)
{
	struct bank_process_config c = {.http_port = http_port, .iso_port = iso_port, .durability = "sync",
					 .cards_per_bank = 10, .initial_balance = 100000, .max_amount = 50000};
	bank_process_prepare(&bank, &c);
	cr_assert(bank_process_start(&bank, extra), "bank-node did not start");
}

static void stop_bank(void)
{
	if (bank.pid > 0) {
		int status = bank_process_kill(&bank, SIGTERM);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			bank_process_dump_log(&bank);
			cr_expect_fail("bank-node did not exit cleanly on SIGTERM (status %d)", status);
		}
	}
	bank_process_cleanup(&bank);
}

TestSuite(process, .fini = stop_bank, .timeout = 60);

static json_t *post(const char *path, const char *body, long expect)
{
	json_t *j;
	long status = test_http(bank.http_port, "POST", path, body, &j);
	cr_assert_eq(status, expect, "POST %s %s: %ld, expected %ld", path, body, status, expect);
	cr_assert(json_is_object(j), "POST %s: the answer is not a JSON object", path);
	return j;
}

/* GET /get-balance/uuid/<account>: the balance, -1 when unknown. */
static long long balance_of(const char *account)
{
	char path[128];
	snprintf(path, sizeof(path), "/get-balance/uuid/%s", account);
	return test_http_int(bank.http_port, path, "balance");
}

Test(process, http_create_and_read_accounts)
{
	start_bank(12100, 12101, NULL);
	json_t *j = post("/create-account", "{\"name\": \"alice\", \"balance\": 4200}", 201);
	const char *uuid = json_string_value(json_object_get(j, "uuid"));
	cr_assert_not_null(uuid);
	cr_assert_eq(strlen(uuid), 36);
	cr_assert_eq(uuid[14], '4', "a version 4 UUID: %s", uuid);
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "alice");
	cr_assert_eq(json_integer_value(json_object_get(j, "balance")), 4200);
	char path[128];
	snprintf(path, sizeof(path), "/get-balance/uuid/%s", uuid);
	json_t *g;
	cr_assert_eq(test_http(bank.http_port, "GET", path, NULL, &g), 200);
	cr_assert_eq(json_integer_value(json_object_get(g, "balance")), 4200);
	cr_assert_str_eq(json_string_value(json_object_get(g, "uuid")), uuid);
	json_decref(g);
	json_decref(j);

	const char *given = "{\"uuid\": \"6f1c2a3b-0d4e-4f50-8a61-72b3c4d5e6f7\", \"name\": \"bob\", \"balance\": 0}";
	json_decref(post("/create-account", given, 201));
	json_decref(post("/create-account", given, 409));
	cr_assert_eq(test_http_int(bank.http_port, "/get-balance/uuid/6f1c2a3b-0d4e-4f50-8a61-72b3c4d5e6f7", "balance"), 0);

	cr_assert_eq(test_http(bank.http_port, "GET", "/get-balance/uuid/00000000-0000-4000-8000-000000000000", NULL, &g), 404);
	cr_assert(json_is_string(json_object_get(g, "error")));
	json_decref(g);

	/* the generated population is there */
	cr_assert_eq(test_http_int(bank.http_port, "/get-balance/uuid/" TEST_BANK_NAME "-3", "balance"), 100000);
	json_t *ledger;
	cr_assert_eq(test_http(bank.http_port, "GET", "/ledger", NULL, &ledger), 200);
	cr_assert_eq(json_integer_value(json_object_get(ledger, "accounts")), 12);
	cr_assert_eq(json_integer_value(json_object_get(ledger, "total_balance")), 10 * 100000 + 4200);
	cr_assert_eq(json_integer_value(json_object_get(ledger, "created_total")), 10 * 100000 + 4200);
	json_decref(ledger);
}

Test(process, http_refuses_bad_requests_with_json_errors)
{
	start_bank(12102, 12103, NULL);
	const char *bad_bodies[] = {
		"{\"balance\": 10}",			     /* no name */
		"{\"name\": \"x\"}",			     /* no balance */
		"{\"name\": \"x\", \"balance\": -1}",	     /* negative */
		"{\"name\": \"x\", \"balance\": 1.5}",	     /* not an integer */
		"{\"name\": \"x\", \"balance\": \"10\"}",    /* a string */
		"{\"name\": \"x\", \"balance\": 10000000000000000}", /* above the 15-digit cap */
		"{\"name\": \"\", \"balance\": 10}",	     /* empty name */
		"{\"name\": 5, \"balance\": 10}",	     /* not a string */
		"{\"uuid\": \"nope\", \"name\": \"x\", \"balance\": 1}",
		"[1, 2]",
		"{\"name\": \"x\", \"balance\": 10", /* malformed JSON */
		"",
	};
	for (size_t i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
		json_t *j;
		long status = test_http(bank.http_port, "POST", "/create-account", bad_bodies[i], &j);
		cr_assert_eq(status, 400, "body '%s' got %ld", bad_bodies[i], status);
		cr_assert(json_is_string(json_object_get(j, "error")), "body '%s': no JSON error", bad_bodies[i]);
		json_decref(j);
	}
	json_t *j;
	cr_assert_eq(test_http(bank.http_port, "GET", "/create-account", NULL, &j), 405);
	json_decref(j);
	cr_assert_eq(test_http(bank.http_port, "DELETE", "/ledger", NULL, &j), 405);
	json_decref(j);
	cr_assert_eq(test_http(bank.http_port, "GET", "/no-such-thing", NULL, &j), 404);
	json_decref(j);
	cr_assert_eq(test_http(bank.http_port, "POST", "/block-card", "{\"pan\": \"5105100000009999\"}", &j), 404);
	json_decref(j);
	cr_assert_eq(test_http(bank.http_port, "POST", "/block-card", "{\"card\": 1}", &j), 400);
	json_decref(j);
	/* still alive and counting nothing odd */
	cr_assert_eq(test_http_int(bank.http_port, "/ledger", "accounts"), 10);
}

static int exchange(struct test_udp_peer *c, const uint8_t *frame, size_t len, struct test_answer *a)
{
	cr_assert(test_udp_peer_send(c, bank.iso_port, frame, len));
	return bank_process_receive_answers(c, a, 8, 5000);
}

Test(process, payment_duplicate_reversal_over_udp)
{
	start_bank(12104, 12105, NULL);
	struct population_card card;
	bank_process_card(&bank, 2, &card);
	cr_assert_eq(balance_of(card.account), 100000);

	struct test_udp_peer c;
	cr_assert(test_udp_peer_open(&c, 0));
	uint8_t frame[512];
	struct test_answer a[8];
	struct test_payment p = test_payment_default(card.pan, 101, 2500);
	size_t len = test_build_1100(&p, frame, sizeof(frame));
	cr_assert_eq(exchange(&c, frame, len, a), 1, "no 1110");
	cr_assert_eq(a[0].mti, 1110);
	cr_assert_str_eq(a[0].action, "000");
	cr_assert_str_eq(a[0].stan, "000101");
	cr_assert(a[0].has_approval);
	char approval[7];
	memcpy(approval, a[0].approval, sizeof(approval));
	cr_assert_eq(balance_of(card.account), 97500);

	/* the same 1100 again: same answer, no second debit */
	cr_assert_eq(exchange(&c, frame, len, a), 1);
	cr_assert_str_eq(a[0].action, "000");
	cr_assert_str_eq(a[0].approval, approval);
	cr_assert_eq(balance_of(card.account), 97500);

	/* reversal: credited once, replays answered 400 without a second credit */
	len = test_build_reversal(&p, 1420, 102, frame, sizeof(frame));
	cr_assert_eq(exchange(&c, frame, len, a), 1);
	cr_assert_eq(a[0].mti, 1430);
	cr_assert_str_eq(a[0].action, "400");
	cr_assert_neq(strlen(a[0].original_data), 0);
	cr_assert_eq(balance_of(card.account), 100000);
	len = test_build_reversal(&p, 1421, 103, frame, sizeof(frame));
	cr_assert_eq(exchange(&c, frame, len, a), 1);
	cr_assert_str_eq(a[0].action, "400");
	cr_assert_eq(balance_of(card.account), 100000);

	/* a reversal of something never seen: 914 */
	struct test_payment ghost = test_payment_default(card.pan, 999, 10);
	ghost.rrn = "RRN000000999"; /* its own retrieval reference, as every transaction has */
	len = test_build_reversal(&ghost, 1420, 104, frame, sizeof(frame));
	cr_assert_eq(exchange(&c, frame, len, a), 1);
	cr_assert_str_eq(a[0].action, "914");

	/* refusals */
	struct test_payment too_much = test_payment_default(card.pan, 105, 100001);
	len = test_build_1100(&too_much, frame, sizeof(frame));
	cr_assert_eq(exchange(&c, frame, len, a), 1);
	cr_assert_str_eq(a[0].action, "119"); /* above the fraud limit of 50000 */
	struct test_payment unknown = test_payment_default("5105100000009999", 106, 100);
	len = test_build_1100(&unknown, frame, sizeof(frame));
	cr_assert_eq(exchange(&c, frame, len, a), 1);
	cr_assert_str_eq(a[0].action, "111");

	/* blocking the card refuses the next payment */
	char body[64];
	snprintf(body, sizeof(body), "{\"pan\": \"%s\"}", card.pan);
	json_t *j;
	cr_assert_eq(test_http(bank.http_port, "POST", "/block-card", body, &j), 200);
	json_decref(j);
	struct test_payment after_block = test_payment_default(card.pan, 107, 100);
	len = test_build_1100(&after_block, frame, sizeof(frame));
	cr_assert_eq(exchange(&c, frame, len, a), 1);
	cr_assert_str_eq(a[0].action, "119");
	cr_assert_eq(balance_of(card.account), 100000);

	json_t *stats;
	cr_assert_eq(test_http(bank.http_port, "GET", "/stats", NULL, &stats), 200);
	cr_assert_eq(json_integer_value(json_object_get(stats, "approved")), 2); /* the first and its duplicate */
	cr_assert_eq(json_integer_value(json_object_get(stats, "duplicates")), 1);
	cr_assert_eq(json_integer_value(json_object_get(stats, "reversals_credited")), 1);
	cr_assert_eq(json_integer_value(json_object_get(stats, "reversal_replays")), 1);
	cr_assert_eq(json_integer_value(json_object_get(stats, "reversals_unknown")), 1);
	cr_assert_geq(json_integer_value(json_object_get(stats, "batches")), 1);
	json_decref(stats);
	test_udp_peer_close(&c);
}

Test(process, several_requests_in_one_datagram_and_malformed_input)
{
	start_bank(12106, 12107, NULL);
	struct test_udp_peer c;
	cr_assert(test_udp_peer_open(&c, 0));
	uint8_t dgram[4096];
	size_t len = 0;
	for (unsigned i = 0; i < 5; i++) {
		struct population_card card;
		bank_process_card(&bank, i, &card);
		struct test_payment p = test_payment_default(card.pan, 200 + i, 100 + i);
		len += test_build_1100(&p, dgram + len, sizeof(dgram) - len);
	}
	cr_assert(test_udp_peer_send(&c, bank.iso_port, dgram, len));
	int answered = 0;
	struct test_answer a[16];
	for (int64_t deadline = test_now_ms() + 5000; answered < 5 && test_now_ms() < deadline;) {
		int n = bank_process_receive_answers(&c, a, 16, 500);
		cr_assert_geq(n, 0);
		for (int i = 0; i < n; i++)
			cr_assert_str_eq(a[i].action, "000");
		answered += n;
	}
	cr_assert_eq(answered, 5);

	/* a bad amount (non-digit) in an otherwise readable 1100: 904 */
	struct population_card card;
	bank_process_card(&bank, 0, &card);
	struct test_payment p = test_payment_default(card.pan, 300, 100);
	len = test_build_1100(&p, dgram, sizeof(dgram));
	dgram[len - 1] = 'Z'; /* DE 49, the last element */
	cr_assert(test_udp_peer_send(&c, bank.iso_port, dgram, len));
	int got = bank_process_receive_answers(&c, a, 16, 5000);
	if (got != 1) {
		json_t *st;
		test_http(bank.http_port, "GET", "/stats", NULL, &st);
		char *text = json_dumps(st, 0);
		cr_log_error("stats: %s", text);
		free(text);
		json_decref(st);
	}
	cr_assert_eq(got, 1);
	cr_assert_str_eq(a[0].action, "904");
	/* garbage and truncated frames: no answer, counted, node alive */
	uint8_t junk[] = {0x00, 0x05, 'x', 'y'};
	cr_assert(test_udp_peer_send(&c, bank.iso_port, junk, sizeof(junk)));
	uint8_t junk2[] = {0x00, 0x03, '1', '1', '0'};
	cr_assert(test_udp_peer_send(&c, bank.iso_port, junk2, sizeof(junk2)));
	cr_assert_eq(bank_process_receive_answers(&c, a, 16, 300), 0);
	long long malformed = -1;
	for (int64_t deadline = test_now_ms() + 3000; test_now_ms() < deadline && malformed < 3; test_sleep_ms(10))
		malformed = test_http_int(bank.http_port, "/stats", "malformed");
	cr_assert_eq(malformed, 3);
	cr_assert_eq(test_http_int(bank.http_port, "/stats", "malformed_answered"), 1);
	test_udp_peer_close(&c);
}

Test(process, drop_probability_one_answers_nothing_and_counts)
{
	const char *extra[] = {"--drop-probability", "1.0", "--seed", "7", NULL};
	start_bank(12108, 12109, extra);
	struct test_udp_peer c;
	cr_assert(test_udp_peer_open(&c, 0));
	struct population_card card;
	bank_process_card(&bank, 1, &card);
	uint8_t frame[512];
	struct test_answer a[4];
	for (unsigned i = 0; i < 3; i++) {
		struct test_payment p = test_payment_default(card.pan, 400 + i, 100);
		size_t len = test_build_1100(&p, frame, sizeof(frame));
		cr_assert(test_udp_peer_send(&c, bank.iso_port, frame, len));
	}
	cr_assert_eq(bank_process_receive_answers(&c, a, 4, 700), 0, "a dropped request was answered");
	long long dropped = -1;
	for (int64_t deadline = test_now_ms() + 3000; test_now_ms() < deadline && dropped < 3; test_sleep_ms(10))
		dropped = test_http_int(bank.http_port, "/stats", "dropped_by_fault");
	cr_assert_eq(dropped, 3);
	cr_assert_eq(balance_of(card.account), 100000, "a dropped request moved money");
	test_udp_peer_close(&c);
}

Test(process, delay_holds_the_answer_back)
{
	const char *extra[] = {"--delay-probability", "1", "--delay-ms", "300", "--seed", "1", NULL};
	start_bank(12110, 12111, extra);
	struct test_udp_peer c;
	cr_assert(test_udp_peer_open(&c, 0));
	struct population_card card;
	bank_process_card(&bank, 1, &card);
	uint8_t frame[512];
	struct test_answer a[4];
	struct test_payment p = test_payment_default(card.pan, 500, 100);
	size_t len = test_build_1100(&p, frame, sizeof(frame));
	int64_t sent_at = test_now_ms();
	cr_assert(test_udp_peer_send(&c, bank.iso_port, frame, len));
	cr_assert_eq(bank_process_receive_answers(&c, a, 4, 5000), 1);
	int64_t elapsed = test_now_ms() - sent_at;
	cr_assert_geq(elapsed, 300, "answered after %lld ms", (long long)elapsed);
	cr_assert_str_eq(a[0].action, "000");
	cr_assert_eq(test_http_int(bank.http_port, "/stats", "delayed_by_fault"), 1);
	test_udp_peer_close(&c);
}

Test(process, bad_command_lines_are_refused)
{
	struct bank_process_config cfg = {.http_port = 12112, .iso_port = 12113};
	bank_process_prepare(&bank, &cfg);
	const char *bad[][3] = {
		{"--durability", "fast", NULL},
		{"--drop-probability", "1.5", NULL},
		{"--iso-port", "70000", NULL},
		{"--bank", "nobody", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_not(bank_process_start(&bank, bad[i]), "started with %s %s", bad[i][0], bad[i][1]);
	}
}

Test(process, a_reversal_before_its_original_keeps_the_original_from_debiting)
{
	start_bank(12114, 12115, NULL);
	struct population_card card;
	bank_process_card(&bank, 4, &card);
	struct test_udp_peer c;
	cr_assert(test_udp_peer_open(&c, 0));
	uint8_t frame[512];
	struct test_answer a[8];
	struct test_payment p = test_payment_default(card.pan, 600, 3000);
	size_t len = test_build_reversal(&p, 1421, 601, frame, sizeof(frame));
	cr_assert_eq(exchange(&c, frame, len, a), 1);
	cr_assert_eq(a[0].mti, 1430);
	cr_assert_str_eq(a[0].action, "914");
	len = test_build_1100(&p, frame, sizeof(frame));
	cr_assert_eq(exchange(&c, frame, len, a), 1);
	cr_assert_eq(a[0].mti, 1110);
	cr_assert_str_eq(a[0].action, "100");
	cr_assert_not(a[0].has_approval);
	cr_assert_eq(balance_of(card.account), 100000);
	cr_assert_eq(test_http_int(bank.http_port, "/stats", "tombstone_declines"), 1);
	cr_assert_eq(test_http_int(bank.http_port, "/ledger", "approved_count"), 0);
	test_udp_peer_close(&c);
}

Test(process, survives_random_datagrams)
{
	start_bank(12116, 12117, NULL);
	struct test_udp_peer c;
	cr_assert(test_udp_peer_open(&c, 0));
	struct population_card card;
	bank_process_card(&bank, 0, &card);
	uint8_t valid[512];
	struct test_payment p = test_payment_default(card.pan, 700, 100);
	size_t valid_len = test_build_1100(&p, valid, sizeof(valid));
	uint64_t state = 12345;
	for (int i = 0; i < 3000; i++) {
		uint8_t d[600];
		size_t len;
		state = state * 6364136223846793005ull + 1442695040888963407ull;
		if (i % 3 == 0) {
			/* a valid 1100 with a few bytes flipped (length header kept) */
			memcpy(d, valid, valid_len);
			len = valid_len;
			for (int k = 0; k < 3; k++) {
				state = state * 6364136223846793005ull + 1442695040888963407ull;
				d[2 + (state >> 33) % (valid_len - 2)] = (uint8_t)(state >> 20);
			}
		} else {
			len = 1 + (state >> 40) % sizeof(d);
			for (size_t k = 0; k < len; k++) {
				state = state * 6364136223846793005ull + 1442695040888963407ull;
				d[k] = (uint8_t)(state >> 56);
			}
			if (i % 3 == 1 && len > 6) { /* a plausible header and MTI */
				d[0] = (uint8_t)((len - 2) >> 8);
				d[1] = (uint8_t)(len - 2);
				memcpy(d + 2, "1100", 4);
			}
		}
		test_udp_peer_send(&c, bank.iso_port, d, len);
		if (i % 100 == 0) { /* drain answers so the socket buffer never fills */
			struct test_answer a[64];
			while (bank_process_receive_answers(&c, a, 64, 0) > 0)
				;
		}
	}
	struct test_answer a[64];
	while (bank_process_receive_answers(&c, a, 64, 200) > 0)
		;
	/* still serving: a fresh payment is approved */
	struct test_payment fresh = test_payment_default(card.pan, 701, 100);
	fresh.rrn = "RRN000000777";
	size_t len = test_build_1100(&fresh, valid, sizeof(valid));
	cr_assert(test_udp_peer_send(&c, bank.iso_port, valid, len));
	int n = bank_process_receive_answers(&c, a, 64, 5000);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(a[0].stan, "000701");
	cr_assert_str_eq(a[0].action, "000");
	cr_assert_gt(test_http_int(bank.http_port, "/stats", "malformed"), 100);
	/* money is consistent whatever got through */
	json_t *l;
	cr_assert_eq(test_http(bank.http_port, "GET", "/ledger", NULL, &l), 200);
	cr_assert_eq(json_integer_value(json_object_get(l, "created_total")) -
			     json_integer_value(json_object_get(l, "total_balance")),
		     json_integer_value(json_object_get(l, "approved_amount")));
	json_decref(l);
	test_udp_peer_close(&c);
}
