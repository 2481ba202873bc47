/*
 * The real switch binary against fake banks written here (UDP sockets and
 * the codec), so that the tests decide exactly when, whether and what a bank
 * answers: approvals, declines, timeouts with reversal advice and repeats,
 * late answers, cardholder reversals, network checks, malformed datagrams,
 * route changes. Two workers, so that messages also change worker.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "e2e_support.h"
#include "luhn.h"
#include "message_builder.h"
#include "test_clock.h"
#include "test_http.h"
#include "test_process.h"

#define TIMEOUT_MS 1000 /* generous: ASan builds on a shared 2-core box; only timeout tests wait it out */
#define RETRY_MS 300
#define WAIT_MS 5000 /* bound for anything that should happen */

static struct e2e_env env;
static struct test_udp_peer big, lil, holder;

static void setup(void)
{
	struct e2e_settings s = {
		.base_port = 13100,
		.bank_timeout_ms = TIMEOUT_MS,
		.reversal_retry_ms = RETRY_MS,
		.reversal_retry_max_ms = RETRY_MS * 4,
		.outcome_memory = 4096,
		.cards_per_bank = 10,
		.initial_balance = 100000,
		.big_max_amount = 500000,
	};
	cr_assert(e2e_prepare(&env, &s));
	cr_assert(test_udp_peer_open(&big, env.big_iso), "fake big_bank on %u", env.big_iso);
	cr_assert(test_udp_peer_open(&lil, env.lil_iso), "fake lil_bank on %u", env.lil_iso);
	cr_assert(test_udp_peer_open(&holder, 0));
	cr_assert(e2e_start_switch(&env, 2), "switch did not start (log %s)", env.switch_log);
}

static void teardown(void)
{
	test_udp_peer_close(&big);
	test_udp_peer_close(&lil);
	test_udp_peer_close(&holder);
	e2e_cleanup(&env, true);
}

TestSuite(switch_fake_bank, .init = setup, .fini = teardown, .timeout = 60);

struct received {
	uint8_t buf[ISO_MAX_MESSAGE + 2];
	size_t length;
	struct iso_msg m;
};

static void send_msg(struct test_udp_peer *from, const struct test_msg *t)
{
	uint8_t buf[ISO_MAX_MESSAGE + 2];
	size_t n = tm_encode(t, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert(test_udp_peer_send(from, env.switch_iso, buf, n));
}

static bool try_receive(struct test_udp_peer *at, struct received *r, int timeout_ms)
{
	r->length = e2e_receive_frame_from(at, r->buf, sizeof(r->buf), timeout_ms);
	if (r->length == 0)
		return false;
	cr_assert(tm_decode_framed(r->buf, r->length, &r->m), "undecodable datagram from the switch");
	return true;
}

static void receive(struct test_udp_peer *at, struct received *r, uint16_t mti)
{
	cr_assert(try_receive(at, r, WAIT_MS), "nothing received (expected %u)", mti);
	cr_assert_eq(r->m.mti, mti, "got %u, expected %u", r->m.mti, mti);
}

static const char *text(const struct received *r, int field)
{
	static char buf[8][64];
	static int next;
	char *out = buf[next++ % 8];
	return tm_text(&r->m, field, out, 64);
}

/* A bank's answer to what it received: echoes the keys, adds action (and approval) code. */
static void bank_answer(struct test_udp_peer *bank, const struct received *req, const char *action)
{
	struct test_msg a;
	iso_msg_init(&a.m, (uint16_t)(req->m.mti - req->m.mti % 10 + 10));
	static const int echoed[] = {2, 3, 4, 7, 11, 12, 32, 37, 41, 49, 56};
	for (size_t i = 0; i < sizeof(echoed) / sizeof(echoed[0]); i++)
		if (iso_has(&req->m, echoed[i]))
			tm_set(&a, echoed[i], text(req, echoed[i]));
	tm_set(&a, 39, action);
	if (strcmp(action, "000") == 0)
		tm_set(&a, 38, "A12345");
	send_msg(bank, &a);
}

static void card(int bank, size_t k, char pan[20])
{
	struct population_card c;
	e2e_card(&env, bank, k, &c);
	strcpy(pan, c.pan);
}

/* Sends a 1100 of card k of big_bank; the fake bank receives it. */
static void authorize_to_bank(struct test_msg *req, const char *stan, struct received *at_bank)
{
	char pan[20];
	card(0, 1, pan);
	tm_authorization(req, pan, "3012", stan, "000000001000");
	send_msg(&holder, req);
	receive(&big, at_bank, 1100);
}

Test(switch_fake_bank, approval_travels_with_the_switch_stan_and_comes_back_with_the_cardholders)
{
	struct test_msg req;
	struct received at_bank, answer;
	authorize_to_bank(&req, "000101", &at_bank);
	cr_assert_str_eq(text(&at_bank, 2), req.text[2]);
	cr_assert_str_eq(text(&at_bank, 4), req.text[4]);
	cr_assert_str_eq(text(&at_bank, 37), req.text[37]);
	cr_assert_str_eq(text(&at_bank, 41), req.text[41]);
	cr_assert_str_eq(text(&at_bank, 14), "3012");
	const char *switch_stan = text(&at_bank, 11);
	cr_assert(switch_stan[0] == '0' || switch_stan[0] == '1', "first digit names one of 2 workers: %s", switch_stan);
	bank_answer(&big, &at_bank, "000");
	receive(&holder, &answer, 1110);
	cr_assert_str_eq(text(&answer, 11), "000101", "the cardholder's STAN restored");
	cr_assert_str_eq(text(&answer, 39), "000");
	cr_assert_str_eq(text(&answer, 38), "A12345");
	cr_assert_str_eq(text(&answer, 37), req.text[37]);
	cr_assert_eq(e2e_wait_stat(&env, "approved", 1, WAIT_MS), 1);
	cr_assert_eq(e2e_switch_stat(&env, "forwarded"), 1);
}

Test(switch_fake_bank, decline_is_relayed)
{
	struct test_msg req;
	struct received at_bank, answer;
	authorize_to_bank(&req, "000102", &at_bank);
	bank_answer(&big, &at_bank, "116");
	receive(&holder, &answer, 1110);
	cr_assert_str_eq(text(&answer, 39), "116");
	cr_assert_str_eq(text(&answer, 11), "000102");
	cr_assert_eq(e2e_wait_stat(&env, "declined", 1, WAIT_MS), 1);
}

static void expect_refusal(const struct test_msg *req, const char *action)
{
	struct received answer;
	send_msg(&holder, req);
	receive(&holder, &answer, 1110);
	cr_assert_str_eq(text(&answer, 39), action, "PAN %s expiry %s", req->text[2], req->text[14]);
	cr_assert_str_eq(text(&answer, 11), req->text[11]);
}

Test(switch_fake_bank, network_checks_answer_without_the_bank)
{
	char good[20], bad_luhn[20], unknown[20], foreign[20], blocked[20];
	card(0, 2, good);
	strcpy(bad_luhn, good);
	bad_luhn[15] = bad_luhn[15] == '9' ? '0' : (char)(bad_luhn[15] + 1);
	/* In big_bank's BIN, Luhn-valid, but beyond the generated population. */
	memcpy(unknown, "510510009999999", 15);
	unknown[15] = luhn_check_digit(unknown, 15);
	unknown[16] = '\0';
	memcpy(foreign, "520000000000001", 15);
	foreign[15] = luhn_check_digit(foreign, 15);
	foreign[16] = '\0';
	card(0, 3, blocked);
	char body[128];
	snprintf(body, sizeof(body), "{\"pan\":\"%s\",\"expiry\":\"3012\",\"state\":\"blocked\"}", blocked);
	cr_assert_eq(test_http(env.switch_http, "POST", "/cards", body, NULL), 201);

	struct test_msg t;
	tm_authorization(&t, bad_luhn, "3012", "000201", "000000001000");
	expect_refusal(&t, "111");
	tm_authorization(&t, good, "2001", "000202", "000000001000");
	expect_refusal(&t, "101");
	tm_authorization(&t, foreign, "3012", "000203", "000000001000");
	expect_refusal(&t, "111");
	tm_authorization(&t, unknown, "3012", "000204", "000000001000");
	expect_refusal(&t, "111");
	tm_authorization(&t, blocked, "3012", "000205", "000000001000");
	expect_refusal(&t, "119");
	tm_authorization(&t, good, "3012", "000206", "000000001000");
	iso_clear(&t.m, 4);
	expect_refusal(&t, "904");

	cr_assert_eq(e2e_wait_stat(&env, "refused_by_checks", 6, WAIT_MS), 6);
	cr_assert_eq(e2e_switch_stat(&env, "no_route"), 1);
	cr_assert_eq(e2e_switch_stat(&env, "forwarded"), 0, "nothing that fails a check reaches a bank");
}

Test(switch_fake_bank, bank_timeout_answers_911_and_reverses_until_the_bank_confirms)
{
	struct test_msg req;
	struct received at_bank, answer, reversal, repeat;
	authorize_to_bank(&req, "000301", &at_bank);
	/* The bank stays silent. */
	receive(&holder, &answer, 1110);
	cr_assert_str_eq(text(&answer, 39), "911");
	cr_assert_str_eq(text(&answer, 11), "000301");

	receive(&big, &reversal, 1420);
	char want56[256];
	snprintf(want56, sizeof(want56), "1100%s%s11%s", text(&at_bank, 11), req.text[12], req.text[32]);
	cr_assert_str_eq(text(&reversal, 56), want56, "DE 56 names the STAN the bank saw");
	cr_assert_str_neq(text(&reversal, 11), text(&at_bank, 11), "the reversal has its own STAN");
	cr_assert_str_eq(text(&reversal, 37), req.text[37]);
	cr_assert_str_eq(text(&reversal, 4), req.text[4]);
	cr_assert_str_eq(text(&reversal, 24), "400");

	receive(&big, &repeat, 1421);
	cr_assert_str_eq(text(&repeat, 56), want56);
	cr_assert_str_eq(text(&repeat, 11), text(&reversal, 11));
	bank_answer(&big, &repeat, "400");
	cr_assert_eq(e2e_wait_stat(&env, "saf.acknowledged", 1, WAIT_MS), 1);

	/* The bank's answer to the 1100 arrives after all: never forwarded. */
	bank_answer(&big, &at_bank, "000");
	cr_assert_eq(e2e_wait_stat(&env, "late_responses", 1, WAIT_MS), 1);
	struct received nothing;
	cr_assert_not(try_receive(&holder, &nothing, 2 * RETRY_MS), "late 1110 forwarded");
	cr_assert_not(try_receive(&big, &nothing, 2 * RETRY_MS), "repeats after the 1430");
	cr_assert_eq(e2e_switch_stat(&env, "timed_out"), 1);
	cr_assert_eq(e2e_switch_stat(&env, "reversals"), 1, "one advice, however often repeated");
	cr_assert_eq(e2e_switch_stat(&env, "saf.queued"), 0);
}

Test(switch_fake_bank, reversal_repeats_back_off_and_never_stop_until_the_1430)
{
	struct test_msg req;
	struct received at_bank, answer, r;
	authorize_to_bank(&req, "000401", &at_bank);
	receive(&holder, &answer, 1110);
	cr_assert_str_eq(text(&answer, 39), "911");
	receive(&big, &r, 1420);
	/* Repeats after 300, 600, 1200, 1200 ms (reversal_retry_ms doubling up to
	 * reversal_retry_max_ms): never sooner than their back-off. */
	const int gaps[] = {RETRY_MS, 2 * RETRY_MS, 4 * RETRY_MS, 4 * RETRY_MS};
	for (size_t i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++) {
		int64_t before = test_now_ms();
		receive(&big, &r, 1421);
		cr_assert_geq(test_now_ms() - before, gaps[i] * 9 / 10, "repeat %zu came early", i + 1);
	}
	cr_assert_eq(e2e_switch_stat(&env, "saf.queued"), 1, "still owed after five sends");
	/* The operator sees it, its PAN masked. */
	json_t *list;
	cr_assert_eq(test_http(env.switch_http, "GET", "/saf", NULL, &list), 200);
	json_t *first = json_array_get(json_object_get(list, "advices"), 0);
	cr_assert_not_null(first);
	char masked[20];
	snprintf(masked, sizeof(masked), "%.6s******%s", req.text[2], req.text[2] + strlen(req.text[2]) - 4);
	cr_assert_str_eq(json_string_value(json_object_get(first, "pan")), masked);
	cr_assert_str_eq(json_string_value(json_object_get(first, "bank")), "big_bank");
	json_decref(list);
	bank_answer(&big, &r, "400");
	cr_assert_eq(e2e_wait_stat(&env, "saf.acknowledged", 1, WAIT_MS), 1);
	cr_assert_not(try_receive(&big, &r, 5 * RETRY_MS), "a repeat after the 1430");
	cr_assert_eq(e2e_switch_stat(&env, "reversals"), 1);
}

Test(switch_fake_bank, cardholder_reversal_of_an_approval_reaches_the_bank_in_its_terms)
{
	struct test_msg req, rev;
	struct received at_bank, answer, rev_at_bank, rev_answer;
	authorize_to_bank(&req, "000501", &at_bank);
	bank_answer(&big, &at_bank, "000");
	receive(&holder, &answer, 1110);

	tm_reversal_of(&rev, &req, "000502");
	send_msg(&holder, &rev);
	/* The network takes the advice (on disk) and answers for it at once ... */
	receive(&holder, &rev_answer, 1430);
	cr_assert_str_eq(text(&rev_answer, 39), "400");
	cr_assert_str_eq(text(&rev_answer, 11), "000502", "the reversal's own STAN");
	cr_assert_str_eq(text(&rev_answer, 56), rev.text[56], "the cardholder's DE 56");
	/* ... and owes it to the bank, in the bank's terms, until the bank's 1430. */
	receive(&big, &rev_at_bank, 1420);
	char want56[256];
	snprintf(want56, sizeof(want56), "1100%s%s11%s", text(&at_bank, 11), req.text[12], req.text[32]);
	cr_assert_str_eq(text(&rev_at_bank, 56), want56, "original as the bank knows it");
	cr_assert_str_eq(text(&rev_at_bank, 37), req.text[37]);
	bank_answer(&big, &rev_at_bank, "400");
	cr_assert_eq(e2e_wait_stat(&env, "saf.acknowledged", 1, WAIT_MS), 1);
	cr_assert_eq(e2e_switch_stat(&env, "cardholder_reversals_forwarded"), 1);
}

Test(switch_fake_bank, cardholder_reversal_of_a_refusal_is_answered_by_the_switch)
{
	/* Declined by the bank. */
	struct test_msg req, rev;
	struct received at_bank, answer, rev_answer;
	authorize_to_bank(&req, "000601", &at_bank);
	bank_answer(&big, &at_bank, "116");
	receive(&holder, &answer, 1110);
	tm_reversal_of(&rev, &req, "000602");
	send_msg(&holder, &rev);
	receive(&holder, &rev_answer, 1430);
	cr_assert_str_eq(text(&rev_answer, 39), "400");
	cr_assert_str_eq(text(&rev_answer, 11), "000602");

	/* Refused by the network's checks. */
	char pan[20];
	card(0, 4, pan);
	tm_authorization(&req, pan, "2001", "000603", "000000001000");
	expect_refusal(&req, "101");
	tm_reversal_of(&rev, &req, "000604");
	send_msg(&holder, &rev);
	receive(&holder, &rev_answer, 1430);
	cr_assert_str_eq(text(&rev_answer, 39), "400");

	/* Timed out: the switch is reversing it already. */
	authorize_to_bank(&req, "000605", &at_bank);
	receive(&holder, &answer, 1110);
	cr_assert_str_eq(text(&answer, 39), "911");
	struct received advice;
	receive(&big, &advice, 1420);
	bank_answer(&big, &advice, "400");
	tm_reversal_of(&rev, &req, "000606");
	send_msg(&holder, &rev);
	receive(&holder, &rev_answer, 1430);
	cr_assert_str_eq(text(&rev_answer, 39), "400");

	cr_assert_eq(e2e_wait_stat(&env, "cardholder_reversals_answered", 3, WAIT_MS), 3);
	cr_assert_eq(e2e_switch_stat(&env, "cardholder_reversals_forwarded"), 0, "the bank never sees them");
}

/* DE 56 of the original as the bank knows it: under the STAN the switch gave it. */
static void bank_original(const struct test_msg *req, const struct received *at_bank, char *out, size_t size)
{
	/* DE 11 n6, DE 12 n12, DE 32 of 11 digits: precisions say so (gcc -O2 format-truncation). */
	snprintf(out, size, "1100%.6s%.12s11%.11s", text(at_bank, 11), req->text[12], req->text[32]);
}

Test(switch_fake_bank, reversal_while_at_the_bank_goes_to_the_bank_before_the_cardholder_hears)
{
	struct test_msg req, rev;
	struct received at_bank, advice, rev_answer, late;
	authorize_to_bank(&req, "000701", &at_bank);
	tm_reversal_of(&rev, &req, "000702");
	send_msg(&holder, &rev);
	/* The bank gets the cardholder's reversal under the switch's STAN, and the
	 * cardholder its 1430 once that advice is on disk. */
	receive(&big, &advice, 1420);
	char want56[96];
	bank_original(&req, &at_bank, want56, sizeof want56);
	cr_assert_str_eq(text(&advice, 56), want56);
	receive(&holder, &rev_answer, 1430);
	cr_assert_str_eq(text(&rev_answer, 39), "400");
	cr_assert_str_eq(text(&rev_answer, 11), "000702");
	/* The bank approves the original after all: the cardholder, told it is
	 * reversed, gets no 1110, and the advice undoes the approval. */
	bank_answer(&big, &at_bank, "000");
	cr_assert(!try_receive(&holder, &late, 300), "an answer to a reversed authorization was relayed");
	bank_answer(&big, &advice, "400");
	cr_assert_eq(e2e_wait_stat(&env, "saf.acknowledged", 1, WAIT_MS), 1);
	cr_assert_eq(e2e_switch_stat(&env, "cardholder_reversals_forwarded"), 1);
	cr_assert_eq(e2e_switch_stat(&env, "cardholder_reversals_answered"), 0, "not answered from memory");
}

Test(switch_fake_bank, reversal_while_at_the_bank_survives_a_switch_killed_before_the_approval)
{
	struct test_msg req, rev;
	struct received at_bank, rev_answer, again, stale;
	authorize_to_bank(&req, "000711", &at_bank);
	tm_reversal_of(&rev, &req, "000712");
	send_msg(&holder, &rev);
	receive(&holder, &rev_answer, 1430);
	cr_assert_str_eq(text(&rev_answer, 39), "400");

	/* The switch dies at once with the cardholder told "reversed", well
	 * before its bank timeout would have queued an advice of its own; the
	 * bank then approves (debits) into the void. */
	cr_assert_neq(test_process_stop(&env.switch_pid, SIGKILL, 5000), -1);
	bank_answer(&big, &at_bank, "000");
	while (try_receive(&big, &stale, 200))
		; /* what the dead switch sent: not what this test is about */

	/* Restarted, the switch still owes the bank that reversal, under the same original. */
	cr_assert(e2e_start_switch(&env, 2), "switch did not restart (log %s)", env.switch_log);
	cr_assert(try_receive(&big, &again, WAIT_MS), "the advice was not sent again");
	cr_assert(again.m.mti == 1420 || again.m.mti == 1421, "got %u", again.m.mti);
	char want56[96];
	bank_original(&req, &at_bank, want56, sizeof want56);
	cr_assert_str_eq(text(&again, 56), want56);
	bank_answer(&big, &again, "400");
	cr_assert_eq(e2e_wait_stat(&env, "saf.acknowledged", 1, WAIT_MS), 1);
	cr_assert_eq(e2e_switch_stat(&env, "saf.queued"), 0);
}

Test(switch_fake_bank, reversal_of_an_unknown_original_goes_to_the_bank_unchanged)
{
	char pan[20];
	card(0, 5, pan);
	struct test_msg never_sent, rev;
	tm_authorization(&never_sent, pan, "3012", "000701", "000000001000");
	tm_reversal_of(&rev, &never_sent, "000702");
	send_msg(&holder, &rev);
	struct received at_bank, answer;
	receive(&holder, &answer, 1430);
	cr_assert_str_eq(text(&answer, 39), "400", "the network has taken the advice");
	cr_assert_str_eq(text(&answer, 11), "000702");
	receive(&big, &at_bank, 1420);
	cr_assert_str_eq(text(&at_bank, 56), rev.text[56]);
	/* 914 settles it too: the bank has nothing to undo. */
	bank_answer(&big, &at_bank, "914");
	cr_assert_eq(e2e_wait_stat(&env, "saf.acknowledged", 1, WAIT_MS), 1);
	cr_assert_eq(e2e_switch_stat(&env, "saf.queued"), 0);
}

Test(switch_fake_bank, malformed_datagrams_are_counted_and_answered_when_possible)
{
	cr_assert(test_udp_peer_send(&holder, env.switch_iso, "garbage!", 8));
	const uint8_t short_frame[] = {0x00, 0x40, '1', '1', '0', '0'}; /* announces 64 bytes, has 4 */
	cr_assert(test_udp_peer_send(&holder, env.switch_iso, short_frame, sizeof(short_frame)));

	/* A 1100 whose last element (DE 49) is not numeric: its keys are readable. */
	char pan[20];
	card(0, 6, pan);
	struct test_msg t;
	tm_authorization(&t, pan, "3012", "000801", "000000001000");
	uint8_t buf[1024];
	size_t n = tm_encode(&t, buf, sizeof(buf));
	buf[n - 1] = 'X';
	cr_assert(test_udp_peer_send(&holder, env.switch_iso, buf, n));
	struct received answer;
	receive(&holder, &answer, 1110);
	cr_assert_str_eq(text(&answer, 39), "904");
	cr_assert_str_eq(text(&answer, 11), "000801");

	/* A TAB in DE 42 (ans15, just before DE 49's three digits): a character
	 * outside the element's class is a format error like a letter in a number. */
	tm_authorization(&t, pan, "3012", "000802", "000000001000");
	n = tm_encode(&t, buf, sizeof(buf));
	buf[n - 4] = '\t';
	cr_assert(test_udp_peer_send(&holder, env.switch_iso, buf, n));
	receive(&holder, &answer, 1110);
	cr_assert_str_eq(text(&answer, 39), "904");
	cr_assert_str_eq(text(&answer, 11), "000802");

	cr_assert_eq(e2e_wait_stat(&env, "malformed", 4, WAIT_MS), 4);
	cr_assert_eq(e2e_switch_stat(&env, "forwarded"), 0);
}

Test(switch_fake_bank, route_changes_at_run_time_and_sighup_restores_the_config)
{
	json_t *routes;
	cr_assert_eq(test_http(env.switch_http, "PUT", "/routes",
			      "[{\"low\":\"51051000\",\"bank\":\"lil_bank\"},"
			      "{\"low\":\"51999100\",\"high\":\"51999199\",\"bank\":\"lil_bank\"}]",
			      &routes),
		     200);
	cr_assert_eq(json_integer_value(json_object_get(routes, "version")), 2);
	json_decref(routes);
	cr_assert_eq(test_http(env.switch_http, "PUT", "/routes", "[{\"low\":\"5105\",\"bank\":\"lil_bank\"}]", NULL),
		     400, "a 4-digit BIN is refused");

	struct test_msg req;
	char pan[20];
	card(0, 7, pan);
	tm_authorization(&req, pan, "3012", "000901", "000000001000");
	send_msg(&holder, &req);
	struct received at_bank, answer;
	receive(&lil, &at_bank, 1100);
	bank_answer(&lil, &at_bank, "000");
	receive(&holder, &answer, 1110);
	cr_assert_str_eq(text(&answer, 39), "000");

	json_t *after;
	pid_t pid = env.switch_pid;
	cr_assert_eq(kill(pid, SIGHUP), 0);
	long long version = 0;
	for (int i = 0; i < 500 && version < 3; i++) {
		cr_assert_eq(test_http(env.switch_http, "GET", "/routes", NULL, &after), 200);
		version = json_integer_value(json_object_get(after, "version"));
		if (version < 3)
			json_decref(after);
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	cr_assert_eq(version, 3, "SIGHUP reloads the routes");
	json_t *first = json_array_get(json_object_get(after, "routes"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(first, "bank")), "big_bank");
	json_decref(after);

	tm_authorization(&req, pan, "3012", "000902", "000000001000");
	send_msg(&holder, &req);
	receive(&big, &at_bank, 1100);
}

#define MANY 40

Test(switch_fake_bank, many_cardholders_are_answered_across_workers)
{
	struct test_udp_peer holders[MANY];
	struct test_msg reqs[MANY];
	for (int i = 0; i < MANY; i++) {
		cr_assert(test_udp_peer_open(&holders[i], 0));
		char pan[20], stan[7];
		card(i % 2, (size_t)(i % 10), pan);
		snprintf(stan, sizeof(stan), "%06d", 100000 + i);
		tm_authorization(&reqs[i], pan, "3012", stan, "000000001000");
		send_msg(&holders[i], &reqs[i]);
	}
	/* Both fake banks answer everything they get. */
	int answered = 0;
	while (answered < MANY) {
		struct received r;
		if (try_receive(&big, &r, 10)) {
			bank_answer(&big, &r, "000");
			answered++;
		} else if (try_receive(&lil, &r, 10)) {
			bank_answer(&lil, &r, "000");
			answered++;
		} else {
			cr_assert_lt(answered, MANY, "unreachable");
			cr_assert_lt(e2e_switch_stat(&env, "received"), MANY + 1);
			static int idle_rounds;
			cr_assert_lt(++idle_rounds, 500, "banks got only %d of %d", answered, MANY);
		}
	}
	for (int i = 0; i < MANY; i++) {
		struct received a;
		receive(&holders[i], &a, 1110);
		cr_assert_str_eq(text(&a, 11), reqs[i].text[11]);
		cr_assert_str_eq(text(&a, 37), reqs[i].text[37]);
		cr_assert_str_eq(text(&a, 39), "000");
		test_udp_peer_close(&holders[i]);
	}
	cr_assert_eq(e2e_wait_stat(&env, "approved", MANY, WAIT_MS), MANY);
	cr_assert_gt(e2e_switch_stat(&env, "handed_over"), 0, "two workers, 40 keys: some change worker");
}

Test(switch_fake_bank, sigterm_stops_cleanly_with_final_stats)
{
	int status = e2e_stop_switch(&env);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	FILE *f = fopen(env.switch_log, "r");
	cr_assert_not_null(f);
	char log[8192];
	size_t n = fread(log, 1, sizeof(log) - 1, f);
	log[n] = '\0';
	fclose(f);
	cr_assert(strstr(log, "\"totals\""), "final stats printed: %s", log);
}

Test(switch_fake_bank, control_plane_refuses_bad_input_with_reasons)
{
	json_t *body;
	cr_assert_eq(test_http(env.switch_http, "PUT", "/routes",
			      "[{\"low\":\"510510\",\"high\":\"510520\",\"bank\":\"big_bank\"},"
			      "{\"low\":\"510515\",\"bank\":\"lil_bank\"}]",
			      &body),
		     400);
	cr_assert(strstr(json_string_value(json_object_get(body, "error")), "overlap"));
	json_decref(body);
	cr_assert_eq(test_http(env.switch_http, "PUT", "/routes", "{\"not\":\"a list\"}", NULL), 400);
	cr_assert_eq(test_http(env.switch_http, "PUT", "/routes", "[{\"low\":\"510510\",\"bank\":\"nobody\"}]", NULL),
		     400, "an unknown bank without an endpoint");
	cr_assert_eq(test_http(env.switch_http, "PUT", "/routes",
			      "[{\"low\":\"510510\",\"bank\":\"x\",\"host\":\"127.0.0.1\",\"port\":70000}]", NULL),
		     400);
	cr_assert_eq(test_http(env.switch_http, "POST", "/cards", "{\"pan\":\"12ab\",\"expiry\":\"3012\"}", NULL), 400);
	cr_assert_eq(test_http(env.switch_http, "POST", "/cards",
			      "{\"pan\":\"5105100000000001\",\"expiry\":\"3012\",\"state\":\"lost\"}", NULL),
		     400);
	cr_assert_eq(test_http(env.switch_http, "GET", "/routes", NULL, &body), 200);
	cr_assert_eq(json_integer_value(json_object_get(body, "version")), 1, "refused changes publish nothing");
	json_decref(body);

	/* A route to an endpoint of its own, not in the config. */
	char put[256];
	snprintf(put, sizeof(put),
		 "[{\"low\":\"51051000\",\"bank\":\"elsewhere\",\"host\":\"127.0.0.1\",\"port\":%u}]", env.lil_iso);
	cr_assert_eq(test_http(env.switch_http, "PUT", "/routes", put, NULL), 200);
	char pan[20];
	card(0, 8, pan);
	struct test_msg req;
	tm_authorization(&req, pan, "3012", "001001", "000000001000");
	send_msg(&holder, &req);
	struct received at_bank;
	receive(&lil, &at_bank, 1100);
}
