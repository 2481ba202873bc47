/* Every error kind of the codec, produced by a specific input, with the exact
 * field number and byte offset it must report. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iso8583.h"
#include "sample_messages.h"

/* Offsets: MTI 0..1, bitmap 2..9, DE 2 prefix 10 and digits 11..18, DE 24
 * 19..20, DE 32 prefix 21 and digits 22..24, DE 41 25..32, DE 55 prefix 33..34
 * and bytes 35..37; 38 bytes. */
static const uint8_t bcd_frame[] = { 0x11, 0x00, 0x40, 0x00, 0x01, 0x01, 0x00, 0x80, 0x02, 0x00,
				     0x16, 0x51, 0x05, 0x10, 0x00, 0x00, 0x00, 0x00, 0x01,
				     0x01, 0x00,
				     0x05, 0x01, 0x23, 0x45,
				     'T', 'E', 'R', 'M', '0', '0', '0', '1',
				     0x00, 0x03, 0xAA, 0xBB, 0xCC };

static uint8_t frame[256];

static void expect_decode(const struct iso_profile *p, size_t len, enum iso_error_code code, int field,
			  size_t offset)
{
	struct iso_msg m;
	struct iso_error err = { ISO_OK, 99, 999 };
	enum iso_error_code rc = iso_decode(p, frame, len, &m, &err);
	cr_assert_eq(rc, code, "got %s, want %s", iso_error_name(rc), iso_error_name(code));
	cr_assert_eq(err.code, code);
	cr_assert_eq(err.field, field, "%s: field %d, want %d", iso_error_name(code), err.field, field);
	cr_assert_eq(err.offset, offset, "%s: offset %zu, want %zu", iso_error_name(code), err.offset,
		     offset);
	if (code != ISO_OK)
		for (int f = 0; f <= ISO_MAX_FIELD; f++)
			cr_assert(!iso_has(&m, f), "a failed decode leaves field %d present", f);
}

static void load_ascii(void)
{
	memcpy(frame, sample_ascii_1100, SAMPLE_ASCII_1100_LEN);
}

static void load_bcd(void)
{
	memcpy(frame, bcd_frame, sizeof(bcd_frame));
}

Test(codec_errors, frames_are_valid_before_mutation)
{
	load_ascii();
	expect_decode(&iso_profile_ascii, SAMPLE_ASCII_1100_LEN, ISO_OK, -1, SAMPLE_ASCII_1100_LEN);
	load_bcd();
	expect_decode(&iso_profile_bcd, sizeof(bcd_frame), ISO_OK, -1, sizeof(bcd_frame));
}

Test(codec_errors, truncated)
{
	load_ascii();
	expect_decode(&iso_profile_ascii, 3, ISO_ERR_TRUNCATED, 0, 0);   /* inside the MTI */
	expect_decode(&iso_profile_ascii, 9, ISO_ERR_TRUNCATED, -1, 4);  /* inside the bitmap */
	expect_decode(&iso_profile_ascii, 13, ISO_ERR_TRUNCATED, 2, 12); /* inside DE 2's prefix */
	expect_decode(&iso_profile_ascii, 20, ISO_ERR_TRUNCATED, 2, 12); /* inside DE 2's digits */
	expect_decode(&iso_profile_ascii, 40, ISO_ERR_TRUNCATED, 4, 36);
	expect_decode(&iso_profile_ascii, 61, ISO_ERR_TRUNCATED, 41, 54);
	load_bcd();
	expect_decode(&iso_profile_bcd, 1, ISO_ERR_TRUNCATED, 0, 0);
	expect_decode(&iso_profile_bcd, 20, ISO_ERR_TRUNCATED, 24, 19);
	expect_decode(&iso_profile_bcd, 34, ISO_ERR_TRUNCATED, 55, 33); /* inside the LLL prefix */
	expect_decode(&iso_profile_bcd, 37, ISO_ERR_TRUNCATED, 55, 33);
}

Test(codec_errors, absent_data)
{
	load_ascii();
	expect_decode(&iso_profile_ascii, 12, ISO_ERR_ABSENT_DATA, 2, 12);
	expect_decode(&iso_profile_ascii, 54, ISO_ERR_ABSENT_DATA, 41, 54);
	frame[4] |= 0x80; /* announce a secondary bitmap the frame lacks */
	expect_decode(&iso_profile_ascii, 12, ISO_ERR_ABSENT_DATA, 1, 12);
	load_bcd();
	expect_decode(&iso_profile_bcd, 35, ISO_ERR_TRUNCATED, 55, 33);
	expect_decode(&iso_profile_bcd, 33, ISO_ERR_ABSENT_DATA, 55, 33);
}

Test(codec_errors, bad_length_prefix)
{
	load_ascii();
	frame[13] = 'x';
	expect_decode(&iso_profile_ascii, SAMPLE_ASCII_1100_LEN, ISO_ERR_BAD_LENGTH, 2, 12);
	load_ascii();
	frame[12] = ' ';
	expect_decode(&iso_profile_ascii, SAMPLE_ASCII_1100_LEN, ISO_ERR_BAD_LENGTH, 2, 12);
	load_bcd();
	frame[10] = 0x1A; /* nibble above 9 */
	expect_decode(&iso_profile_bcd, sizeof(bcd_frame), ISO_ERR_BAD_LENGTH, 2, 10);
	load_bcd();
	frame[33] = 0x10; /* LLL's pad nibble must be zero */
	expect_decode(&iso_profile_bcd, sizeof(bcd_frame), ISO_ERR_BAD_LENGTH, 55, 33);
}

Test(codec_errors, not_digit)
{
	load_ascii();
	frame[40] = 'A';
	expect_decode(&iso_profile_ascii, SAMPLE_ASCII_1100_LEN, ISO_ERR_NOT_DIGIT, 4, 40);
	load_ascii();
	frame[29] = '/'; /* '0' - 1, last digit of the PAN */
	expect_decode(&iso_profile_ascii, SAMPLE_ASCII_1100_LEN, ISO_ERR_NOT_DIGIT, 2, 29);
	load_ascii();
	frame[53] = ':'; /* '9' + 1 */
	expect_decode(&iso_profile_ascii, SAMPLE_ASCII_1100_LEN, ISO_ERR_NOT_DIGIT, 11, 53);
	load_ascii();
	frame[14] = 0xB5; /* high bit set */
	expect_decode(&iso_profile_ascii, SAMPLE_ASCII_1100_LEN, ISO_ERR_NOT_DIGIT, 2, 14);
	load_bcd();
	frame[13] = 0x1F;
	expect_decode(&iso_profile_bcd, sizeof(bcd_frame), ISO_ERR_NOT_DIGIT, 2, 13);
	load_bcd();
	frame[19] = 0x11; /* n3 "100" with a non-zero pad nibble */
	expect_decode(&iso_profile_bcd, sizeof(bcd_frame), ISO_ERR_NOT_DIGIT, 24, 19);
}

Test(codec_errors, bad_mti)
{
	static const char *const bad[] = { "2100", "0100", "11a0", "1 00" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		load_ascii();
		memcpy(frame, bad[i], 4);
		expect_decode(&iso_profile_ascii, SAMPLE_ASCII_1100_LEN, ISO_ERR_BAD_MTI, 0, 0);
	}
	load_bcd();
	frame[0] = 0x21;
	expect_decode(&iso_profile_bcd, sizeof(bcd_frame), ISO_ERR_BAD_MTI, 0, 0);
	load_bcd();
	frame[1] = 0x0A;
	expect_decode(&iso_profile_bcd, sizeof(bcd_frame), ISO_ERR_BAD_MTI, 0, 0);
}

Test(codec_errors, trailing_bytes)
{
	load_ascii();
	frame[SAMPLE_ASCII_1100_LEN] = 'X';
	expect_decode(&iso_profile_ascii, SAMPLE_ASCII_1100_LEN + 1, ISO_ERR_TRAILING_BYTES, -1, SAMPLE_ASCII_1100_LEN);
	load_bcd();
	expect_decode(&iso_profile_bcd, sizeof(bcd_frame) + 5, ISO_ERR_TRAILING_BYTES, -1, sizeof(bcd_frame));
}

Test(codec_errors, too_long)
{
	load_ascii();
	frame[12] = '2';
	frame[13] = '0'; /* PAN of 20 digits, max 19 */
	expect_decode(&iso_profile_ascii, SAMPLE_ASCII_1100_LEN, ISO_ERR_TOO_LONG, 2, 12);
	load_bcd();
	frame[33] = 0x02;
	frame[34] = 0x56; /* DE 55 of 256 bytes, max 255 */
	expect_decode(&iso_profile_bcd, sizeof(bcd_frame), ISO_ERR_TOO_LONG, 55, 33);
}

Test(codec_errors, unknown_field_in_a_profile_without_it)
{
	/* A profile is a table: one that leaves DE 41 undefined must refuse it. */
	struct iso_profile *narrow = malloc(sizeof(*narrow));
	cr_assert_not_null(narrow);
	*narrow = iso_profile_ascii;
	narrow->fields[41].max_length = 0;
	load_ascii();
	expect_decode(narrow, SAMPLE_ASCII_1100_LEN, ISO_ERR_UNKNOWN_FIELD, 41, 54);

	struct iso_msg m;
	sample_1100(&m);
	uint8_t out[512];
	size_t n;
	struct iso_error err;
	cr_assert_eq(iso_encode(narrow, &m, out, sizeof(out), &n, &err), ISO_ERR_UNKNOWN_FIELD);
	cr_assert_eq(err.field, 41);
	free(narrow);
}

static void expect_encode(const struct iso_profile *p, const struct iso_msg *m, size_t capacity,
			  enum iso_error_code code, int field)
{
	uint8_t *out = malloc(capacity ? capacity : 1); /* exact size: ASan catches overruns */
	cr_assert_not_null(out);
	size_t n = 12345;
	struct iso_error err = { ISO_OK, 99, 999 };
	enum iso_error_code rc = iso_encode(p, m, out, capacity, &n, &err);
	free(out);
	cr_assert_eq(rc, code, "%s: got %s want %s", p->name, iso_error_name(rc), iso_error_name(code));
	cr_assert_eq(err.field, field, "%s: field %d want %d", p->name, err.field, field);
	if (code != ISO_OK)
		cr_assert_eq(n, 0, "nothing reported written on error");
}

Test(codec_errors, encode_buffer_too_small_at_every_size)
{
	const struct iso_profile *profiles[] = { &iso_profile_ascii, &iso_profile_bcd };
	struct iso_msg m;
	sample_180x(&m, 1814);
	iso_set_str(&m, 2, "5105100000000001");
	for (size_t i = 0; i < 2; i++) {
		uint8_t full[512];
		size_t need;
		cr_assert_eq(iso_encode(profiles[i], &m, full, sizeof(full), &need, NULL), ISO_OK);
		for (size_t cap = 0; cap < need; cap++) {
			uint8_t *out = malloc(cap ? cap : 1);
			size_t n;
			struct iso_error err;
			cr_assert_eq(iso_encode(profiles[i], &m, out, cap, &n, &err), ISO_ERR_BUFFER_TOO_SMALL,
				     "%s capacity %zu", profiles[i]->name, cap);
			cr_assert(err.offset <= cap);
			free(out);
		}
		expect_encode(profiles[i], &m, need, ISO_OK, -1);
	}
	/* The error names the element that did not fit and where it would start. */
	sample_1100(&m);
	uint8_t out[40];
	size_t n;
	struct iso_error err;
	cr_assert_eq(iso_encode(&iso_profile_ascii, &m, out, 40, &n, &err), ISO_ERR_BUFFER_TOO_SMALL);
	cr_assert_eq(err.field, 4);
	cr_assert_eq(err.offset, 36);
}

Test(codec_errors, encode_bad_value_and_too_long)
{
	const struct iso_profile *profiles[] = { &iso_profile_ascii, &iso_profile_bcd };
	for (size_t i = 0; i < 2; i++) {
		struct iso_msg m;
		sample_1100(&m);
		iso_set_str(&m, 4, "00000000100A");
		expect_encode(profiles[i], &m, 512, ISO_ERR_BAD_VALUE, 4);
		sample_1100(&m);
		iso_set_str(&m, 3, "00000"); /* fixed n6 given 5 digits */
		expect_encode(profiles[i], &m, 512, ISO_ERR_BAD_VALUE, 3);
		sample_1100(&m);
		iso_set_str(&m, 41, "TERM00012"); /* fixed ans8 given 9 */
		expect_encode(profiles[i], &m, 512, ISO_ERR_TOO_LONG, 41);
		sample_1100(&m);
		iso_set_str(&m, 2, "51051000000000010000"); /* 20 > 19 */
		expect_encode(profiles[i], &m, 512, ISO_ERR_TOO_LONG, 2);
		sample_1100(&m);
		iso_set_str(&m, 32, "5105 000");
		expect_encode(profiles[i], &m, 512, ISO_ERR_BAD_VALUE, 32);
		sample_1100(&m);
		m.mti = 100; /* version 0 (1987) */
		expect_encode(profiles[i], &m, 512, ISO_ERR_BAD_MTI, 0);
		m.mti = 2100;
		expect_encode(profiles[i], &m, 512, ISO_ERR_BAD_MTI, 0);
	}
}

Test(codec_errors, every_message_as_formatted_text)
{
	load_ascii();
	frame[40] = 'A';
	struct iso_msg m;
	struct iso_error err;
	cr_assert_eq(iso_decode(&iso_profile_ascii, frame, SAMPLE_ASCII_1100_LEN, &m, &err), ISO_ERR_NOT_DIGIT);
	char text[96];
	int n = iso_error_format(&err, text, sizeof(text));
	cr_assert_str_eq(text, "field 4 at byte 40: non-digit in numeric field");
	cr_assert_eq(n, (int)strlen(text));
}

/* The classes of iso8583.h, written the slow and obvious way. */
static bool reference_in_class(enum iso_content content, unsigned b)
{
	bool digit = b >= '0' && b <= '9';
	bool letter = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
	switch (content) {
	case ISO_AN: return digit || letter || b == ' ';
	case ISO_ANS: return b >= 0x20 && b <= 0x7e;
	case ISO_Z: return (b >= 0x30 && b <= 0x3f) || b == 'D';
	default: return true;
	}
}

/* Encodes sample_1100 with DE 35 and distinct values, returns where value's last byte sits. */
static size_t encode_with_marker(const struct iso_profile *p, int field, const char *value, size_t *len)
{
	struct iso_msg m;
	sample_1100(&m);
	iso_set_str(&m, 22, "POSDATACODE0");
	iso_set_str(&m, 35, "5105100000000001=30121");
	iso_set_str(&m, field, value);
	struct iso_error err;
	cr_assert_eq(iso_encode(p, &m, frame, sizeof(frame), len, &err), ISO_OK, "%s", iso_error_name(err.code));
	size_t n = strlen(value);
	for (size_t at = 0; at + n <= *len; at++)
		if (memcmp(frame + at, value, n) == 0)
			return at + n - 1;
	cr_assert_fail("value of field %d not found in the frame", field);
	return 0;
}

Test(codec_errors, every_byte_against_every_character_class)
{
	const struct iso_profile *profiles[] = { &iso_profile_ascii, &iso_profile_bcd };
	const struct {
		int field;
		enum iso_content content;
		const char *value;
	} cases[] = {
		{ 22, ISO_AN, "POSDATACODE0" },
		{ 41, ISO_ANS, "TERMINAL" },
		{ 35, ISO_Z, "5105100000000001=30121" },
	};
	for (size_t p = 0; p < 2; p++)
		for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			cr_assert_eq(profiles[p]->fields[cases[c].field].content, cases[c].content);
			for (unsigned b = 0; b < 256; b++) {
				size_t len, at = encode_with_marker(profiles[p], cases[c].field, cases[c].value, &len);
				frame[at] = (uint8_t)b;
				if (reference_in_class(cases[c].content, b))
					expect_decode(profiles[p], len, ISO_OK, -1, len);
				else
					expect_decode(profiles[p], len, ISO_ERR_BAD_CHARACTER, cases[c].field, at);
			}
		}
}

Test(codec_errors, bad_character_reported_at_its_byte)
{
	/* DE 42 is ans15: a control character at each position, so both the
	 * whole words and the overlapping tail word of the checks are covered. */
	for (size_t i = 0; i < 15; i++) {
		size_t len, last = encode_with_marker(&iso_profile_ascii, 42, "MERCHANT0000001", &len);
		size_t at = last - 14 + i;
		frame[at] = '\t';
		expect_decode(&iso_profile_ascii, len, ISO_ERR_BAD_CHARACTER, 42, at);
	}
	size_t len, at = encode_with_marker(&iso_profile_ascii, 41, "TERM0001", &len);
	frame[at - 3] = '\0';
	struct iso_msg m;
	struct iso_error err;
	cr_assert_eq(iso_decode(&iso_profile_ascii, frame, len, &m, &err), ISO_ERR_BAD_CHARACTER);
	char text[128];
	iso_error_format(&err, text, sizeof(text));
	char want[128];
	snprintf(want, sizeof(want), "field 41 at byte %zu: character outside the element's class (an, ans or z)",
		 at - 3);
	cr_assert_str_eq(text, want);
}

Test(codec_errors, encode_refuses_characters_outside_the_class)
{
	const struct iso_profile *profiles[] = { &iso_profile_ascii, &iso_profile_bcd };
	for (size_t i = 0; i < 2; i++) {
		struct iso_msg m;
		sample_1100(&m);
		iso_set_str(&m, 37, "00000012345_"); /* an: no underscore */
		expect_encode(profiles[i], &m, 512, ISO_ERR_BAD_VALUE, 37);
		sample_1100(&m);
		iso_set(&m, 41, "TERM\x01" "001", 8);
		expect_encode(profiles[i], &m, 512, ISO_ERR_BAD_VALUE, 41);
		sample_1100(&m);
		iso_set_str(&m, 35, "5105100000000001X3012");
		expect_encode(profiles[i], &m, 512, ISO_ERR_BAD_VALUE, 35);
		sample_1100(&m);
		iso_set_str(&m, 37, "ab 0000012Z9");
		iso_set_str(&m, 41, "T~RM 0!1");
		iso_set_str(&m, 35, "5105100000000001D3012");
		expect_encode(profiles[i], &m, 512, ISO_OK, -1);
	}
}
