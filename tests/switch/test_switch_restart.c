/*
 * What a switch restart must not do to a cardholder's money, with the real
 * switch and bank nodes (MACs on every link). A restarted switch has forgotten
 * every transaction and forwards what comes under STANs of its own, so the
 * bank is the one that must recognise them (docs/protocol.md, "Repeats"):
 *   - the acquirer's repeat (1101) of an 1100 whose answer the crash swallowed
 *     gets the original's answer and approval code, and is not debited again;
 *   - an original that comes after its own reversal (forwarded with the
 *     cardholder's STAN by a switch that never saw the original) is declined
 *     under the switch's new STAN, and never debits.
 * Both fail on a bank that matches only the exact key. Without a restart, a
 * repeat of an answered 1100 gets the same answer again (from the bank's
 * journal), and a repeat of a timed-out one its 911 again, never a debit.
 * Ports 13220-13239.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ecosystem_harness.h"
#include "message_builder.h"
#include "test_mac_keys.h"
#include "test_udp_peer.h"

#define ANSWER_MS 8000
#define INITIAL_BALANCE 100000
#define ACQUIRER "acquirer:mastercard"

static struct eco_env env;
static struct test_udp_peer holder;
static char key_file[400];

static void start(void)
{
	struct eco_settings s = {.base_port = 13220, .keepalive_s = 30, .idle_timeout_s = 90, .bank_timeout_ms = 2000,
				 .cards_per_bank = 4, .initial_balance = INITIAL_BALANCE, .tag = "restart"};
	cr_assert(eco_prepare(&env, &s), "cannot prepare %s", env.dir);
	snprintf(key_file, sizeof(key_file), "%s/iso_mac.keys", env.dir);
	cr_assert(eco_start_all(&env, 1), "the ecosystem did not start");
	cr_assert(test_udp_peer_open(&holder, 0));
}

static void cleanup(void)
{
	test_udp_peer_close(&holder);
	eco_cleanup(&env);
}

/* SIGKILL, then a new switch on the same store: every worker's memory is gone. */
static void crash_and_restart_the_switch(void)
{
	eco_kill_switch(&env);
	cr_assert(eco_start_switch(&env, 1), "the switch did not come back");
}

/* big_bank's card k paying 10.00 with STAN stan (RRN and terminal derived from it). */
static void payment(struct test_msg *t, size_t k, const char *stan)
{
	struct population_card c;
	eco_card(&env, 0, k, &c);
	tm_authorization(t, c.pan, c.expiry, stan, "000000001000");
}

/* Signs and sends t to the switch; the answer decoded into answer (false: none within ANSWER_MS). */
static bool ask(const struct test_msg *t, uint8_t in[ISO_MAX_MESSAGE + 2], struct iso_msg *answer)
{
	uint8_t frame[ISO_MAX_MESSAGE + 2];
	size_t n = tm_encode(t, frame, sizeof(frame));
	cr_assert(n > 0);
	n = test_mac_sign_framed(key_file, ACQUIRER, frame, n, sizeof(frame));
	cr_assert(n > 0, "cannot sign");
	cr_assert(test_udp_peer_send(&holder, env.switch_udp, frame, n));
	size_t got = test_udp_peer_receive(&holder, in, ISO_MAX_MESSAGE + 2, ANSWER_MS, NULL);
	return got > 0 && tm_decode_framed(in, got, answer);
}

Test(switch_restart, a_repeat_after_a_restart_gets_the_original_answer_and_is_debited_once, .init = start,
     .fini = cleanup, .timeout = 120)
{
	struct test_msg pay;
	payment(&pay, 0, "424201");
	uint8_t in[ISO_MAX_MESSAGE + 2];
	struct iso_msg answer;
	char action[4], approval[8], again_approval[8], stan[8];
	cr_assert(ask(&pay, in, &answer), "no answer to the 1100");
	cr_assert_str_eq(tm_text(&answer, 39, action, sizeof(action)), "000");
	tm_text(&answer, 38, approval, sizeof(approval));
	cr_assert_eq(eco_balance(&env, 0, 0), INITIAL_BALANCE - 1000);

	/* A repeat to the same switch, which remembers the approval but not its code: the bank's journal answers. */
	struct test_msg repeat = pay;
	repeat.m.mti = 1101;
	cr_assert(ask(&repeat, in, &answer), "no answer to the 1101 before the crash");
	cr_assert_str_eq(tm_text(&answer, 39, action, sizeof(action)), "000");
	cr_assert_str_eq(tm_text(&answer, 38, again_approval, sizeof(again_approval)), approval);
	cr_assert_eq(eco_switch_stat(&env, "totals.repeats"), 1);
	cr_assert_eq(eco_balance(&env, 0, 0), INITIAL_BALANCE - 1000);

	/* The crash swallowed that answer, as far as the acquirer knows: it repeats the request.
	 * Another payment first, so that the new switch's STAN for the repeat is not, by
	 * chance, the one its predecessor gave the original (both start at the first slot). */
	crash_and_restart_the_switch();
	struct test_msg other;
	payment(&other, 2, "424209");
	cr_assert(ask(&other, in, &answer), "no answer to another card's 1100");
	cr_assert_str_eq(tm_text(&answer, 39, action, sizeof(action)), "000");
	cr_assert(ask(&repeat, in, &answer), "no answer to the 1101");
	cr_assert_eq(answer.mti, 1110);
	cr_assert_str_eq(tm_text(&answer, 39, action, sizeof(action)), "000");
	cr_assert_str_eq(tm_text(&answer, 38, again_approval, sizeof(again_approval)), approval,
			 "the original's approval, not a second one");
	cr_assert_str_eq(tm_text(&answer, 11, stan, sizeof(stan)), "424201", "matched by the cardholder's STAN");
	cr_assert_eq(eco_balance(&env, 0, 0), INITIAL_BALANCE - 1000, "debited once");
}

Test(switch_restart, a_late_original_after_its_reversal_and_a_restart_never_debits, .init = start, .fini = cleanup,
     .timeout = 120)
{
	struct test_msg original, reversal;
	payment(&original, 1, "424202");
	tm_reversal_of(&reversal, &original, "424203");
	uint8_t in[ISO_MAX_MESSAGE + 2];
	struct iso_msg answer;
	char action[4];
	/* The cardholder gave up on an original still in the network and reversed it first. */
	cr_assert(ask(&reversal, in, &answer), "no answer to the 1420");
	cr_assert_eq(answer.mti, 1430);
	cr_assert(eco_wait_switch_drained(&env, 30000), "the reversal never reached the bank");

	crash_and_restart_the_switch();
	cr_assert(ask(&original, in, &answer), "no answer to the late 1100");
	cr_assert_str_eq(tm_text(&answer, 39, action, sizeof(action)), "100", "reversed before it came: declined");
	cr_assert_eq(eco_balance(&env, 0, 1), INITIAL_BALANCE, "never debited");
}

Test(switch_restart, a_repeat_of_a_timed_out_payment_hears_911_again_and_is_not_charged, .init = start,
     .fini = cleanup, .timeout = 120)
{
	struct test_msg pay;
	payment(&pay, 3, "424211");
	uint8_t in[ISO_MAX_MESSAGE + 2];
	struct iso_msg answer;
	char action[4];
	eco_freeze_bank(&env, 0, true); /* big_bank stops answering: the switch times out (2 s) */
	cr_assert(ask(&pay, in, &answer), "no answer to the 1100");
	cr_assert_str_eq(tm_text(&answer, 39, action, sizeof(action)), "911");
	struct test_msg repeat = pay;
	repeat.m.mti = 1101;
	cr_assert(ask(&repeat, in, &answer), "no answer to the 1101");
	cr_assert_str_eq(tm_text(&answer, 39, action, sizeof(action)), "911", "the timeout again, not a new try");
	eco_freeze_bank(&env, 0, false);
	cr_assert(eco_wait_switch_drained(&env, 60000), "the switch's reversal advice never completed");
	cr_assert_eq(eco_balance(&env, 0, 3), INITIAL_BALANCE, "a 911 is never charged");
}

/*
 * The switch stored the advice of a timed-out payment and was killed (as if
 * before its 911 left): the restarted switch reloads the advice, and the
 * acquirer's repeat hears 911 at once, never the approval the frozen bank
 * still holds and the advice is about to take back.
 */
Test(switch_restart, a_repeat_of_a_payment_whose_advice_was_reloaded_hears_911_and_stays_unforwarded,
     .init = start, .fini = cleanup, .timeout = 120)
{
	struct test_msg pay;
	payment(&pay, 2, "424221");
	uint8_t in[ISO_MAX_MESSAGE + 2];
	struct iso_msg answer;
	char action[4];
	eco_freeze_bank(&env, 0, true);
	cr_assert(ask(&pay, in, &answer), "no answer to the 1100");
	cr_assert_str_eq(tm_text(&answer, 39, action, sizeof(action)), "911");
	cr_assert(eco_wait_switch_stat(&env, "saf.on_disk", 1, 10000), "the advice never reached the disk");

	crash_and_restart_the_switch();
	cr_assert(eco_wait_switch_stat(&env, "saf.loaded", 1, 10000), "the restarted switch did not reload the advice");
	struct test_msg repeat = pay;
	repeat.m.mti = 1101;
	cr_assert(ask(&repeat, in, &answer), "no answer to the 1101");
	cr_assert_str_eq(tm_text(&answer, 39, action, sizeof(action)), "911");
	cr_assert_eq(eco_switch_stat(&env, "totals.forwarded"), 0, "the repeat must not reach the bank");
	cr_assert_eq(eco_switch_stat(&env, "totals.repeats"), 1);

	eco_freeze_bank(&env, 0, false);
	cr_assert(eco_wait_switch_drained(&env, 60000), "the reloaded advice never completed");
	cr_assert_eq(eco_balance(&env, 0, 2), INITIAL_BALANCE, "reversed: never charged");
}
