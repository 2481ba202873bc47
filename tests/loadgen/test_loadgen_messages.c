/* The cardholder's 1100 and 1420 as the switch and the bank will decode them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "framing.h"
#include "iso8583.h"
#include "loadgen_messages.h"

static const struct purchase_context context = {"30000000003", "978", "LOADGEN00000001"};

static struct purchase sample(void)
{
	struct purchase p = {.pan = "5105100000000017", .expiry = "3012", .amount = 12345, .stan = 42};
	loadgen_rrn(p.rrn, 3, 9876543210ull);
	loadgen_terminal_id(p.terminal, 3, 7);
	loadgen_format_times(1764000000, p.transmission, p.local_time);
	return p;
}

static void decode_framed(const uint8_t *buf, size_t n, struct iso_msg *m)
{
	const uint8_t *msg;
	size_t len, used;
	cr_assert_eq(frame_next(FRAME_HEADER_BINARY2, buf, n, ISO_MAX_MESSAGE, &msg, &len, &used), FRAME_OK);
	cr_assert_eq(used, n, "exactly one frame");
	struct iso_error e;
	cr_assert_eq(iso_decode(&iso_profile_ascii, msg, len, m, &e), ISO_OK, "field %d", e.field);
}

Test(loadgen_messages, authorization_carries_every_field_of_the_profile)
{
	struct purchase p = sample();
	uint8_t buf[1024];
	enum iso_error_code err;
	size_t n = loadgen_encode_authorization(&context, &p, buf, sizeof buf, &err);
	cr_assert(n > 0, "encode: %d", err);
	struct iso_msg m;
	decode_framed(buf, n, &m);
	cr_expect_eq(m.mti, 1100);
	static const int fields[] = {2, 3, 4, 7, 11, 12, 14, 22, 24, 32, 37, 41, 42, 49};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		cr_expect(iso_has(&m, fields[i]), "DE %d missing", fields[i]);
	cr_expect(iso_field_equals(&m, 2, "5105100000000017"));
	cr_expect(iso_field_equals(&m, 4, "000000012345"));
	cr_expect(iso_field_equals(&m, 11, "000042"));
	cr_expect(iso_field_equals(&m, 14, "3012"));
	cr_expect(iso_field_equals(&m, 24, "100"));
	cr_expect(iso_field_equals(&m, 32, "30000000003"));
	cr_expect(iso_field_equals(&m, 37, "039876543210"));
	cr_expect(iso_field_equals(&m, 41, "L0300007"));
	cr_expect(iso_field_equals(&m, 49, "978"));
	cr_expect(iso_field_equals(&m, 7, "1124160000"), "DE 7 is UTC MMDDhhmmss");
}

Test(loadgen_messages, reversal_points_at_the_original)
{
	struct purchase p = sample();
	uint8_t buf[1024];
	enum iso_error_code err;
	char transmission[11], local_time[13];
	loadgen_format_times(1764000003, transmission, local_time);
	size_t n = loadgen_encode_reversal(&context, &p, 43, transmission, local_time, false, buf, sizeof buf, &err);
	cr_assert(n > 0, "encode: %d", err);
	struct iso_msg m;
	decode_framed(buf, n, &m);
	cr_expect_eq(m.mti, 1420);
	cr_expect(iso_field_equals(&m, 11, "000043"), "a new STAN");
	cr_expect(iso_field_equals(&m, 24, "400"));
	cr_expect(iso_field_equals(&m, 37, p.rrn), "RRN of the original");
	cr_expect(iso_field_equals(&m, 41, p.terminal), "terminal of the original");
	cr_expect(iso_field_equals(&m, 4, "000000012345"), "amount of the original");
	char expected56[64];
	snprintf(expected56, sizeof expected56, "1100000042%s1130000000003", p.local_time);
	char de56[64];
	cr_assert(iso_field_text(&m, 56, de56, sizeof de56) > 0);
	cr_expect_str_eq(de56, expected56, "MTI + STAN + DE 12 + LL + acquirer");
	cr_expect_not(iso_has(&m, 14));

	/* The repeat is the same message as a 1421. */
	uint8_t again[1024];
	size_t k = loadgen_encode_reversal(&context, &p, 43, transmission, local_time, true, again, sizeof again, &err);
	cr_assert_eq(k, n);
	struct iso_msg r;
	decode_framed(again, k, &r);
	cr_expect_eq(r.mti, 1421);
	cr_expect_eq(memcmp(again + 6, buf + 6, n - 6), 0, "only the MTI differs");
}

Test(loadgen_messages, reference_numbers_round_trip_and_reject_strangers)
{
	char rrn[LOADGEN_RRN_LEN + 1], terminal[LOADGEN_TERMINAL_LEN + 1];
	unsigned thread, k;
	uint64_t sequence;
	loadgen_rrn(rrn, 12, 4294967296ull);
	cr_assert(loadgen_rrn_parse(rrn, strlen(rrn), &thread, &sequence));
	cr_expect_eq(thread, 12);
	cr_expect_eq(sequence, 4294967296ull);
	cr_expect_not(loadgen_rrn_parse("12345678901A", 12, &thread, &sequence));
	cr_expect_not(loadgen_rrn_parse("1234", 4, &thread, &sequence));
	loadgen_terminal_id(terminal, 5, 99999);
	cr_expect_str_eq(terminal, "L0599999");
	cr_assert(loadgen_terminal_parse(terminal, 8, &thread, &k));
	cr_expect(thread == 5 && k == 99999);
	cr_expect_not(loadgen_terminal_parse("T0599999", 8, &thread, &k));
}
