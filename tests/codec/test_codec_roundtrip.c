/* Round trips of every message shape in use, in both wire profiles, and the
 * exact wire layout of hand-built frames. */
#include <criterion/criterion.h>
#include <string.h>

#include "iso8583.h"
#include "sample_messages.h"

static const struct iso_profile *const profiles[] = { &iso_profile_ascii, &iso_profile_bcd };

/* Every field of `want` is in `got` with the same logical value, and nothing else is. */
static void assert_same_fields(const struct iso_msg *want, const struct iso_msg *got)
{
	cr_assert_eq(got->mti, want->mti);
	for (int f = 2; f <= ISO_MAX_FIELD; f++) {
		cr_assert_eq(iso_has(got, f), iso_has(want, f), "presence of field %d", f);
		if (!iso_has(want, f))
			continue;
		char a[1024], b[1024];
		int la = iso_field_text(want, f, a, sizeof(a));
		int lb = iso_field_text(got, f, b, sizeof(b));
		cr_assert_eq(la, lb, "length of field %d", f);
		cr_assert(memcmp(a, b, (size_t)la) == 0, "value of field %d", f);
	}
}

static void round_trip(const struct iso_msg *m)
{
	for (size_t i = 0; i < 2; i++) {
		const struct iso_profile *p = profiles[i];
		uint8_t wire[ISO_MAX_MESSAGE], again[ISO_MAX_MESSAGE];
		size_t n = 0, n2 = 0;
		struct iso_error err;
		cr_assert_eq(iso_encode(p, m, wire, sizeof(wire), &n, &err), ISO_OK, "encode %u/%s", m->mti,
			     p->name);
		struct iso_msg d;
		cr_assert_eq(iso_decode(p, wire, n, &d, &err), ISO_OK, "decode %u/%s: %s field %d at %zu",
			     m->mti, p->name, iso_error_name(err.code), err.field, err.offset);
		assert_same_fields(m, &d);
		/* Re-encoding the decoded views gives the same bytes. */
		cr_assert_eq(iso_encode(p, &d, again, sizeof(again), &n2, &err), ISO_OK);
		cr_assert_eq(n2, n);
		cr_assert(memcmp(wire, again, n) == 0, "re-encode of %u/%s differs", m->mti, p->name);
		/* And across profiles: packed views encode as ASCII and back. */
		const struct iso_profile *other = profiles[1 - i];
		struct iso_msg d2;
		cr_assert_eq(iso_encode(other, &d, again, sizeof(again), &n2, &err), ISO_OK);
		cr_assert_eq(iso_decode(other, again, n2, &d2, &err), ISO_OK);
		assert_same_fields(m, &d2);
	}
}

Test(codec_roundtrip, authorization_request_1100)
{
	struct iso_msg m;
	sample_1100(&m);
	round_trip(&m);
}

Test(codec_roundtrip, authorization_response_1110_approved_and_declined)
{
	struct iso_msg m;
	sample_1110(&m, "000");
	round_trip(&m);
	sample_1110(&m, "116");
	iso_clear(&m, 38);
	round_trip(&m);
}

Test(codec_roundtrip, reversal_1420_1421_and_response_1430)
{
	struct iso_msg m;
	sample_142x(&m, 1420);
	round_trip(&m);
	sample_142x(&m, 1421);
	round_trip(&m);
	sample_1430(&m);
	round_trip(&m);
}

Test(codec_roundtrip, network_management_1804_1814_with_secondary_bitmap)
{
	struct iso_msg m;
	sample_180x(&m, 1804);
	round_trip(&m);
	sample_180x(&m, 1814);
	round_trip(&m);
}

Test(codec_roundtrip, every_data_element_at_its_maximum)
{
	/* Fill all 127 elements with their longest legal value, in both profiles. */
	static uint8_t values[ISO_MAX_FIELD + 1][1000];
	struct iso_msg m;
	iso_msg_init(&m, 1804);
	for (int f = 2; f <= ISO_MAX_FIELD; f++) {
		const struct iso_field_spec *s = &iso_profile_ascii.fields[f];
		cr_assert_gt(s->max_length, 0, "field %d has a spec", f);
		cr_assert_not_null(s->name);
		for (unsigned i = 0; i < s->max_length; i++)
			values[f][i] = s->content == ISO_N   ? (uint8_t)('0' + (f + i) % 10)
				     : s->content == ISO_Z ? (uint8_t)(0x30 + (f + i) % 16) /* track code set */
				     : s->content == ISO_B ? (uint8_t)(f * 7 + i)
							   : (uint8_t)('A' + (f + i) % 26);
		iso_set(&m, f, values[f], s->max_length);
	}
	for (size_t i = 0; i < 2; i++) {
		static uint8_t wire[65536]; /* far above ISO_MAX_MESSAGE: this message is not for a link */
		size_t n;
		struct iso_error err;
		cr_assert_eq(iso_encode(profiles[i], &m, wire, sizeof(wire), &n, &err), ISO_OK, "%s field %d",
			     iso_error_name(err.code), err.field);
		struct iso_msg d;
		cr_assert_eq(iso_decode(profiles[i], wire, n, &d, &err), ISO_OK, "%s field %d at %zu",
			     iso_error_name(err.code), err.field, err.offset);
		assert_same_fields(&m, &d);
	}
}

Test(codec_roundtrip, empty_variable_fields_and_odd_digit_counts)
{
	struct iso_msg m;
	iso_msg_init(&m, 1100);
	iso_set_str(&m, 2, "");        /* LLVAR of zero length */
	iso_set_str(&m, 27, "7");      /* n1: one digit, one pad nibble in BCD */
	iso_set_str(&m, 32, "12345");  /* odd LLVAR */
	iso_set_str(&m, 55, "");       /* LLLVAR binary, empty */
	round_trip(&m);
}

Test(codec_layout, secondary_bitmap_only_when_a_field_above_64_is_present)
{
	struct iso_msg m;
	uint8_t wire[512];
	size_t without, with;
	sample_1100(&m);
	cr_assert_eq(iso_encode(&iso_profile_ascii, &m, wire, sizeof(wire), &without, NULL), ISO_OK);
	cr_assert_eq(wire[4] & 0x80, 0, "no secondary bitmap bit");

	iso_set(&m, 128, sample_mac, 8);
	cr_assert_eq(iso_encode(&iso_profile_ascii, &m, wire, sizeof(wire), &with, NULL), ISO_OK);
	cr_assert_eq(with, without + 8 + 8, "secondary bitmap and MAC add 16 bytes");
	cr_assert_eq(wire[4] & 0x80, 0x80);
	cr_assert_eq(wire[12 + 7], 0x01, "bit of field 128 is the last of the secondary bitmap");
	cr_assert(memcmp(wire + with - 8, sample_mac, 8) == 0, "MAC is last, raw");

	struct iso_msg d;
	cr_assert_eq(iso_decode(&iso_profile_ascii, wire, with, &d, NULL), ISO_OK);
	cr_assert(iso_has(&d, 1) && iso_has(&d, 128));
	cr_assert_eq(d.fields[128].length, 8);
	cr_assert(memcmp(d.fields[128].data, sample_mac, 8) == 0);

	/* 64 alone needs no secondary bitmap. */
	iso_clear(&m, 128);
	iso_set(&m, 64, sample_mac, 8);
	cr_assert_eq(iso_encode(&iso_profile_ascii, &m, wire, sizeof(wire), &with, NULL), ISO_OK);
	cr_assert_eq(with, without + 8);
	cr_assert_eq(wire[4] & 0x80, 0);
	cr_assert_eq(wire[11] & 0x01, 0x01, "bit of field 64 is the last of the primary bitmap");
}

Test(codec_layout, ascii_golden_frame)
{
	const uint8_t *frame = (const uint8_t *)sample_ascii_1100;
	size_t len = SAMPLE_ASCII_1100_LEN;
	struct iso_msg d;
	struct iso_error err;
	cr_assert_eq(iso_decode(&iso_profile_ascii, frame, len, &d, &err), ISO_OK);
	cr_assert_eq(d.mti, 1100);
	cr_assert(iso_field_equals(&d, 2, "5105100000000001"));
	cr_assert(iso_field_equals(&d, 3, "000000"));
	cr_assert(iso_field_equals(&d, 4, "000000001000"));
	cr_assert(iso_field_equals(&d, 11, "123456"));
	cr_assert(iso_field_equals(&d, 41, "TERM0001"));
	cr_assert_eq(d.fields[2].data, frame + 14, "views point into the frame");
	for (int f = 0; f <= ISO_MAX_FIELD; f++)
		if (f != 2 && f != 3 && f != 4 && f != 11 && f != 41)
			cr_assert(!iso_has(&d, f), "field %d absent", f);

	uint8_t out[128];
	size_t n;
	cr_assert_eq(iso_encode(&iso_profile_ascii, &d, out, sizeof(out), &n, &err), ISO_OK);
	cr_assert_eq(n, len);
	cr_assert(memcmp(out, frame, len) == 0);
}

Test(codec_layout, bcd_golden_frame)
{
	/* 1100 with 2 (LL 16), 24 n3 "100", 32 LLVAR "12345", 41, 55 LLLVAR 3 bytes. */
	static const uint8_t frame[] = { 0x11, 0x00,
					 0x40, 0x00, 0x01, 0x01, 0x00, 0x80, 0x02, 0x00,
					 0x16, 0x51, 0x05, 0x10, 0x00, 0x00, 0x00, 0x00, 0x01,
					 0x01, 0x00,
					 0x05, 0x01, 0x23, 0x45,
					 'T', 'E', 'R', 'M', '0', '0', '0', '1',
					 0x00, 0x03, 0xAA, 0xBB, 0xCC };
	struct iso_msg d;
	struct iso_error err;
	cr_assert_eq(iso_decode(&iso_profile_bcd, frame, sizeof(frame), &d, &err), ISO_OK, "%s %d %zu",
		     iso_error_name(err.code), err.field, err.offset);
	cr_assert_eq(d.mti, 1100);
	cr_assert(iso_field_equals(&d, 2, "5105100000000001"));
	cr_assert(iso_field_equals(&d, 24, "100"));
	cr_assert(iso_field_equals(&d, 32, "12345"));
	cr_assert(iso_field_equals(&d, 41, "TERM0001"));
	cr_assert_eq(d.fields[55].length, 3);
	cr_assert(d.fields[24].packed && !d.fields[41].packed && !d.fields[55].packed);
	uint64_t v;
	cr_assert(iso_field_u64(&d, 32, &v));
	cr_assert_eq(v, 12345);

	uint8_t out[128];
	size_t n;
	cr_assert_eq(iso_encode(&iso_profile_bcd, &d, out, sizeof(out), &n, &err), ISO_OK);
	cr_assert_eq(n, sizeof(frame));
	cr_assert(memcmp(out, frame, n) == 0);
}

Test(codec_accessors, text_u64_equals)
{
	struct iso_msg m;
	sample_1100(&m);
	char small[4], big[32];
	cr_assert_eq(iso_field_text(&m, 4, big, sizeof(big)), 12);
	cr_assert_str_eq(big, "000000001000");
	cr_assert_eq(iso_field_text(&m, 4, small, sizeof(small)), -1, "too small for the value");
	cr_assert_eq(iso_field_text(&m, 5, big, sizeof(big)), -1, "absent");
	cr_assert_eq(iso_field_text(&m, 24, small, sizeof(small)), 3, "exactly fits with its NUL");

	uint64_t v = 7;
	cr_assert(iso_field_u64(&m, 4, &v));
	cr_assert_eq(v, 1000);
	cr_assert(!iso_field_u64(&m, 5, &v), "absent");
	cr_assert(!iso_field_u64(&m, 41, &v), "letters");
	iso_set_str(&m, 56, "12345678901234567890");
	cr_assert(!iso_field_u64(&m, 56, &v), "20 digits do not fit");
	iso_set_str(&m, 56, "9999999999999999999");
	cr_assert(iso_field_u64(&m, 56, &v));
	cr_assert_eq(v, 9999999999999999999ull);

	cr_assert(iso_field_equals(&m, 24, "100"));
	cr_assert(!iso_field_equals(&m, 24, "10"));
	cr_assert(!iso_field_equals(&m, 24, "1000"));
	cr_assert(!iso_field_equals(&m, 24, "101"));
	cr_assert(!iso_field_equals(&m, 25, ""), "absent never equals");
}

Test(codec_accessors, error_names_and_messages)
{
	char text[128];
	struct iso_error e = { ISO_ERR_NOT_DIGIT, 4, 23 };
	iso_error_format(&e, text, sizeof(text));
	cr_assert_str_eq(text, "field 4 at byte 23: non-digit in numeric field");
	e = (struct iso_error){ ISO_ERR_BAD_MTI, 0, 0 };
	iso_error_format(&e, text, sizeof(text));
	cr_assert_str_eq(text, "MTI at byte 0: MTI is not 4 digits of version 1 (ISO 8583:1993)");
	e = (struct iso_error){ ISO_ERR_TRAILING_BYTES, -1, 62 };
	iso_error_format(&e, text, sizeof(text));
	cr_assert_str_eq(text, "message at byte 62: bytes left after the last element");
	for (int c = ISO_OK; c <= ISO_ERR_BAD_CHARACTER; c++)
		cr_assert_str_neq(iso_error_name((enum iso_error_code)c), "unknown_error");
	cr_assert_str_eq(iso_error_name(ISO_ERR_TRUNCATED), "truncated");
}
