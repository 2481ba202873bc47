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
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t load_le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint16_t load_le16(const uint8_t *p)
{
	uint16_t v;
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

/*
 * The n (0..8) bytes at s as a little-endian word, bytes n..7 taken from
 * fill, reading nothing outside s[0..n): two overlapping loads whose common
 * bytes are equal, so OR-ing them is exact.
 */
static inline uint64_t load_upto8(const uint8_t *s, size_t n, uint64_t fill)
{
	uint64_t x;
	if (n >= 4)
		x = load_le32(s) | (uint64_t)load_le32(s + n - 4) << ((n - 4) * 8);
	else if (n >= 2)
		x = load_le16(s) | (uint64_t)load_le16(s + n - 2) << ((n - 2) * 8);
	else
		x = n ? s[0] : 0;
	if (n < 8)
		x |= fill << (n * 8);
	return x;
}

/* Copies n bytes; short copies (most elements) without a library call. */
static inline void copy_bytes(uint8_t *d, const uint8_t *s, size_t n)
{
	if (n > 16) {
		memcpy(d, s, n);
	} else if (n >= 8) {
		uint64_t a = load_le64(s), b = load_le64(s + n - 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		uint32_t a = load_le32(s), b = load_le32(s + n - 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &b, 4);
	} else if (n >= 2) {
		uint16_t a = load_le16(s), b = load_le16(s + n - 2);
		memcpy(d, &a, 2);
		memcpy(d + n - 2, &b, 2);
	} else if (n) {
		d[0] = s[0];
	}
}

/*
 * Non-zero iff some byte of x is not an ASCII digit: with a = x - '0' per
 * byte, a digit has a <= 9, so neither a nor a + 0x76 reaches bit 7. Borrows
 * and carries between bytes start only at a byte that is itself flagged, so
 * the lowest bad byte is always seen and a word of digits gives exactly 0.
 */
static inline uint64_t ascii_nondigit_mask(uint64_t x)
{
	uint64_t a = x - 0x30 * ONES8;
	return (a | (a + 0x76 * ONES8)) & (0x80 * ONES8);
}

/*
 * Per byte of y (every byte below 0x80), bit 7 set iff the byte is >= n
 * (n <= 0x80): the sum stays below 0x100 in every byte, so nothing carries.
 */
static inline uint64_t bytes_at_least(uint64_t y, unsigned n)
{
	return (y + (uint64_t)(0x80 - n) * ONES8) & (0x80 * ONES8);
}

/* Per byte of y (every byte below 0x80), bit 7 set iff the byte is zero. */
static inline uint64_t bytes_zero(uint64_t y)
{
	return ~(y + 0x7F * ONES8) & (0x80 * ONES8);
}

/*
 * Non-zero iff some byte of x is outside 0x20..0x7e (ans). As with digits:
 * a good byte neither borrows in x - 0x20 nor carries in x + 1, so the lowest
 * bad byte is always flagged and a word of good bytes gives exactly 0.
 */
static inline uint64_t ans_violation_mask(uint64_t x)
{
	return (x | (x - 0x20 * ONES8) | (x + ONES8)) & (0x80 * ONES8);
}

/* Non-zero iff some byte of x is not a letter, a digit or a space (an): exact per byte. */
static inline uint64_t an_violation_mask(uint64_t x)
{
	uint64_t y = x & 0x7F * ONES8;
	uint64_t digit = bytes_at_least(y, '0') & ~bytes_at_least(y, '9' + 1);
	uint64_t folded = y | 0x20 * ONES8; /* only 'A'..'Z' fold onto 'a'..'z' */
	uint64_t letter = bytes_at_least(folded, 'a') & ~bytes_at_least(folded, 'z' + 1);
	uint64_t space = bytes_zero(y ^ 0x20 * ONES8);
	return (x & 0x80 * ONES8) | (~(digit | letter | space) & 0x80 * ONES8);
}

/* Non-zero iff some byte of x is outside the track code set 0x30..0x3f and not 'D' (z). */
static inline uint64_t z_violation_mask(uint64_t x)
{
	uint64_t y = x & 0x7F * ONES8;
	uint64_t in_set = bytes_zero((y ^ 0x30 * ONES8) & 0x70 * ONES8);
	uint64_t separator = bytes_zero(y ^ 0x44 * ONES8);
	return (x & 0x80 * ONES8) | (~(in_set | separator) & 0x80 * ONES8);
}

_Static_assert(ISO_ANS == ISO_AN + 1 && ISO_Z == ISO_AN + 2, "the character classes are consecutive");

static inline bool has_character_class(unsigned content)
{
	return content - ISO_AN <= ISO_Z - ISO_AN;
}

static inline uint64_t class_violation_mask(unsigned content, uint64_t x)
{
	if (content == ISO_ANS)
		return ans_violation_mask(x);
	return content == ISO_AN ? an_violation_mask(x) : z_violation_mask(x);
}

/*
 * Non-zero iff some byte of s[0..n) fails mask's class: a word at a time, the
 * last word overlapping the one before it; '0' (in every class) fills a short
 * element. Always inlined with a constant mask, so each class gets its own
 * straight-line copy with no indirect call.
 */
static inline __attribute__((always_inline)) uint64_t words_violating(uint64_t (*mask)(uint64_t),
								       const uint8_t *s, size_t n)
{
	if (likely(n <= 8))
		return mask(load_upto8(s, n, 0x30 * ONES8));
	uint64_t bad = mask(load_le64(s + n - 8));
	for (size_t i = 0; i + 8 < n; i += 8)
		bad |= mask(load_le64(s + i));
	return bad;
}

/* Zero iff s[0..n) is all in the character class content (ISO_AN, ISO_ANS or ISO_Z). */
static inline __attribute__((always_inline)) uint64_t class_violations(unsigned content, const uint8_t *s,
									size_t n)
{
	if (content == ISO_ANS)
		return words_violating(ans_violation_mask, s, n);
	if (content == ISO_AN)
		return words_violating(an_violation_mask, s, n);
	return words_violating(z_violation_mask, s, n);
}

/* Offset of the first byte outside the class (n when none): for the error report only. */
static size_t first_class_violation(unsigned content, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (class_violation_mask(content, s[i] | (0x30 * ONES8) << 8))
			return i;
	return n;
}

static inline bool ascii_all_digits(const uint8_t *s, size_t n)
{
	if (likely(n <= 8))
		return ascii_nondigit_mask(load_upto8(s, n, 0x30 * ONES8)) == 0;
	uint64_t bad = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		bad |= ascii_nondigit_mask(load_le64(s + i));
	if (i < n) /* the last, overlapping word covers the tail */
		bad |= ascii_nondigit_mask(load_le64(s + n - 8));
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

/* Zero iff the pad nibble of an odd count of packed digits (first or last) is zero. */
static inline unsigned bcd_pad_nibble(const uint8_t *s, size_t digits, bool pad_right)
{
	if (!(digits & 1))
		return 0;
	return pad_right ? s[digits / 2] & 0x0F : s[0] >> 4;
}

/* Packed digits: every nibble a digit, and the pad nibble of an odd count zero. */
static inline bool bcd_all_digits(const uint8_t *s, size_t digits, bool pad_right)
{
	size_t n = (digits + 1) / 2;
	if (bcd_pad_nibble(s, digits, pad_right) != 0)
		return false;
	if (likely(n <= 8))
		return bcd_bad_nibble_mask(load_upto8(s, n, 0)) == 0;
	uint64_t bad = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		bad |= bcd_bad_nibble_mask(load_le64(s + i));
	if (i < n)
		bad |= bcd_bad_nibble_mask(load_le64(s + n - 8));
	return bad == 0;
}

static size_t first_bad_bcd_byte(const uint8_t *s, size_t digits, bool pad_right)
{
	size_t n = (digits + 1) / 2;
	if (!pad_right && bcd_pad_nibble(s, digits, false) != 0)
		return 0;
	size_t i = 0;
	while (i < n && bcd_byte_ok(s[i]))
		i++;
	return i < n || n == 0 ? i : n - 1; /* all nibbles digits: the right pad nibble is the fault */
}

/* Digit at logical position i of a packed field of `digits` digits. */
static inline unsigned packed_digit(const uint8_t *s, size_t digits, size_t i, bool pad_right)
{
	size_t nibble = i + (pad_right ? 0 : digits & 1); /* left padding: start after the pad nibble */
	uint8_t b = s[nibble >> 1];
	return (nibble & 1) ? (b & 0x0F) : (b >> 4);
}

/* Packs eight ASCII digits (already checked) into four BCD bytes. */
static inline uint32_t pack8(uint64_t ascii)
{
	uint64_t x = ascii - 0x30 * ONES8;                            /* byte k = digit k */
	uint64_t y = ((x << 4) | (x >> 8)) & 0x00FF00FF00FF00FFull;    /* byte 2k = digit 2k, 2k+1 */
	y = (y | (y >> 8)) & 0x0000FFFF0000FFFFull;
	return (uint32_t)(y | (y >> 16));
}

static void pack_digits(uint8_t *out, const uint8_t *digits, size_t n, bool pad_right)
{
	size_t i = 0;
	if ((n & 1) && !pad_right) {
		*out++ = (uint8_t)(digits[0] - '0');
		i = 1;
	}
	for (; i + 8 <= n; i += 8, out += 4) {
		uint32_t packed = pack8(load_le64(digits + i));
		memcpy(out, &packed, 4);
	}
	for (; i + 2 <= n; i += 2)
		*out++ = (uint8_t)(((digits[i] - '0') << 4) | (digits[i + 1] - '0'));
	if (i < n) /* odd count padded on the right */
		*out = (uint8_t)((digits[i] - '0') << 4);
}

static void unpack_digits(char *out, const uint8_t *packed, size_t digits, bool pad_right)
{
	for (size_t i = 0; i < digits; i++)
		out[i] = (char)('0' + packed_digit(packed, digits, i, pad_right));
}

/* Packed digits from one padding to the other (odd counts only differ). */
static void repack_digits(uint8_t *out, const uint8_t *packed, size_t digits, bool from_right, bool to_right)
{
	size_t bytes = (digits + 1) / 2;
	memset(out, 0, bytes);
	size_t skip = to_right ? 0 : digits & 1;
	for (size_t i = 0; i < digits; i++) {
		size_t nibble = i + skip;
		out[nibble >> 1] |= (uint8_t)(packed_digit(packed, digits, i, from_right) << ((nibble & 1) ? 0 : 4));
	}
}

/* Length prefix sizes by length kind. ASCII: one character a digit; BCD: LL
 * in one byte, LLL and LLLL in two. */
static const uint8_t prefix_sizes[2][4] = { [ISO_ENC_ASCII] = { 0, 2, 3, 4 },
					    [ISO_ENC_BCD] = { 0, 1, 2, 2 } };

static inline const uint8_t *prefix_size_table(uint8_t length_encoding)
{
	return prefix_sizes[length_encoding == ISO_ENC_BCD];
}

static inline unsigned bcd_value(uint8_t b)
{
	return (unsigned)(b >> 4) * 10 + (b & 0x0F);
}

/* Reads a length prefix of psz bytes holding `digits` digits; false if it is not digits. */
static inline bool read_prefix(uint8_t length_encoding, const uint8_t *p, size_t psz,
			       unsigned digits, unsigned *value)
{
	if (length_encoding == ISO_ENC_BCD) {
		if (psz == 1) {
			*value = bcd_value(p[0]);
			return bcd_byte_ok(p[0]);
		}
		/* LLL keeps a zero pad nibble in front of its three digits. */
		*value = bcd_value(p[0]) * 100 + bcd_value(p[1]);
		return bcd_byte_ok(p[0]) && bcd_byte_ok(p[1]) && !((digits & 1) && (p[0] >> 4));
	}
	unsigned d0 = (uint8_t)(p[0] - '0'), d1 = (uint8_t)(p[1] - '0');
	unsigned v = d0 * 10 + d1;
	bool bad = (d0 > 9) | (d1 > 9);
	if (psz >= 3) {
		unsigned d2 = (uint8_t)(p[2] - '0');
		v = v * 10 + d2;
		bad |= d2 > 9;
		if (psz == 4) {
			unsigned d3 = (uint8_t)(p[3] - '0');
			v = v * 10 + d3;
			bad |= d3 > 9;
		}
	}
	*value = v;
	return !bad;
}

static inline uint8_t bcd_byte(unsigned v)
{
	return (uint8_t)((v / 10 % 10) << 4 | v % 10);
}

static inline void write_prefix(uint8_t length_encoding, uint8_t *p, size_t psz, unsigned v)
{
	if (length_encoding == ISO_ENC_BCD) {
		if (psz == 1) {
			p[0] = bcd_byte(v);
		} else {
			p[0] = bcd_byte(v / 100);
			p[1] = bcd_byte(v % 100);
		}
		return;
	}
	switch (psz) {
	case 4:
		p[0] = (uint8_t)('0' + v / 1000 % 10);
		p[1] = (uint8_t)('0' + v / 100 % 10);
		p[2] = (uint8_t)('0' + v / 10 % 10);
		p[3] = (uint8_t)('0' + v % 10);
		break;
	case 3:
		p[0] = (uint8_t)('0' + v / 100 % 10);
		p[1] = (uint8_t)('0' + v / 10 % 10);
		p[2] = (uint8_t)('0' + v % 10);
		break;
	default:
		p[0] = (uint8_t)('0' + v / 10 % 10);
		p[1] = (uint8_t)('0' + v % 10);
		break;
	}
}

static enum iso_error_code fail(struct iso_error *err, enum iso_error_code code, int field,
				size_t offset)
{
	if (err) {
		err->code = code;
		err->field = field;
		err->offset = offset;
	}
	return code;
}

static inline enum iso_error_code succeed(struct iso_error *err, size_t offset)
{
	if (err) {
		err->code = ISO_OK;
		err->field = -1;
		err->offset = offset;
	}
	return ISO_OK;
}

/* The frame ended before element f was complete: absent if none of it is there. */
static enum iso_error_code ended(struct iso_error *err, int f, size_t start, size_t length)
{
	return fail(err, start == length ? ISO_ERR_ABSENT_DATA : ISO_ERR_TRUNCATED, f, start);
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

/* Presence bits from the wire bitmaps (field f at bit 64 - f of its word):
 * the same bit string, reversed. */
static inline void set_presence(struct iso_msg *m, uint64_t primary_wire, uint64_t secondary_wire)
{
	uint64_t first = reverse_bits(primary_wire);    /* bit f-1: fields 1..64 */
	uint64_t second = reverse_bits(secondary_wire); /* bit f-65: fields 65..128 */
	uint64_t low = first << 1, high = (first >> 63) | (second << 1);
	memcpy(m->present, &low, 8);
	memcpy(m->present + 8, &high, 8);
	m->present[16] = (uint8_t)(second >> 63);
}

/*
 * The element loop of iso_decode. Inlined twice: once with the ASCII profile's
 * encodings as constants, so that the compiler drops the BCD branches from the
 * loop every fast-path message goes through, and once for any profile.
 */
static inline __attribute__((always_inline)) enum iso_error_code
decode_elements(const struct iso_profile *p, const uint8_t *frame, size_t length, struct iso_msg *out,
		struct iso_error *err, uint64_t words[2], size_t *pos_io, uint8_t length_encoding,
		bool packed_numbers)
{
	size_t pos = *pos_io;
	const uint8_t *prefix_size = prefix_size_table(length_encoding);
	const bool pad_right = packed_numbers && p->bcd_padding == ISO_PAD_RIGHT;
	for (int w = 0; w < 2; w++) {
		uint64_t bits = words[w];
		while (bits) {
			int lead = __builtin_clzll(bits);
			int f = lead + 1 + 64 * w;
			bits ^= (1ull << 63) >> lead;
			const struct iso_field_spec *spec = &p->fields[f];
			size_t start = pos, at = pos;
			unsigned logical = spec->max_length;
			if (unlikely(logical == 0))
				return fail(err, ISO_ERR_UNKNOWN_FIELD, f, start);
			if (spec->length_kind != ISO_FIXED) {
				size_t psz = prefix_size[spec->length_kind & 3];
				if (unlikely(length - at < psz))
					return ended(err, f, start, length);
				if (unlikely(!read_prefix(length_encoding, frame + at, psz, spec->length_kind + 1u,
							  &logical)))
					return fail(err, ISO_ERR_BAD_LENGTH, f, start);
				if (unlikely(logical > spec->max_length))
					return fail(err, ISO_ERR_TOO_LONG, f, start);
				at += psz;
			}
			bool numeric = spec->content == ISO_N;
			bool packed = numeric && packed_numbers;
			size_t wire = packed ? (logical + 1) / 2 : logical;
			if (unlikely(length - at < wire))
				return ended(err, f, start, length);
			if (numeric) {
				if (packed) {
					if (unlikely(!bcd_all_digits(frame + at, logical, pad_right)))
						return fail(err, ISO_ERR_NOT_DIGIT, f,
							    at + first_bad_bcd_byte(frame + at, logical, pad_right));
				} else if (unlikely(!ascii_all_digits(frame + at, logical))) {
					return fail(err, ISO_ERR_NOT_DIGIT, f,
						    at + first_ascii_nondigit(frame + at, logical));
				}
			} else if (has_character_class(spec->content)) {
				if (unlikely(class_violations(spec->content, frame + at, logical)))
					return fail(err, ISO_ERR_BAD_CHARACTER, f,
						    at + first_class_violation(spec->content, frame + at, logical));
			}
			out->fields[f].data = frame + at;
			out->fields[f].length = (uint16_t)logical;
			out->fields[f].packed = packed;
			out->fields[f].pad_right = packed && pad_right;
			pos = at + wire;
		}
	}
	*pos_io = pos;
	return ISO_OK;
}

/*
 * The ASCII profile's element loop for messages that decode: every check the
 * general loop makes, but a failure only says "not this way", and the caller
 * then runs the general loop, which finds the same failure and reports it
 * precisely. Free of error bookkeeping and with digit checks folded into one
 * test at the end, the loop keeps what it needs in registers.
 */
static inline bool decode_ascii_fast(const struct iso_profile *p, const uint8_t *frame, size_t length,
				     struct iso_msg *out, uint64_t first_word, uint64_t second_word, size_t pos)
{
	const uint8_t *at = frame + pos, *end = frame + length;
	uint64_t bad = 0;
	uint64_t bits = first_word;
	int base = 0;
	for (int w = 0; w < 2; w++, bits = second_word, base = 64) {
		while (bits) {
			int lead = __builtin_clzll(bits);
			int f = lead + 1 + base;
			bits ^= (1ull << 63) >> lead;
			const struct iso_field_spec *spec = &p->fields[f];
			size_t max = spec->max_length, n = max;
			if (unlikely(max == 0))
				return false;
			unsigned kind = spec->length_kind;
			if (kind != ISO_FIXED) {
				size_t psz = kind + 1; /* ASCII LL, LLL, LLLL */
				if (unlikely((size_t)(end - at) < psz))
					return false;
				unsigned value;
				if (unlikely(!read_prefix(ISO_ENC_ASCII, at, psz, kind + 1u, &value) || value > max))
					return false;
				n = value;
				at += psz;
			}
			if (unlikely((size_t)(end - at) < n))
				return false;
			if (spec->content == ISO_N) {
				if (likely(n <= 8)) {
					bad |= ascii_nondigit_mask(load_upto8(at, n, 0x30 * ONES8));
				} else {
					size_t i = 0;
					for (; i + 8 <= n; i += 8)
						bad |= ascii_nondigit_mask(load_le64(at + i));
					if (i < n)
						bad |= ascii_nondigit_mask(load_le64(at + n - 8));
				}
			} else if (has_character_class(spec->content)) {
				bad |= class_violations(spec->content, at, n);
			}
			out->fields[f].data = at;
			out->fields[f].length = (uint16_t)n;
			out->fields[f].packed = false;
			out->fields[f].pad_right = false;
			at += n;
		}
	}
	return bad == 0 && at == end;
}

/* On any error the message is left with no field present. */
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
		d[0] = (uint8_t)(frame[0] - '0');
		d[1] = (uint8_t)(frame[1] - '0');
		d[2] = (uint8_t)(frame[2] - '0');
		d[3] = (uint8_t)(frame[3] - '0');
		pos = 4;
	}
	if (d[0] != 1 || d[1] > 9 || d[2] > 9 || d[3] > 9)
		return fail(err, ISO_ERR_BAD_MTI, 0, 0);
	out->mti = (uint16_t)(1000 + d[1] * 100 + d[2] * 10 + d[3]);

	/* The primary bitmap is not a numbered element: errors about it carry field -1. */
	if (length - pos < 8)
		return fail(err, ISO_ERR_TRUNCATED, -1, pos);
	uint64_t words[2] = { load_be64(frame + pos), 0 }; /* field f is bit 64 - f of its word */
	pos += 8;
	if (words[0] >> 63) {
		if (length - pos < 8)
			return ended(err, 1, pos, length);
		out->fields[1].data = frame + pos;
		out->fields[1].length = 8;
		out->fields[1].packed = false;
		out->fields[1].pad_right = false;
		words[1] = load_be64(frame + pos);
		pos += 8;
	}
	const uint64_t primary_wire = words[0], secondary_wire = words[1];
	words[0] &= ~(1ull << 63);

	enum iso_error_code code;
	if (p->length_encoding == ISO_ENC_ASCII && p->number_encoding == ISO_ENC_ASCII) {
		if (likely(decode_ascii_fast(p, frame, length, out, words[0], words[1], pos))) {
			set_presence(out, primary_wire, secondary_wire);
			return succeed(err, length);
		}
		code = decode_elements(p, frame, length, out, err, words, &pos, ISO_ENC_ASCII, false);
	} else
		code = decode_elements(p, frame, length, out, err, words, &pos, p->length_encoding,
				       p->number_encoding == ISO_ENC_BCD);
	if (unlikely(code != ISO_OK))
		return code;
	if (unlikely(pos != length))
		return fail(err, ISO_ERR_TRAILING_BYTES, -1, pos);
	set_presence(out, primary_wire, secondary_wire);
	return succeed(err, pos);
}

enum iso_error_code iso_encode(const struct iso_profile *p, const struct iso_msg *m, uint8_t *buf,
			       size_t capacity, size_t *written, struct iso_error *err)
{
	*written = 0;
	if (m->mti < 1000 || m->mti > 1999)
		return fail(err, ISO_ERR_BAD_MTI, 0, 0);

	/* present[] holds field f at bit f of a little-endian bit string; fields 0
	 * (MTI) and 1 (secondary bitmap) are the codec's own business. */
	uint64_t low = load_le64(m->present) & ~3ull;   /* fields 2..63 */
	uint64_t high = load_le64(m->present + 8);      /* fields 64..127 */
	uint64_t top = m->present[16] & 1u;             /* field 128 */
	uint64_t words[2] = {
		(low >> 1) | (high << 63), /* bit f-1: fields 2..64 */
		(high >> 1) | (top << 63), /* bit f-65: fields 65..128 */
	};
	uint64_t primary = reverse_bits(words[0]) | (words[1] ? 1ull << 63 : 0);

	size_t mti_size = p->mti_encoding == ISO_ENC_BCD ? 2 : 4;
	size_t head = mti_size + (words[1] ? 16 : 8);
	if (capacity < head)
		return fail(err, ISO_ERR_BUFFER_TOO_SMALL, 0, 0);
	unsigned mti = m->mti;
	if (p->mti_encoding == ISO_ENC_BCD) {
		buf[0] = (uint8_t)(0x10 | (mti / 100 % 10));
		buf[1] = bcd_byte(mti % 100);
	} else {
		buf[0] = '1';
		buf[1] = (uint8_t)('0' + mti / 100 % 10);
		buf[2] = (uint8_t)('0' + mti / 10 % 10);
		buf[3] = (uint8_t)('0' + mti % 10);
	}
	store_be64(buf + mti_size, primary);
	if (words[1])
		store_be64(buf + mti_size + 8, reverse_bits(words[1]));
	size_t pos = head;

	const uint8_t length_encoding = p->length_encoding;
	const uint8_t *prefix_size = prefix_size_table(length_encoding);
	const bool packed_numbers = p->number_encoding == ISO_ENC_BCD;
	const bool pad_right = p->bcd_padding == ISO_PAD_RIGHT;
	for (int w = 0; w < 2; w++) {
		uint64_t bits = words[w];
		while (bits) {
			int f = __builtin_ctzll(bits) + 1 + 64 * w;
			bits &= bits - 1;
			const struct iso_field_spec *spec = &p->fields[f];
			const struct iso_field *fld = &m->fields[f];
			size_t start = pos;
			size_t logical = fld->length, max = spec->max_length;
			/* One range test: fixed elements need exactly max, others 0..max. */
			size_t min = spec->length_kind == ISO_FIXED ? max : 0;
			if (unlikely(max == 0 || logical - min > max - min)) {
				if (max == 0)
					return fail(err, ISO_ERR_UNKNOWN_FIELD, f, start);
				return fail(err, logical > max ? ISO_ERR_TOO_LONG : ISO_ERR_BAD_VALUE, f, start);
			}

			/* A packed value is digits whatever the element's class here: a
			 * message decoded from a profile where the element is n (say DE 49
			 * from bcd) encodes into one where it is characters (jpos93b). */
			bool numeric = spec->content == ISO_N;
			bool from_packed = fld->packed;
			bool to_packed = numeric && packed_numbers;
			bool from_right = from_packed && fld->pad_right;
			if (from_packed) {
				if (unlikely(!bcd_all_digits(fld->data, logical, from_right)))
					return fail(err, ISO_ERR_BAD_VALUE, f, start);
			} else if (numeric) {
				if (unlikely(!ascii_all_digits(fld->data, logical)))
					return fail(err, ISO_ERR_BAD_VALUE, f, start);
			} else if (has_character_class(spec->content) &&
				   unlikely(class_violations(spec->content, fld->data, logical))) {
				return fail(err, ISO_ERR_BAD_VALUE, f, start);
			}
			size_t wire = to_packed ? (logical + 1) / 2 : logical;
			size_t psz = prefix_size[spec->length_kind & 3];
			if (unlikely(capacity - start < psz + wire))
				return fail(err, ISO_ERR_BUFFER_TOO_SMALL, f, start);

			uint8_t *o = buf + start;
			if (psz) {
				write_prefix(length_encoding, o, psz, (unsigned)logical);
				o += psz;
			}
			if (likely(to_packed == from_packed)) {
				if (unlikely(to_packed && (logical & 1) && from_right != pad_right))
					repack_digits(o, fld->data, logical, from_right, pad_right);
				else
					copy_bytes(o, fld->data, wire);
			} else if (to_packed) {
				pack_digits(o, fld->data, logical, pad_right);
			} else {
				unpack_digits((char *)o, fld->data, logical, from_right);
			}
			pos = start + psz + wire;
		}
	}
	*written = pos;
	return succeed(err, pos);
}

int iso_field_text(const struct iso_msg *m, int field, char *out, size_t capacity)
{
	if (field < 0 || field > ISO_MAX_FIELD || !iso_has(m, field))
		return -1;
	const struct iso_field *f = &m->fields[field];
	if ((size_t)f->length + 1 > capacity)
		return -1;
	if (f->packed)
		unpack_digits(out, f->data, f->length, f->pad_right);
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
		unsigned d = f->packed ? packed_digit(f->data, f->length, i, f->pad_right) : (uint8_t)(f->data[i] - '0');
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
		char c = f->packed ? (char)('0' + packed_digit(f->data, f->length, i, f->pad_right)) : (char)f->data[i];
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
	case ISO_ERR_BAD_CHARACTER: return "bad_character";
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
	case ISO_ERR_BAD_CHARACTER: return "character outside the element's class (an, ans or z)";
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
