/*
 * ISO 8583:1993 codec: table-driven, zero-copy decode, allocation-free encode.
 *
 * A profile (struct iso_profile) describes how every one of the 128 data
 * elements is laid out on the wire; the code below never special-cases a
 * field number, so a new wire profile is a new table, not new code.
 *
 * Decoded messages hold views into the caller's frame: the frame must outlive
 * the message. Numeric values are exposed in their logical form (ASCII digits)
 * through iso_field_text() and friends, whatever the wire encoding (ASCII or packed BCD).
 */
#ifndef ISO8583_H
#define ISO8583_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ISO_MAX_FIELD 128
#define ISO_MAX_MESSAGE 4096 /* largest message any agent accepts or builds */

/* Content class of a data element (ISO 8583:1993 attribute notation). */
enum iso_content {
	ISO_N,    /* numeric digits */
	ISO_AN,   /* alphanumeric: A-Z a-z 0-9 and space (fixed elements pad with spaces) */
	ISO_ANS,  /* alphanumeric and special: printable ASCII 0x20..0x7e */
	ISO_Z,    /* track 2/3 code set (ISO/IEC 7813): 0x30..0x3f, and 'D' as separator */
	ISO_B,    /* binary */
	ISO_BITMAP,
};

enum iso_length_kind { ISO_FIXED, ISO_LLVAR, ISO_LLLVAR, ISO_LLLLVAR };

struct iso_field_spec {
	uint8_t content;     /* enum iso_content */
	uint8_t length_kind; /* enum iso_length_kind */
	uint16_t max_length; /* digits for n/z, bytes for b, characters otherwise */
	const char *name;
};

/* How numbers are written: ASCII digits, or packed BCD (two digits a byte). */
enum iso_number_encoding { ISO_ENC_ASCII, ISO_ENC_BCD };

/* Where the zero nibble of an odd count of packed digits goes. */
enum iso_bcd_padding { ISO_PAD_LEFT, ISO_PAD_RIGHT };

struct iso_profile {
	const char *name;
	uint8_t mti_encoding;    /* enum iso_number_encoding */
	uint8_t number_encoding; /* numeric data elements */
	uint8_t length_encoding; /* LL/LLL length prefixes */
	uint8_t bcd_padding;     /* enum iso_bcd_padding, for packed numeric elements */
	struct iso_field_spec fields[ISO_MAX_FIELD + 1]; /* index = field number; 1 = secondary bitmap */
};

/* Default profile: ASCII MTI and numerics, binary bitmaps, ASCII LL lengths. */
extern const struct iso_profile iso_profile_ascii;
/* BCD profile, odd digit counts padded on the left (the usual BCD host). */
extern const struct iso_profile iso_profile_bcd;
/* Byte for byte jPOS's ISO93BPackager: BCD padded on the right, DE 49-51 as
 * characters, DE 97 (x+n16) not carried. */
extern const struct iso_profile iso_profile_jpos93b;

/* The profile of that name ("ascii", "bcd", "jpos93b"), or NULL. */
const struct iso_profile *iso_profile_by_name(const char *name);

/* A field as it sits in a frame (decode) or in caller memory (encode). */
struct iso_field {
	const uint8_t *data; /* wire bytes after decode; logical bytes before encode */
	uint16_t length;     /* logical length: digits for n/z, bytes otherwise */
	bool packed;         /* data is packed BCD (decoded from a BCD profile) */
	bool pad_right;      /* packed with an odd count: the zero nibble is last, not first */
};

struct iso_msg {
	uint16_t mti; /* e.g. 1100, as a decimal number */
	uint8_t present[(ISO_MAX_FIELD + 1 + 7) / 8];
	struct iso_field fields[ISO_MAX_FIELD + 1];
};

enum iso_error_code {
	ISO_OK = 0,
	ISO_ERR_TRUNCATED,        /* frame ends inside an element */
	ISO_ERR_BAD_LENGTH,       /* length prefix is not digits */
	ISO_ERR_NOT_DIGIT,        /* non-digit in a numeric element */
	ISO_ERR_BAD_MTI,          /* MTI not 4 digits or not version 1 (1993) */
	ISO_ERR_ABSENT_DATA,      /* bitmap announces an element the frame lacks */
	ISO_ERR_TRAILING_BYTES,   /* bytes left after the last element */
	ISO_ERR_TOO_LONG,         /* element longer than its spec allows */
	ISO_ERR_UNKNOWN_FIELD,    /* field the profile does not define */
	ISO_ERR_BUFFER_TOO_SMALL, /* encode: caller's buffer too small */
	ISO_ERR_BAD_VALUE,        /* encode: value does not match its content class */
	ISO_ERR_BAD_CHARACTER,    /* decode: character outside the element's an/ans/z class */
};

struct iso_error {
	enum iso_error_code code;
	int field;     /* field number, 0 for MTI, -1 when not about a field */
	size_t offset; /* byte offset in the frame where the problem starts */
};

static inline void iso_msg_init(struct iso_msg *m, uint16_t mti)
{
	/* Only the presence bitmap needs clearing: absent fields are never read. */
	m->mti = mti;
	for (size_t i = 0; i < sizeof(m->present); i++)
		m->present[i] = 0;
}

static inline bool iso_has(const struct iso_msg *m, int field)
{
	return (m->present[field >> 3] >> (field & 7)) & 1;
}

static inline void iso_clear(struct iso_msg *m, int field)
{
	m->present[field >> 3] &= (uint8_t)~(1u << (field & 7));
}

/* Sets a field to caller-owned logical bytes (ASCII digits for numerics). */
static inline void iso_set(struct iso_msg *m, int field, const void *data, size_t length)
{
	m->fields[field].data = (const uint8_t *)data;
	m->fields[field].length = (uint16_t)length;
	m->fields[field].packed = false;
	m->present[field >> 3] |= (uint8_t)(1u << (field & 7));
}

static inline void iso_set_str(struct iso_msg *m, int field, const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	iso_set(m, field, s, n);
}

/*
 * True when s[0..n) is printable ASCII (0x20..0x7e). The codec checks the class
 * of every element it decodes, so a decoded an/ans element is always printable;
 * agents still check the text they build keys from (a NUL would cut a C string
 * short) because those keys also come from salvaged and hand-built messages.
 */
static inline bool iso_printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* Decodes one bare message (no length header). Returns ISO_OK or an error code. */
enum iso_error_code iso_decode(const struct iso_profile *p, const uint8_t *frame, size_t length,
			       struct iso_msg *out, struct iso_error *err);

/* Encodes into buf; *written gets the byte count. Nothing is allocated. */
enum iso_error_code iso_encode(const struct iso_profile *p, const struct iso_msg *m, uint8_t *buf,
			       size_t capacity, size_t *written, struct iso_error *err);

/* Copies a field's logical value (digits unpacked from BCD) into out, NUL-terminated.
 * Returns the length, or -1 if absent or out is too small. */
int iso_field_text(const struct iso_msg *m, int field, char *out, size_t capacity);

/* Parses a numeric field as an unsigned integer; false if absent, not digits or > 19 digits. */
bool iso_field_u64(const struct iso_msg *m, int field, uint64_t *value);

/* True if the field is present and equals the given logical text. */
bool iso_field_equals(const struct iso_msg *m, int field, const char *text);

const char *iso_error_name(enum iso_error_code code);
/* "field 4 at byte 23: non-digit in numeric field" */
int iso_error_format(const struct iso_error *err, char *out, size_t capacity);

#endif
