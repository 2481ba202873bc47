/*
 * The jpos93b profile against messages packed by jPOS's ISO93BPackager itself
 * (tests/codec/vectors/jpos_iso93b.jsonl, made as docs/codec.md says): each
 * line names the MTI and the elements jPOS was given, and the bytes it wrote.
 * Encoding those elements must give exactly those bytes, and decoding the
 * bytes exactly those elements.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iso8583.h"

#ifndef JPOS_VECTORS
#error "JPOS_VECTORS must name the vector file"
#endif

#define MAX_VECTORS 1000

struct vector {
	int line;
	struct iso_msg msg;                      /* the elements jPOS was given */
	uint8_t values[ISO_MAX_FIELD + 1][1000]; /* their bytes */
	uint8_t wire[ISO_MAX_MESSAGE * 2];
	size_t wire_len;
};

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static size_t from_hex(const char *hex, uint8_t *out, size_t capacity)
{
	size_t n = strlen(hex);
	cr_assert(n % 2 == 0 && n / 2 <= capacity, "bad hex of %zu characters", n);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		cr_assert(hi >= 0 && lo >= 0, "not hex: %s", hex);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return n / 2;
}

static void parse_vector(json_t *root, struct vector *v)
{
	iso_msg_init(&v->msg, (uint16_t)atoi(json_string_value(json_object_get(root, "mti"))));
	const char *key;
	json_t *value;
	json_object_foreach(json_object_get(root, "fields"), key, value) {
		int f = atoi(key);
		cr_assert(f >= 2 && f <= ISO_MAX_FIELD, "line %d: field %s", v->line, key);
		size_t n;
		if (json_is_string(value)) {
			n = json_string_length(value);
			cr_assert(n <= sizeof(v->values[f]));
			memcpy(v->values[f], json_string_value(value), n);
		} else {
			n = from_hex(json_string_value(json_object_get(value, "hex")), v->values[f],
				     sizeof(v->values[f]));
		}
		iso_set(&v->msg, f, v->values[f], n);
	}
	v->wire_len = from_hex(json_string_value(json_object_get(root, "hex")), v->wire, sizeof(v->wire));
}

static struct vector *load_vectors(size_t *count)
{
	FILE *in = fopen(JPOS_VECTORS, "r");
	cr_assert_not_null(in, "cannot open %s", JPOS_VECTORS);
	struct vector *all = calloc(MAX_VECTORS, sizeof(*all));
	cr_assert_not_null(all);
	char *line = NULL;
	size_t cap = 0, n = 0;
	while (getline(&line, &cap, in) > 0) {
		cr_assert_lt(n, MAX_VECTORS);
		json_error_t error;
		json_t *root = json_loads(line, 0, &error);
		cr_assert_not_null(root, "line %zu: %s", n + 1, error.text);
		all[n].line = (int)n + 1;
		parse_vector(root, &all[n]);
		json_decref(root);
		n++;
	}
	free(line);
	fclose(in);
	*count = n;
	return all;
}

/* Element f of m as logical bytes (digits unpacked), for comparing with jPOS's value. */
static size_t logical(const struct iso_msg *m, int f, char *out, size_t capacity)
{
	if (m->fields[f].packed) {
		int n = iso_field_text(m, f, out, capacity);
		cr_assert_geq(n, 0);
		return (size_t)n;
	}
	cr_assert_leq(m->fields[f].length, capacity);
	memcpy(out, m->fields[f].data, m->fields[f].length);
	return m->fields[f].length;
}

static void assert_same_elements(const struct vector *v, const struct iso_msg *got)
{
	cr_assert_eq(got->mti, v->msg.mti, "line %d: MTI %u, jPOS %u", v->line, got->mti, v->msg.mti);
	for (int f = 2; f <= ISO_MAX_FIELD; f++) {
		cr_assert_eq(iso_has(got, f), iso_has(&v->msg, f), "line %d: presence of field %d", v->line, f);
		if (!iso_has(got, f))
			continue;
		char value[1000];
		size_t n = logical(got, f, value, sizeof(value));
		cr_assert(n == v->msg.fields[f].length && memcmp(value, v->msg.fields[f].data, n) == 0,
			  "line %d: field %d differs from jPOS's", v->line, f);
	}
}

Test(jpos93b, encodes_every_vector_byte_for_byte)
{
	size_t count;
	struct vector *all = load_vectors(&count);
	cr_assert_geq(count, 300, "the vector file is complete");
	size_t odd_numerics = 0, secondary = 0;
	for (size_t i = 0; i < count; i++) {
		struct vector *v = &all[i];
		uint8_t out[ISO_MAX_MESSAGE * 2];
		size_t n;
		struct iso_error err;
		cr_assert_eq(iso_encode(&iso_profile_jpos93b, &v->msg, out, sizeof(out), &n, &err), ISO_OK,
			     "line %d: %s field %d", v->line, iso_error_name(err.code), err.field);
		cr_assert(n == v->wire_len && memcmp(out, v->wire, n) == 0,
			  "line %d: %zu bytes, jPOS wrote %zu, or the bytes differ", v->line, n, v->wire_len);
		for (int f = 2; f <= ISO_MAX_FIELD; f++)
			odd_numerics += iso_has(&v->msg, f) && iso_profile_jpos93b.fields[f].content == ISO_N &&
					(v->msg.fields[f].length & 1);
		secondary += (v->wire[2] & 0x80) != 0;
	}
	/* The vectors exercise what differs from the bcd profile. */
	cr_assert_gt(odd_numerics, 100);
	cr_assert_gt(secondary, 50);
	free(all);
}

Test(jpos93b, decodes_every_vector_to_the_elements_jpos_was_given)
{
	size_t count;
	struct vector *all = load_vectors(&count);
	for (size_t i = 0; i < count; i++) {
		struct vector *v = &all[i];
		struct iso_msg got;
		struct iso_error err;
		cr_assert_eq(iso_decode(&iso_profile_jpos93b, v->wire, v->wire_len, &got, &err), ISO_OK,
			     "line %d: %s field %d at %zu", v->line, iso_error_name(err.code), err.field, err.offset);
		assert_same_elements(v, &got);
	}
	free(all);
}

Test(jpos93b, converts_to_and_from_the_other_profiles_unchanged)
{
	/* Decoded jPOS bytes (numerics packed, padded right) re-encoded in the
	 * left-padded bcd profile and in ASCII, decoded again and written back:
	 * jPOS's bytes again. Exercises every repacking path of the encoder. */
	size_t count;
	struct vector *all = load_vectors(&count);
	const struct iso_profile *via[] = { &iso_profile_bcd, &iso_profile_ascii };
	for (size_t i = 0; i < count; i++) {
		struct vector *v = &all[i];
		for (size_t k = 0; k < 2; k++) {
			struct iso_msg a, b;
			uint8_t mid[ISO_MAX_MESSAGE * 2], back[ISO_MAX_MESSAGE * 2];
			size_t mid_len, back_len;
			struct iso_error err;
			cr_assert_eq(iso_decode(&iso_profile_jpos93b, v->wire, v->wire_len, &a, &err), ISO_OK);
			if (iso_has(&a, 49) || iso_has(&a, 50) || iso_has(&a, 51)) {
				/* an 3 here, n 3 in the others: only digits convert */
				bool digits = true;
				for (int f = 49; f <= 51; f++)
					for (size_t j = 0; iso_has(&a, f) && j < a.fields[f].length; j++)
						digits = digits && a.fields[f].data[j] >= '0' && a.fields[f].data[j] <= '9';
				if (!digits)
					continue;
			}
			cr_assert_eq(iso_encode(via[k], &a, mid, sizeof(mid), &mid_len, &err), ISO_OK,
				     "line %d via %s: %s field %d", v->line, via[k]->name, iso_error_name(err.code),
				     err.field);
			cr_assert_eq(iso_decode(via[k], mid, mid_len, &b, &err), ISO_OK);
			cr_assert_eq(iso_encode(&iso_profile_jpos93b, &b, back, sizeof(back), &back_len, &err), ISO_OK);
			cr_assert(back_len == v->wire_len && memcmp(back, v->wire, back_len) == 0,
				  "line %d via %s: not jPOS's bytes again", v->line, via[k]->name);
		}
	}
	free(all);
}

Test(jpos93b, odd_numerics_pad_on_the_right_and_the_pad_nibble_is_checked)
{
	struct iso_msg m;
	iso_msg_init(&m, 1100);
	iso_set_str(&m, 2, "510510000000001"); /* 15 digits */
	iso_set_str(&m, 24, "100");
	iso_set_str(&m, 49, "978");
	uint8_t out[64];
	size_t n;
	struct iso_error err;
	cr_assert_eq(iso_encode(&iso_profile_jpos93b, &m, out, sizeof(out), &n, &err), ISO_OK);
	/* MTI 11 00, bitmap (2, 24, 49), LL 15, 8 bytes of PAN ending 1 and a zero nibble, 10 00, "978" */
	const uint8_t want[] = { 0x11, 0x00, 0x40, 0x00, 0x01, 0x00, 0x00, 0x00, 0x80, 0x00, 0x15, 0x51, 0x05,
				 0x10, 0x00, 0x00, 0x00, 0x00, 0x10, 0x10, 0x00, '9', '7', '8' };
	cr_assert_eq(n, sizeof(want));
	cr_assert_arr_eq(out, want, sizeof(want));
	struct iso_msg d;
	cr_assert_eq(iso_decode(&iso_profile_jpos93b, out, n, &d, &err), ISO_OK);
	cr_assert(iso_field_equals(&d, 2, "510510000000001"));
	uint64_t function_code;
	cr_assert(iso_field_u64(&d, 24, &function_code) && function_code == 100);
	out[18] = 0x11; /* the PAN's pad nibble is not zero */
	cr_assert_eq(iso_decode(&iso_profile_jpos93b, out, n, &d, &err), ISO_ERR_NOT_DIGIT);
	cr_assert_eq(err.field, 2);
	cr_assert_eq(err.offset, 18);
	/* The bcd profile pads the same PAN on the left. */
	cr_assert_eq(iso_encode(&iso_profile_bcd, &m, out, sizeof(out), &n, &err), ISO_OK);
	cr_assert_eq(out[11], 0x05);
}

Test(jpos93b, de_97_and_profile_names)
{
	struct iso_msg m;
	iso_msg_init(&m, 1520);
	iso_set_str(&m, 97, "C0000000000001234");
	uint8_t out[64];
	size_t n;
	struct iso_error err;
	cr_assert_eq(iso_encode(&iso_profile_jpos93b, &m, out, sizeof(out), &n, &err), ISO_ERR_UNKNOWN_FIELD);
	cr_assert_eq(err.field, 97);
	cr_assert_eq(iso_profile_by_name("jpos93b"), &iso_profile_jpos93b);
	cr_assert_eq(iso_profile_by_name("bcd"), &iso_profile_bcd);
	cr_assert_eq(iso_profile_by_name("ascii"), &iso_profile_ascii);
	cr_assert_null(iso_profile_by_name("BCD"));
}
