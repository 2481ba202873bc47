/*
 * The real switch in front of the real bank-node (big_bank; lil_bank is left
 * down): approval with the debit visible in the bank's balance, declines for
 * insufficient funds and over the fraud limit, a cardholder reversal that
 * restores the balance, a reversal of a refusal that the switch answers
 * itself, and a bank that is down (911, then the switch's reversal advice).
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e2e_support.h"
#include "message_builder.h"

#define WAIT_MS 8000
#define INITIAL_BALANCE 100000
#define FRAUD_LIMIT 150000

static struct e2e_env env;
static struct test_udp_peer holder;

static void setup(void)
{
	struct e2e_settings s = {
		.base_port = 13120,
		.bank_timeout_ms = 1000, /* sanitizer builds of two processes on a shared box */
		.reversal_retry_ms = 200,
		.reversal_retry_max_ms = 1600,
		.outcome_memory = 4096,
		.cards_per_bank = 10,
		.initial_balance = INITIAL_BALANCE,
		.big_max_amount = FRAUD_LIMIT,
	};
	cr_assert(e2e_prepare(&env, &s));
	cr_assert(test_udp_peer_open(&holder, 0));
	if (!e2e_start_bank(&env, 0)) {
		e2e_cleanup(&env, true);
		cr_skip_test("bank-node is not built or did not start");
	}
	if (!e2e_start_switch(&env, 2)) {
		/* A failed .init gets no .fini: stop the bank here, or it outlives the test on its ports. */
		e2e_cleanup(&env, true);
		cr_assert_fail("switch did not start");
	}
}

static void teardown(void)
{
	test_udp_peer_close(&holder);
	e2e_cleanup(&env, true);
}

TestSuite(switch_bank_node, .init = setup, .fini = teardown, .timeout = 120);

static void exchange(const struct test_msg *req, uint16_t mti, uint8_t *buf, size_t cap, struct iso_msg *answer)
{
	uint8_t out[ISO_MAX_MESSAGE + 2];
	size_t n = tm_encode(req, out, sizeof(out));
	cr_assert_gt(n, 0);
	cr_assert(test_udp_peer_send(&holder, env.switch_iso, out, n));
	size_t got = e2e_receive_frame_from(&holder, buf, cap, WAIT_MS);
	cr_assert_gt(got, 0, "no answer to %u", req->m.mti);
	cr_assert(tm_decode_framed(buf, got, answer));
	cr_assert_eq(answer->mti, mti);
}

static const char *field(const struct iso_msg *m, int f)
{
	static char buf[4][64];
	static int next;
	char *out = buf[next++ % 4];
	return tm_text(m, f, out, 64);
}

static long long balance(size_t index)
{
	char path[128];
	snprintf(path, sizeof(path), "/get-balance/uuid/big_bank-%zu", index);
	json_t *body;
	long status = test_http(env.big_http, "GET", path, NULL, &body);
	long long b = status == 200 ? (long long)json_integer_value(json_object_get(body, "balance")) : -1;
	json_decref(body);
	return b;
}

/* The balance once it equals want, or its last value after timeout_ms: the network answers a
 * cardholder's reversal as soon as its advice is on disk, the bank credits a moment later. */
static long long balance_when(size_t index, long long want, int timeout_ms)
{
	int64_t deadline = test_now_ms() + timeout_ms;
	long long b = balance(index);
	while (b != want && test_now_ms() < deadline) {
		test_sleep_ms(20);
		b = balance(index);
	}
	return b;
}

static void pay(size_t card_index, const char *stan, const char *amount, struct test_msg *req, struct iso_msg *ans,
		uint8_t *buf, size_t cap)
{
	struct population_card c;
	e2e_card(&env, 0, card_index, &c);
	tm_authorization(req, c.pan, c.expiry, stan, amount);
	exchange(req, 1110, buf, cap, ans);
	cr_assert_str_eq(field(ans, 11), stan);
}

Test(switch_bank_node, approval_debits_and_cardholder_reversal_restores)
{
	uint8_t buf[ISO_MAX_MESSAGE + 2], rbuf[ISO_MAX_MESSAGE + 2];
	struct test_msg req, rev;
	struct iso_msg ans, rans;
	cr_assert_eq(balance(0), INITIAL_BALANCE);
	pay(0, "000011", "000000002500", &req, &ans, buf, sizeof(buf));
	cr_assert_str_eq(field(&ans, 39), "000");
	cr_assert_eq(balance(0), INITIAL_BALANCE - 2500);

	tm_reversal_of(&rev, &req, "000012");
	exchange(&rev, 1430, rbuf, sizeof(rbuf), &rans);
	cr_assert_str_eq(field(&rans, 39), "400");
	cr_assert_str_eq(field(&rans, 11), "000012");
	cr_assert_eq(balance_when(0, INITIAL_BALANCE, WAIT_MS), INITIAL_BALANCE, "the reversal gave the money back");
	cr_assert_eq(e2e_wait_stat(&env, "saf.acknowledged", 1, WAIT_MS), 1, "and the bank acknowledged it");

	/* A repeat (1421) is harmless: the bank's reversal is idempotent. */
	tm_reversal_of(&rev, &req, "000012");
	rev.m.mti = 1421;
	exchange(&rev, 1430, rbuf, sizeof(rbuf), &rans);
	cr_assert_str_eq(field(&rans, 39), "400");
	cr_assert_eq(balance(0), INITIAL_BALANCE);
}

Test(switch_bank_node, declines_for_funds_and_fraud_limit)
{
	uint8_t buf[ISO_MAX_MESSAGE + 2];
	struct test_msg req;
	struct iso_msg ans;
	pay(1, "000021", "000000120000", &req, &ans, buf, sizeof(buf)); /* above the balance, below the limit */
	cr_assert_str_eq(field(&ans, 39), "116");
	pay(1, "000022", "000000200000", &req, &ans, buf, sizeof(buf)); /* above the fraud limit */
	cr_assert_str_neq(field(&ans, 39), "000");
	cr_assert_eq(balance(1), INITIAL_BALANCE);
	cr_assert_eq(e2e_wait_stat(&env, "declined", 2, WAIT_MS), 2);
}

Test(switch_bank_node, reversal_of_a_decline_never_reaches_the_bank)
{
	uint8_t buf[ISO_MAX_MESSAGE + 2], rbuf[ISO_MAX_MESSAGE + 2];
	struct test_msg req, rev;
	struct iso_msg ans, rans;
	pay(2, "000031", "000000120000", &req, &ans, buf, sizeof(buf));
	cr_assert_str_eq(field(&ans, 39), "116");
	tm_reversal_of(&rev, &req, "000032");
	exchange(&rev, 1430, rbuf, sizeof(rbuf), &rans);
	cr_assert_str_eq(field(&rans, 39), "400");
	cr_assert_eq(e2e_switch_stat(&env, "cardholder_reversals_answered"), 1);
	cr_assert_eq(e2e_switch_stat(&env, "cardholder_reversals_forwarded"), 0);
	cr_assert_eq(balance(2), INITIAL_BALANCE);
}

Test(switch_bank_node, bank_down_gives_911_and_reversal_advice)
{
	/* lil_bank is not running. */
	uint8_t buf[ISO_MAX_MESSAGE + 2];
	struct population_card c;
	e2e_card(&env, 1, 0, &c);
	struct test_msg req;
	struct iso_msg ans;
	tm_authorization(&req, c.pan, c.expiry, "000041", "000000001000");
	exchange(&req, 1110, buf, sizeof(buf), &ans);
	cr_assert_str_eq(field(&ans, 39), "911");
	cr_assert_eq(e2e_switch_stat(&env, "reversals"), 1);
	/* Its advice is on disk and repeated for as long as the bank is away: never abandoned. */
	cr_assert_eq(e2e_switch_stat(&env, "saf.on_disk"), 1);
	cr_assert_geq(e2e_wait_stat(&env, "saf.banks.lil_bank.repeats", 3, WAIT_MS), 3);
	cr_assert_eq(e2e_switch_stat(&env, "saf.queued"), 1);
}

/* The page passes Prometheus' own linter. */
static void assert_promtool_accepts(const char *page, const char *whose)
{
	FILE *p = popen("promtool check metrics > /dev/null 2>&1", "w");
	cr_assert_not_null(p);
	fputs(page, p);
	cr_assert_eq(pclose(p), 0, "promtool check metrics refused the %s page:\n%s", whose, page);
}

/* True when `name` is a metric of the page: a sample line starts with it, or
 * its family is declared (a per-bank family has no sample before its first bank). */
static bool page_has_metric(const char *page, const char *name)
{
	char declared[128];
	snprintf(declared, sizeof declared, "# TYPE %s ", name);
	if (strstr(page, declared))
		return true;
	size_t n = strlen(name);
	for (const char *at = page; (at = strstr(at, name)) != NULL; at += n)
		if ((at == page || at[-1] == '\n') && (at[n] == '{' || at[n] == ' '))
			return true;
	return false;
}

Test(switch_bank_node, metrics_pages_count_the_payment_and_feed_the_dashboard)
{
	uint8_t buf[ISO_MAX_MESSAGE + 2];
	struct test_msg req;
	struct iso_msg ans;
	pay(3, "000091", "000000001000", &req, &ans, buf, sizeof(buf));
	cr_assert_str_eq(field(&ans, 39), "000");
	cr_assert_eq(e2e_wait_stat(&env, "approved", 1, WAIT_MS), 1);

	char *sw = test_http_get_text(env.switch_http, "/metrics");
	char *bank = test_http_get_text(env.big_http, "/metrics");
	cr_assert(sw && bank, "both agents serve /metrics");
	cr_assert(strstr(sw, "\niso_switch_approved_total{network=\"mastercard\"} 1\n"), "%s", sw);
	cr_assert(strstr(sw, "\niso_switch_bank_latency_seconds_count{network=\"mastercard\",bank=\"big_bank\"} 1\n"),
		  "%s", sw);
	cr_assert(strstr(sw, "iso_switch_bank_latency_seconds_bucket{network=\"mastercard\",bank=\"big_bank\",le=\"+Inf\"} 1\n"));
	cr_assert(strstr(bank, "\niso_bank_answers_total{bank=\"big_bank\",action=\"000\"} 1\n"), "%s", bank);
	cr_assert(strstr(bank, "\niso_bank_decision_latency_seconds_count{bank=\"big_bank\"} 1\n"), "%s", bank);
	assert_promtool_accepts(sw, "switch");
	assert_promtool_accepts(bank, "bank");

	/* Every metric the shipped Grafana dashboard plots is on one of the pages. */
	char path[512];
	snprintf(path, sizeof path, "%s/tools/grafana/iso8583-switch.json", getenv("ISO_SOURCE_DIR"));
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	static char dashboard[1 << 16];
	size_t len = fread(dashboard, 1, sizeof dashboard - 1, f);
	fclose(f);
	dashboard[len] = '\0';
	size_t checked = 0;
	for (const char *at = dashboard; (at = strstr(at, "iso_")) != NULL;) {
		char name[96];
		size_t n = 0;
		while (n < sizeof name - 1 && ((at[n] >= 'a' && at[n] <= 'z') || (at[n] >= '0' && at[n] <= '9') || at[n] == '_'))
			name[n] = at[n], n++;
		name[n] = '\0';
		at += n;
		if (strncmp(name, "iso_switch_", 11) != 0 && strncmp(name, "iso_bank_", 9) != 0)
			continue; /* the dashboard's own uid, not a metric */
		cr_assert(page_has_metric(sw, name) || page_has_metric(bank, name), "the dashboard plots %s, which no agent serves",
			  name);
		checked++;
	}
	cr_assert_gt(checked, 20);
	free(sw);
	free(bank);
}
