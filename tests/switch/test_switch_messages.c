#include <criterion/criterion.h>

#include "message_builder.h"
#include "network_checks.h"
#include "saf_messages.h"
#include "switch_messages.h"

Test(switch_messages, answer_echoes_the_request_with_an_action_code)
{
	struct test_msg req;
	tm_authorization(&req, "5105100000000001", "3012", "000042", "000000001000");
	uint8_t buf[1024];
	size_t n = switch_build_answer(&req.m, ACTION_INVALID_CARD, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	struct iso_msg m;
	cr_assert(tm_decode_framed(buf, n, &m));
	char t[40];
	cr_assert_eq(m.mti, 1110);
	cr_assert_str_eq(tm_text(&m, 39, t, sizeof(t)), "111");
	cr_assert_str_eq(tm_text(&m, 11, t, sizeof(t)), "000042");
	cr_assert_str_eq(tm_text(&m, 37, t, sizeof(t)), req.text[37]);
	cr_assert_str_eq(tm_text(&m, 41, t, sizeof(t)), req.text[41]);
	cr_assert_not(iso_has(&m, 14), "expiry is not echoed");
}

Test(switch_messages, switch_reversal_names_the_stan_the_bank_saw)
{
	struct test_msg req;
	tm_authorization(&req, "5105100000000001", "3012", "000042", "000000001000");
	struct pending_txn p;
	memset(&p, 0, sizeof(p));
	cr_assert(pending_fields_capture(&req.m, &p.f));
	uint8_t buf[1024];
	struct saf_record r;
	saf_record_of_pending(&p, 4, 17, "big_bank", &r);
	cr_assert_eq(r.kind, SAF_SWITCH_REVERSAL);
	size_t n = saf_build_advice(&r, false, buf, sizeof(buf));
	struct iso_msg m;
	cr_assert(tm_decode_framed(buf, n, &m));
	char t[40];
	cr_assert_eq(m.mti, 1420);
	cr_assert_str_eq(tm_text(&m, 11, t, sizeof(t)), "450017", "the reversal's own STAN");
	cr_assert_str_eq(tm_text(&m, 56, t, sizeof(t)), "1100400017261125120000" "11" "30000000003");
	cr_assert_str_eq(tm_text(&m, 24, t, sizeof(t)), "400");
	cr_assert_str_eq(tm_text(&m, 4, t, sizeof(t)), "000000001000");
	n = saf_build_advice(&r, true, buf, sizeof(buf));
	cr_assert(tm_decode_framed(buf, n, &m));
	cr_assert_eq(m.mti, 1421);

	n = switch_build_pending_answer(&p, ACTION_ISSUER_TIMEOUT, buf, sizeof(buf));
	cr_assert(tm_decode_framed(buf, n, &m));
	cr_assert_eq(m.mti, 1110);
	cr_assert_str_eq(tm_text(&m, 39, t, sizeof(t)), "911");
	cr_assert_str_eq(tm_text(&m, 11, t, sizeof(t)), "000042", "the cardholder's STAN");
}

Test(switch_messages, a_cardholder_reversal_reaches_the_bank_with_the_switch_stan_and_the_bank_original)
{
	struct test_msg auth, rev;
	tm_authorization(&auth, "5105100000000001", "3012", "000042", "000000001000");
	tm_reversal_of(&rev, &auth, "000043");
	struct pending_txn p;
	memset(&p, 0, sizeof(p));
	cr_assert(pending_fields_capture(&rev.m, &p.f));
	strcpy(p.bank_original, "110010000026112512000011" "30000000003");
	struct saf_record r;
	saf_record_of_pending(&p, 1, 3, "big_bank", &r);
	cr_assert_eq(r.kind, SAF_CARDHOLDER_REVERSAL);
	uint8_t buf[1024];
	size_t n = saf_build_advice(&r, false, buf, sizeof(buf));
	struct iso_msg m;
	cr_assert(tm_decode_framed(buf, n, &m));
	char t[40];
	cr_assert_eq(m.mti, 1420);
	cr_assert_str_eq(tm_text(&m, 11, t, sizeof(t)), "150003");
	cr_assert_str_eq(tm_text(&m, 56, t, sizeof(t)), "110010000026112512000011" "30000000003");
	cr_assert_str_eq(tm_text(&m, 2, t, sizeof(t)), "5105100000000001");
	cr_assert_str_eq(tm_text(&m, 37, t, sizeof(t)), rev.text[37]);

	/* The cardholder's answer once it is on disk: its own STAN and DE 56. */
	n = switch_build_pending_reversal_answer(&p, ACTION_REVERSAL_ACCEPTED, buf, sizeof(buf));
	cr_assert(tm_decode_framed(buf, n, &m));
	cr_assert_eq(m.mti, 1430);
	cr_assert_str_eq(tm_text(&m, 11, t, sizeof(t)), "000043");
	cr_assert_str_eq(tm_text(&m, 39, t, sizeof(t)), "400");
	cr_assert_str_eq(tm_text(&m, 56, t, sizeof(t)), rev.text[56]);
}

Test(switch_messages, readable_prefix_of_a_message_with_a_bad_element)
{
	struct test_msg req;
	tm_authorization(&req, "5105100000000001", "3012", "000042", "000000001000");
	uint8_t buf[1024];
	size_t n = tm_encode(&req, buf, sizeof(buf));
	buf[n - 2] = 'X'; /* inside DE 49, the last element */
	struct iso_msg m;
	struct iso_error e;
	cr_assert_neq(iso_decode(&iso_profile_ascii, buf + 2, n - 2, &m, &e), ISO_OK);
	cr_assert_eq(e.field, 49);
	uint8_t scratch[1024];
	cr_assert(switch_decode_readable_prefix(buf + 2, n - 2, &e, scratch, sizeof(scratch), &m));
	char t[40];
	cr_assert_eq(m.mti, 1100);
	cr_assert_str_eq(tm_text(&m, 11, t, sizeof(t)), "000042");
	cr_assert_str_eq(tm_text(&m, 41, t, sizeof(t)), req.text[41]);
	cr_assert_not(iso_has(&m, 49), "the faulty element is left out");

	/* A bad amount (DE 4) comes before the keys: nothing usable. */
	n = tm_encode(&req, buf, sizeof(buf));
	struct iso_msg good;
	cr_assert(tm_decode_framed(buf, n, &good));
	buf[(size_t)(good.fields[4].data - buf) + 3] = 'X';
	cr_assert_neq(iso_decode(&iso_profile_ascii, buf + 2, n - 2, &m, &e), ISO_OK);
	cr_assert(switch_decode_readable_prefix(buf + 2, n - 2, &e, scratch, sizeof(scratch), &m));
	cr_assert_not(iso_has(&m, 11), "the keys come after the faulty element");
	cr_assert(iso_has(&m, 3));

	struct iso_error bogus = {.code = ISO_ERR_NOT_DIGIT, .field = 90, .offset = 40};
	cr_assert_not(switch_decode_readable_prefix(buf + 2, n - 2, &bogus, scratch, sizeof(scratch), &m),
		      "secondary-bitmap elements are not cut");
}
