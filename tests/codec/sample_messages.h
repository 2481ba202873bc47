/* The messages the agents exchange (docs/protocol.md), built field by field
 * so that every test can round-trip the real shapes. */
#ifndef SAMPLE_MESSAGES_H
#define SAMPLE_MESSAGES_H

#include "iso8583.h"

static const uint8_t sample_mac[8] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x80, 0xff };

/* A 1100 in the ASCII profile written out byte by byte, independent of the encoder.
 * Offsets: MTI 0..3, bitmap 4..11, DE 2 prefix 12..13 and digits 14..29,
 * DE 3 30..35, DE 4 36..47, DE 11 48..53, DE 41 54..61; 62 bytes. */
static const char sample_ascii_1100[] = "1100"
					"\x70\x20\x00\x00\x00\x80\x00\x00"
					"16"
					"5105100000000001"
					"000000"
					"000000001000"
					"123456"
					"TERM0001";
#define SAMPLE_ASCII_1100_LEN (sizeof(sample_ascii_1100) - 1)

static inline void sample_1100(struct iso_msg *m)
{
	iso_msg_init(m, 1100);
	iso_set_str(m, 2, "5105100000000001");
	iso_set_str(m, 3, "000000");
	iso_set_str(m, 4, "000000001000");
	iso_set_str(m, 7, "1125171900");
	iso_set_str(m, 11, "123456");
	iso_set_str(m, 12, "261125171900");
	iso_set_str(m, 14, "3012");
	iso_set_str(m, 22, "A00101A00000");
	iso_set_str(m, 24, "100");
	iso_set_str(m, 32, "51051000");
	iso_set_str(m, 37, "000000123456");
	iso_set_str(m, 41, "TERM0001");
	iso_set_str(m, 42, "MERCHANT0000001");
	iso_set_str(m, 49, "978");
}

static inline void sample_1110(struct iso_msg *m, const char *action)
{
	iso_msg_init(m, 1110);
	iso_set_str(m, 2, "5105100000000001");
	iso_set_str(m, 3, "000000");
	iso_set_str(m, 4, "000000001000");
	iso_set_str(m, 7, "1125171900");
	iso_set_str(m, 11, "123456");
	iso_set_str(m, 12, "261125171900");
	iso_set_str(m, 32, "51051000");
	iso_set_str(m, 37, "000000123456");
	iso_set_str(m, 38, "A1B2C3");
	iso_set_str(m, 39, action);
	iso_set_str(m, 41, "TERM0001");
	iso_set_str(m, 49, "978");
}

/* 1420 reversal advice (1421 its repeat): DE 56 = MTI + STAN + DE 12 + LL + DE 32. */
static inline void sample_142x(struct iso_msg *m, uint16_t mti)
{
	iso_msg_init(m, mti);
	iso_set_str(m, 2, "4111111100000007");
	iso_set_str(m, 3, "000000");
	iso_set_str(m, 4, "000000025000");
	iso_set_str(m, 7, "1125172005");
	iso_set_str(m, 11, "654321");
	iso_set_str(m, 12, "261125172005");
	iso_set_str(m, 24, "400");
	iso_set_str(m, 32, "41111111");
	iso_set_str(m, 37, "000000654320");
	iso_set_str(m, 41, "TERM0002");
	iso_set_str(m, 49, "840");
	iso_set_str(m, 56, "110065432026112517200008" "41111111");
}

static inline void sample_1430(struct iso_msg *m)
{
	sample_142x(m, 1430);
	iso_set_str(m, 39, "400");
}

/* Network management (echo) with a secondary bitmap: DE 93/94 and a MAC in 128. */
static inline void sample_180x(struct iso_msg *m, uint16_t mti)
{
	iso_msg_init(m, mti);
	iso_set_str(m, 7, "1125172100");
	iso_set_str(m, 11, "000042");
	iso_set_str(m, 12, "261125172100");
	iso_set_str(m, 24, "831");
	if (mti == 1814)
		iso_set_str(m, 39, "800");
	iso_set_str(m, 93, "51051000");
	iso_set_str(m, 94, "4111111");
	iso_set(m, 128, sample_mac, sizeof(sample_mac));
}

#endif
