/*
 * Table-driven ISO 8583:1993 codec. Nothing here knows a field number except
 * 1 (the secondary bitmap, whose presence the codec computes itself): every
 * layout decision comes from the profile table.
 *
 * Speed matters (every message of the fast path goes through here), so digit
 * checks run eight bytes at a time and the presence bitmap is walked with
 * count-leading/trailing-zero instructions instead of testing 128 bits.
 */
#include "iso8583.h"

#include <stdio.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the codec's word loads assume a little-endian host"
#endif

#define ONES8 0x0101010101010101ull

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t load_be64(const uint8_t *p)
{
	return __builtin_bswap64(load_le64(p));
}

static inline void store_be64(uint8_t *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(p, &v, sizeof(v));
}

/* Non-zero iff some byte of x is not an ASCII digit. A byte is a digit when
 * its high nibble is 3 and its low nibble plus 6 does not carry out of it. */
static inline uint64_t ascii_nondigit_mask(uint64_t x)
{
	uint64_t high = (x & (0xF0 * ONES8)) ^ (0x30 * ONES8);
	uint64_t low_carry = ((x & (0x0F * ONES8)) + 0x06 * ONES8) & (0xF0 * ONES8);
	return high | low_carry;
}

static bool ascii_all_digits(const uint8_t *s, size_t n)
{
	if (n >= 8) {
		uint64_t bad = 0;
		size_t i = 0;
		for (; i + 8 <= n; i += 8)
			bad |= ascii_nondigit_mask(load_le64(s + i));
		if (i < n) /* the last, overlapping word covers the tail */
			bad |= ascii_nondigit_mask(load_le64(s + n - 8));
		return bad == 0;
	}
	unsigned bad = 0;
	for (size_t i = 0; i < n; i++)
		bad |= (unsigned)(uint8_t)(s[i] - '0') > 9;
	return bad == 0;
}

static size_t first_ascii_nondigit(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n && (uint8_t)(s[i] - '0') <= 9)
		i++;
	return i;
}

/* Non-zero iff some nibble of x is above 9. */
static inline uint64_t bcd_bad_nibble_mask(uint64_t x)
{
	uint64_t low = x & (0x0F * ONES8);
	uint64_t high = (x >> 4) & (0x0F * ONES8);
	return ((low + 0x06 * ONES8) | (high + 0x06 * ONES8)) & (0x10 * ONES8);
}

static inline bool bcd_byte_ok(uint8_t b)
{
	return (b & 0x0F) <= 9 && (b >> 4) <= 9;
}

/* Packed digits: every nibble a digit, and the pad nibble of an odd count zero. */
static bool bcd_all_digits(const uint8_t *s, size_t digits)
{
	size_t n = (digits + 1) / 2;
	if ((digits & 1) && n > 0 && (s[0] >> 4) != 0)
		return false;
	uint64_t bad = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		bad |= bcd_bad_nibble_mask(load_le64(s + i));
	for (; i < n; i++)
		bad |= !bcd_byte_ok(s[i]);
	return bad == 0;
}

static size_t first_bad_bcd_byte(const uint8_t *s, size_t digits)
{
	size_t n = (digits + 1) / 2;
	if ((digits & 1) && n > 0 && (s[0] >> 4) != 0)
		return 0;
	size_t i = 0;
	while (i < n && bcd_byte_ok(s[i]))
		i++;
	return i;
}

/* Digit at logical position i of a packed field of `digits` digits. */
static inline unsigned packed_digit(const uint8_t *s, size_t digits, size_t i)
{
	size_t nibble = i + (digits & 1); /* odd counts start after the pad nibble */
	uint8_t b = s[nibble >> 1];
	return (nibble & 1) ? (b & 0x0F) : (b >> 4);
}

static void pack_digits(uint8_t *out, const uint8_t *digits, size_t n)
{
	size_t i = 0;
	if (n & 1) {
		*out++ = (uint8_t)(digits[0] - '0');
		i = 1;
	}
	for (; i < n; i += 2)
		*out++ = (uint8_t)(((digits[i] - '0') << 4) | (digits[i + 1] - '0'));
}

static void unpack_digits(char *out, const uint8_t *packed, size_t digits)
{
	for (size_t i = 0; i < digits; i++)
		out[i] = (char)('0' + packed_digit(packed, digits, i));
}

static inline size_t prefix_size(uint8_t length_encoding, uint8_t kind)
{
	/* ASCII: one character a digit; BCD: LL in one byte, LLL and LLLL in two. */
	static const uint8_t ascii[] = { 0, 2, 3, 4 };
	static const uint8_t bcd[] = { 0, 1, 2, 2 };
	return length_encoding == ISO_ENC_BCD ? bcd[kind & 3] : ascii[kind & 3];
}

/* Reads a length prefix of psz bytes holding `digits` digits; false if it is not digits. */
static bool read_prefix(uint8_t length_encoding, const uint8_t *p, size_t psz, unsigned digits,
			unsigned *value)
{
	unsigned v = 0;
	if (length_encoding == ISO_ENC_BCD) {
		/* LLL keeps a zero pad nibble in front of its three digits. */
		if ((digits & 1) && (p[0] >> 4) != 0)
			return false;
		for (size_t i = 0; i < psz; i++) {
			if (!bcd_byte_ok(p[i]))
				return false;
			v = v * 100 + (unsigned)(p[i] >> 4) * 10 + (p[i] & 0x0F);
		}
	} else {
		for (size_t i = 0; i < psz; i++) {
			unsigned d = (uint8_t)(p[i] - '0');
			if (d > 9)
				return false;
			v = v * 10 + d;
		}
	}
	*value = v;
	return true;
}

static void write_prefix(uint8_t length_encoding, uint8_t *p, size_t psz, unsigned value)
{
	if (length_encoding == ISO_ENC_BCD) {
		for (size_t i = psz; i-- > 0;) {
			p[i] = (uint8_t)(((value / 10 % 10) << 4) | (value % 10));
			value /= 100;
		}
	} else {
		for (size_t i = psz; i-- > 0;) {
			p[i] = (uint8_t)('0' + value % 10);
			value /= 10;
		}
	}
}

static inline enum iso_error_code fail(struct iso_error *err, enum iso_error_code code, int field,
				       size_t offset)
{
	if (err) {
		err->code = code;
		err->field = field;
		err->offset = offset;
	}
	return code;
}

static inline void mark_present(struct iso_msg *m, int field)
{
	m->present[field >> 3] |= (uint8_t)(1u << (field & 7));
}

/* Decodes data element f starting at *pos. */
static enum iso_error_code decode_field(const struct iso_profile *p, int f, const uint8_t *frame,
					size_t length, size_t *pos, struct iso_msg *out,
					struct iso_error *err)
{
	const struct iso_field_spec *spec = &p->fields[f];
	size_t start = *pos;
	if (spec->max_length == 0)
		return fail(err, ISO_ERR_UNKNOWN_FIELD, f, start);
	if (start == length)
		return fail(err, ISO_ERR_ABSENT_DATA, f, start);

	size_t at = start;
	unsigned logical = spec->max_length;
	if (spec->length_kind != ISO_FIXED) {
		size_t psz = prefix_size(p->length_encoding, spec->length_kind);
		if (length - at < psz)
			return fail(err, ISO_ERR_TRUNCATED, f, start);
		unsigned digits = spec->length_kind + 1u; /* LL 2, LLL 3, LLLL 4 */
		if (!read_prefix(p->length_encoding, frame + at, psz, digits, &logical))
			return fail(err, ISO_ERR_BAD_LENGTH, f, start);
		if (logical > spec->max_length)
			return fail(err, ISO_ERR_TOO_LONG, f, start);
		at += psz;
	}

	bool numeric = spec->content == ISO_N;
	bool packed = numeric && p->number_encoding == ISO_ENC_BCD;
	size_t wire = packed ? (logical + 1) / 2 : logical;
	if (length - at < wire)
		return fail(err, ISO_ERR_TRUNCATED, f, start);
	if (numeric) {
		if (packed && !bcd_all_digits(frame + at, logical))
			return fail(err, ISO_ERR_NOT_DIGIT, f, at + first_bad_bcd_byte(frame + at, logical));
		if (!packed && !ascii_all_digits(frame + at, logical))
			return fail(err, ISO_ERR_NOT_DIGIT, f, at + first_ascii_nondigit(frame + at, logical));
	}

	out->fields[f].data = frame + at;
	out->fields[f].length = (uint16_t)logical;
	out->fields[f].packed = packed;
	mark_present(out, f);
	*pos = at + wire;
	return ISO_OK;
}

enum iso_error_code iso_decode(const struct iso_profile *p, const uint8_t *frame, size_t length,
			       struct iso_msg *out, struct iso_error *err)
{
	iso_msg_init(out, 0);
	size_t pos;
	unsigned d[4];
	if (p->mti_encoding == ISO_ENC_BCD) {
		if (length < 2)
			return fail(err, ISO_ERR_TRUNCATED, 0, 0);
		d[0] = frame[0] >> 4;
		d[1] = frame[0] & 0x0F;
		d[2] = frame[1] >> 4;
		d[3] = frame[1] & 0x0F;
		pos = 2;
	} else {
		if (length < 4)
			return fail(err, ISO_ERR_TRUNCATED, 0, 0);
		for (int i = 0; i < 4; i++)
			d[i] = (uint8_t)(frame[i] - '0');
		pos = 4;
	}
	if (d[0] != 1 || d[1] > 9 || d[2] > 9 || d[3] > 9)
		return fail(err, ISO_ERR_BAD_MTI, 0, 0);
	out->mti = (uint16_t)(1000 + d[1] * 100 + d[2] * 10 + d[3]);

	/* The primary bitmap is not a numbered element: errors about it carry field -1. */
	if (length - pos < 8)
		return fail(err, ISO_ERR_TRUNCATED, -1, pos);
	uint64_t primary = load_be64(frame + pos); /* field f is bit 64 - f */
	pos += 8;

	enum iso_error_code rc;
	uint64_t secondary = 0;
	if (primary >> 63) {
		rc = decode_field(p, 1, frame, length, &pos, out, err);
		if (rc != ISO_OK)
			return rc;
		secondary = load_be64(out->fields[1].data);
		primary &= ~(1ull << 63);
	}
	while (primary) {
		int f = __builtin_clzll(primary) + 1;
		primary &= ~(1ull << (64 - f));
		rc = decode_field(p, f, frame, length, &pos, out, err);
		if (rc != ISO_OK)
			return rc;
	}
	while (secondary) {
		int f = __builtin_clzll(secondary) + 65;
		secondary &= ~(1ull << (128 - f));
		rc = decode_field(p, f, frame, length, &pos, out, err);
		if (rc != ISO_OK)
			return rc;
	}
	if (pos != length)
		return fail(err, ISO_ERR_TRAILING_BYTES, -1, pos);
	if (err) {
		err->code = ISO_OK;
		err->field = -1;
		err->offset = pos;
	}
	return ISO_OK;
}

/* Reverses the bit order of a word: presence bits count from the least
 * significant end, wire bitmaps from the most significant. */
static inline uint64_t reverse_bits(uint64_t x)
{
	x = ((x >> 1) & 0x5555555555555555ull) | ((x & 0x5555555555555555ull) << 1);
	x = ((x >> 2) & 0x3333333333333333ull) | ((x & 0x3333333333333333ull) << 2);
	x = ((x >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((x & 0x0F0F0F0F0F0F0F0Full) << 4);
	return __builtin_bswap64(x);
}

static enum iso_error_code encode_field(const struct iso_profile *p, int f, const struct iso_field *fld,
					uint8_t *buf, size_t capacity, size_t *pos,
					struct iso_error *err)
{
	const struct iso_field_spec *spec = &p->fields[f];
	size_t start = *pos;
	if (spec->max_length == 0)
		return fail(err, ISO_ERR_UNKNOWN_FIELD, f, start);
	size_t logical = fld->length;
	if (logical > spec->max_length)
		return fail(err, ISO_ERR_TOO_LONG, f, start);
	if (spec->length_kind == ISO_FIXED && logical != spec->max_length)
		return fail(err, ISO_ERR_BAD_VALUE, f, start);

	bool numeric = spec->content == ISO_N;
	bool from_packed = numeric && fld->packed;
	if (numeric) {
		bool ok = from_packed ? bcd_all_digits(fld->data, logical)
				      : ascii_all_digits(fld->data, logical);
		if (!ok)
			return fail(err, ISO_ERR_BAD_VALUE, f, start);
	}
	bool to_packed = numeric && p->number_encoding == ISO_ENC_BCD;
	size_t wire = to_packed ? (logical + 1) / 2 : logical;
	size_t psz = prefix_size(p->length_encoding, spec->length_kind);
	if (capacity - start < psz + wire)
		return fail(err, ISO_ERR_BUFFER_TOO_SMALL, f, start);

	uint8_t *out = buf + start;
	if (psz) {
		write_prefix(p->length_encoding, out, psz, (unsigned)logical);
		out += psz;
	}
	if (to_packed == from_packed)
		memcpy(out, fld->data, wire);
	else if (to_packed)
		pack_digits(out, fld->data, logical);
	else
		unpack_digits((char *)out, fld->data, logical);
	*pos = start + psz + wire;
	return ISO_OK;
}

enum iso_error_code iso_encode(const struct iso_profile *p, const struct iso_msg *m, uint8_t *buf,
			       size_t capacity, size_t *written, struct iso_error *err)
{
	size_t pos = 0;
	*written = 0;
	if (m->mti < 1000 || m->mti > 1999)
		return fail(err, ISO_ERR_BAD_MTI, 0, 0);

	/* present[] holds field f at bit f of a little-endian bit string; fields 0
	 * (MTI) and 1 (secondary bitmap) are the codec's own business. */
	uint64_t low = load_le64(m->present) & ~3ull;        /* fields 2..63 */
	uint64_t high = load_le64(m->present + 8);           /* fields 64..127 */
	uint64_t top = m->present[16] & 1u;                  /* field 128 */
	uint64_t first = (low >> 1) | (high << 63);          /* bit f-1: fields 2..64 */
	uint64_t second = (high >> 1) | (top << 63);         /* bit f-65: fields 65..128 */
	uint64_t primary = reverse_bits(first) | (second ? 1ull << 63 : 0);

	size_t mti_size = p->mti_encoding == ISO_ENC_BCD ? 2 : 4;
	size_t head = mti_size + (second ? 16 : 8);
	if (capacity < head)
		return fail(err, ISO_ERR_BUFFER_TOO_SMALL, 0, 0);
	unsigned mti = m->mti;
	if (p->mti_encoding == ISO_ENC_BCD) {
		buf[0] = (uint8_t)(((mti / 1000) << 4) | (mti / 100 % 10));
		buf[1] = (uint8_t)(((mti / 10 % 10) << 4) | (mti % 10));
	} else {
		buf[0] = (uint8_t)('0' + mti / 1000);
		buf[1] = (uint8_t)('0' + mti / 100 % 10);
		buf[2] = (uint8_t)('0' + mti / 10 % 10);
		buf[3] = (uint8_t)('0' + mti % 10);
	}
	store_be64(buf + mti_size, primary);
	if (second)
		store_be64(buf + mti_size + 8, reverse_bits(second));
	pos = head;

	enum iso_error_code rc;
	while (first) {
		int f = __builtin_ctzll(first) + 1;
		first &= first - 1;
		rc = encode_field(p, f, &m->fields[f], buf, capacity, &pos, err);
		if (rc != ISO_OK)
			return rc;
	}
	while (second) {
		int f = __builtin_ctzll(second) + 65;
		second &= second - 1;
		rc = encode_field(p, f, &m->fields[f], buf, capacity, &pos, err);
		if (rc != ISO_OK)
			return rc;
	}
	*written = pos;
	if (err) {
		err->code = ISO_OK;
		err->field = -1;
		err->offset = pos;
	}
	return ISO_OK;
}

int iso_field_text(const struct iso_msg *m, int field, char *out, size_t capacity)
{
	if (field < 0 || field > ISO_MAX_FIELD || !iso_has(m, field))
		return -1;
	const struct iso_field *f = &m->fields[field];
	if ((size_t)f->length + 1 > capacity)
		return -1;
	if (f->packed)
		unpack_digits(out, f->data, f->length);
	else
		memcpy(out, f->data, f->length);
	out[f->length] = '\0';
	return f->length;
}

bool iso_field_u64(const struct iso_msg *m, int field, uint64_t *value)
{
	if (field < 0 || field > ISO_MAX_FIELD || !iso_has(m, field))
		return false;
	const struct iso_field *f = &m->fields[field];
	if (f->length == 0 || f->length > 19)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < f->length; i++) {
		unsigned d = f->packed ? packed_digit(f->data, f->length, i) : (uint8_t)(f->data[i] - '0');
		if (d > 9)
			return false;
		v = v * 10 + d;
	}
	*value = v;
	return true;
}

bool iso_field_equals(const struct iso_msg *m, int field, const char *text)
{
	if (field < 0 || field > ISO_MAX_FIELD || !iso_has(m, field))
		return false;
	const struct iso_field *f = &m->fields[field];
	for (size_t i = 0; i < f->length; i++) {
		if (text[i] == '\0')
			return false;
		char c = f->packed ? (char)('0' + packed_digit(f->data, f->length, i)) : (char)f->data[i];
		if (c != text[i])
			return false;
	}
	return text[f->length] == '\0';
}

const char *iso_error_name(enum iso_error_code code)
{
	switch (code) {
	case ISO_OK: return "ok";
	case ISO_ERR_TRUNCATED: return "truncated";
	case ISO_ERR_BAD_LENGTH: return "bad_length";
	case ISO_ERR_NOT_DIGIT: return "not_digit";
	case ISO_ERR_BAD_MTI: return "bad_mti";
	case ISO_ERR_ABSENT_DATA: return "absent_data";
	case ISO_ERR_TRAILING_BYTES: return "trailing_bytes";
	case ISO_ERR_TOO_LONG: return "too_long";
	case ISO_ERR_UNKNOWN_FIELD: return "unknown_field";
	case ISO_ERR_BUFFER_TOO_SMALL: return "buffer_too_small";
	case ISO_ERR_BAD_VALUE: return "bad_value";
	}
	return "unknown_error";
}

static const char *error_text(enum iso_error_code code)
{
	switch (code) {
	case ISO_OK: return "no error";
	case ISO_ERR_TRUNCATED: return "frame ends inside the element";
	case ISO_ERR_BAD_LENGTH: return "length prefix is not digits";
	case ISO_ERR_NOT_DIGIT: return "non-digit in numeric field";
	case ISO_ERR_BAD_MTI: return "MTI is not 4 digits of version 1 (ISO 8583:1993)";
	case ISO_ERR_ABSENT_DATA: return "bitmap announces an element the frame lacks";
	case ISO_ERR_TRAILING_BYTES: return "bytes left after the last element";
	case ISO_ERR_TOO_LONG: return "element longer than its specification allows";
	case ISO_ERR_UNKNOWN_FIELD: return "element not defined by the profile";
	case ISO_ERR_BUFFER_TOO_SMALL: return "output buffer too small";
	case ISO_ERR_BAD_VALUE: return "value does not match its content class or length";
	}
	return "unknown error";
}

int iso_error_format(const struct iso_error *err, char *out, size_t capacity)
{
	const char *text = error_text(err->code);
	if (err->field > 0)
		return snprintf(out, capacity, "field %d at byte %zu: %s", err->field, err->offset, text);
	if (err->field == 0)
		return snprintf(out, capacity, "MTI at byte %zu: %s", err->offset, text);
	if (err->code == ISO_ERR_TRUNCATED) /* the only element without a number */
		return snprintf(out, capacity, "primary bitmap at byte %zu: %s", err->offset, text);
	return snprintf(out, capacity, "message at byte %zu: %s", err->offset, text);
}
