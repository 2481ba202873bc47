/*
 * The ISO 8583:1993 data element table, shared by both wire profiles: the
 * profiles differ only in how numbers and length prefixes are written.
 *
 * Content classes follow the 1993 edition. Where the edition allows a choice
 * or uses a class the codec has no separate notion of, the table says which:
 *   - 49..51 currency codes are "a or n 3": numeric 3 (ISO 4217 numeric).
 *   - 34 is "ns..28": kept as ans (no narrower check).
 *   - 97 is "x+n16" (C/D sign then 16 digits): an 17 on both profiles.
 *   - 65 is "reserved for ISO use" b8 in 1993 (the 1987 extended-bitmap
 *     meaning is gone): carried as opaque 8 bytes.
 * Track data (35 z..37, 36 z..104) travel as characters in both profiles,
 * as jPOS ISO93BPackager does.
 */
#include "iso8583.h"

#include <string.h>

#define ISO_1993_DATA_ELEMENTS \
		[1] = { ISO_BITMAP, ISO_FIXED, 8, "Bitmap, secondary" }, \
		[2] = { ISO_N, ISO_LLVAR, 19, "Primary account number" }, \
		[3] = { ISO_N, ISO_FIXED, 6, "Processing code" }, \
		[4] = { ISO_N, ISO_FIXED, 12, "Amount, transaction" }, \
		[5] = { ISO_N, ISO_FIXED, 12, "Amount, reconciliation" }, \
		[6] = { ISO_N, ISO_FIXED, 12, "Amount, cardholder billing" }, \
		[7] = { ISO_N, ISO_FIXED, 10, "Date and time, transmission" }, \
		[8] = { ISO_N, ISO_FIXED, 8, "Amount, cardholder billing fee" }, \
		[9] = { ISO_N, ISO_FIXED, 8, "Conversion rate, reconciliation" }, \
		[10] = { ISO_N, ISO_FIXED, 8, "Conversion rate, cardholder billing" }, \
		[11] = { ISO_N, ISO_FIXED, 6, "Systems trace audit number" }, \
		[12] = { ISO_N, ISO_FIXED, 12, "Date and time, local transaction" }, \
		[13] = { ISO_N, ISO_FIXED, 4, "Date, effective" }, \
		[14] = { ISO_N, ISO_FIXED, 4, "Date, expiration" }, \
		[15] = { ISO_N, ISO_FIXED, 6, "Date, settlement" }, \
		[16] = { ISO_N, ISO_FIXED, 4, "Date, conversion" }, \
		[17] = { ISO_N, ISO_FIXED, 4, "Date, capture" }, \
		[18] = { ISO_N, ISO_FIXED, 4, "Merchant type" }, \
		[19] = { ISO_N, ISO_FIXED, 3, "Country code, acquiring institution" }, \
		[20] = { ISO_N, ISO_FIXED, 3, "Country code, primary account number" }, \
		[21] = { ISO_N, ISO_FIXED, 3, "Country code, forwarding institution" }, \
		[22] = { ISO_AN, ISO_FIXED, 12, "Point of service data code" }, \
		[23] = { ISO_N, ISO_FIXED, 3, "Card sequence number" }, \
		[24] = { ISO_N, ISO_FIXED, 3, "Function code" }, \
		[25] = { ISO_N, ISO_FIXED, 4, "Message reason code" }, \
		[26] = { ISO_N, ISO_FIXED, 4, "Card acceptor business code" }, \
		[27] = { ISO_N, ISO_FIXED, 1, "Approval code length" }, \
		[28] = { ISO_N, ISO_FIXED, 6, "Date, reconciliation" }, \
		[29] = { ISO_N, ISO_FIXED, 3, "Reconciliation indicator" }, \
		[30] = { ISO_N, ISO_FIXED, 24, "Amounts, original" }, \
		[31] = { ISO_ANS, ISO_LLVAR, 99, "Acquirer reference data" }, \
		[32] = { ISO_N, ISO_LLVAR, 11, "Acquiring institution identification code" }, \
		[33] = { ISO_N, ISO_LLVAR, 11, "Forwarding institution identification code" }, \
		[34] = { ISO_ANS, ISO_LLVAR, 28, "Primary account number, extended" }, \
		[35] = { ISO_Z, ISO_LLVAR, 37, "Track 2 data" }, \
		[36] = { ISO_Z, ISO_LLLVAR, 104, "Track 3 data" }, \
		[37] = { ISO_AN, ISO_FIXED, 12, "Retrieval reference number" }, \
		[38] = { ISO_AN, ISO_FIXED, 6, "Approval code" }, \
		[39] = { ISO_N, ISO_FIXED, 3, "Action code" }, \
		[40] = { ISO_N, ISO_FIXED, 3, "Service code" }, \
		[41] = { ISO_ANS, ISO_FIXED, 8, "Card acceptor terminal identification" }, \
		[42] = { ISO_ANS, ISO_FIXED, 15, "Card acceptor identification code" }, \
		[43] = { ISO_ANS, ISO_LLVAR, 99, "Card acceptor name/location" }, \
		[44] = { ISO_ANS, ISO_LLVAR, 99, "Additional response data" }, \
		[45] = { ISO_ANS, ISO_LLVAR, 76, "Track 1 data" }, \
		[46] = { ISO_ANS, ISO_LLLVAR, 204, "Amounts, fees" }, \
		[47] = { ISO_ANS, ISO_LLLVAR, 999, "Additional data, national" }, \
		[48] = { ISO_ANS, ISO_LLLVAR, 999, "Additional data, private" }, \
		[49] = { ISO_N, ISO_FIXED, 3, "Currency code, transaction" }, \
		[50] = { ISO_N, ISO_FIXED, 3, "Currency code, reconciliation" }, \
		[51] = { ISO_N, ISO_FIXED, 3, "Currency code, cardholder billing" }, \
		[52] = { ISO_B, ISO_FIXED, 8, "Personal identification number (PIN) data" }, \
		[53] = { ISO_B, ISO_LLVAR, 48, "Security related control information" }, \
		[54] = { ISO_ANS, ISO_LLLVAR, 120, "Amounts, additional" }, \
		[55] = { ISO_B, ISO_LLLVAR, 255, "Integrated circuit card system related data" }, \
		[56] = { ISO_N, ISO_LLVAR, 35, "Original data elements" }, \
		[57] = { ISO_N, ISO_FIXED, 3, "Authorization life cycle code" }, \
		[58] = { ISO_N, ISO_LLVAR, 11, "Authorizing agent institution identification code" }, \
		[59] = { ISO_ANS, ISO_LLLVAR, 999, "Transport data" }, \
		[60] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for national use" }, \
		[61] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for national use" }, \
		[62] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for private use" }, \
		[63] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for private use" }, \
		[64] = { ISO_B, ISO_FIXED, 8, "Message authentication code" }, \
		[65] = { ISO_B, ISO_FIXED, 8, "Reserved for ISO use" }, \
		[66] = { ISO_ANS, ISO_LLLVAR, 204, "Amounts, original fees" }, \
		[67] = { ISO_N, ISO_FIXED, 2, "Extended payment data" }, \
		[68] = { ISO_N, ISO_FIXED, 3, "Country code, receiving institution" }, \
		[69] = { ISO_N, ISO_FIXED, 3, "Country code, settlement institution" }, \
		[70] = { ISO_N, ISO_FIXED, 3, "Country code, authorizing agent institution" }, \
		[71] = { ISO_N, ISO_FIXED, 8, "Message number" }, \
		[72] = { ISO_ANS, ISO_LLLVAR, 999, "Data record" }, \
		[73] = { ISO_N, ISO_FIXED, 6, "Date, action" }, \
		[74] = { ISO_N, ISO_FIXED, 10, "Credits, number" }, \
		[75] = { ISO_N, ISO_FIXED, 10, "Credits, reversal number" }, \
		[76] = { ISO_N, ISO_FIXED, 10, "Debits, number" }, \
		[77] = { ISO_N, ISO_FIXED, 10, "Debits, reversal number" }, \
		[78] = { ISO_N, ISO_FIXED, 10, "Transfer, number" }, \
		[79] = { ISO_N, ISO_FIXED, 10, "Transfer, reversal number" }, \
		[80] = { ISO_N, ISO_FIXED, 10, "Inquiries, number" }, \
		[81] = { ISO_N, ISO_FIXED, 10, "Authorizations, number" }, \
		[82] = { ISO_N, ISO_FIXED, 10, "Inquiries, reversal number" }, \
		[83] = { ISO_N, ISO_FIXED, 10, "Payments, number" }, \
		[84] = { ISO_N, ISO_FIXED, 10, "Payments, reversal number" }, \
		[85] = { ISO_N, ISO_FIXED, 10, "Fee collections, number" }, \
		[86] = { ISO_N, ISO_FIXED, 16, "Credits, amount" }, \
		[87] = { ISO_N, ISO_FIXED, 16, "Credits, reversal amount" }, \
		[88] = { ISO_N, ISO_FIXED, 16, "Debits, amount" }, \
		[89] = { ISO_N, ISO_FIXED, 16, "Debits, reversal amount" }, \
		[90] = { ISO_N, ISO_FIXED, 10, "Authorizations, reversal number" }, \
		[91] = { ISO_N, ISO_FIXED, 3, "Country code, transaction destination institution" }, \
		[92] = { ISO_N, ISO_FIXED, 3, "Country code, transaction originator institution" }, \
		[93] = { ISO_N, ISO_LLVAR, 11, "Transaction destination institution identification code" }, \
		[94] = { ISO_N, ISO_LLVAR, 11, "Transaction originator institution identification code" }, \
		[95] = { ISO_ANS, ISO_LLVAR, 99, "Card issuer reference data" }, \
		[96] = { ISO_B, ISO_LLLVAR, 999, "Key management data" }, \
		[97] = { ISO_AN, ISO_FIXED, 17, "Amount, net reconciliation" }, \
		[98] = { ISO_ANS, ISO_FIXED, 25, "Payee" }, \
		[99] = { ISO_AN, ISO_LLVAR, 11, "Settlement institution identification code" }, \
		[100] = { ISO_N, ISO_LLVAR, 11, "Receiving institution identification code" }, \
		[101] = { ISO_ANS, ISO_LLVAR, 17, "File name" }, \
		[102] = { ISO_ANS, ISO_LLVAR, 28, "Account identification 1" }, \
		[103] = { ISO_ANS, ISO_LLVAR, 28, "Account identification 2" }, \
		[104] = { ISO_ANS, ISO_LLLVAR, 100, "Transaction description" }, \
		[105] = { ISO_N, ISO_FIXED, 16, "Credits, chargeback amount" }, \
		[106] = { ISO_N, ISO_FIXED, 16, "Debits, chargeback amount" }, \
		[107] = { ISO_N, ISO_FIXED, 10, "Credits, chargeback number" }, \
		[108] = { ISO_N, ISO_FIXED, 10, "Debits, chargeback number" }, \
		[109] = { ISO_ANS, ISO_LLVAR, 84, "Credits, fee amounts" }, \
		[110] = { ISO_ANS, ISO_LLVAR, 84, "Debits, fee amounts" }, \
		[111] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for ISO use" }, \
		[112] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for ISO use" }, \
		[113] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for ISO use" }, \
		[114] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for ISO use" }, \
		[115] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for ISO use" }, \
		[116] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for national use" }, \
		[117] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for national use" }, \
		[118] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for national use" }, \
		[119] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for national use" }, \
		[120] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for national use" }, \
		[121] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for national use" }, \
		[122] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for national use" }, \
		[123] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for private use" }, \
		[124] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for private use" }, \
		[125] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for private use" }, \
		[126] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for private use" }, \
		[127] = { ISO_ANS, ISO_LLLVAR, 999, "Reserved for private use" }, \
		[128] = { ISO_B, ISO_FIXED, 8, "Message authentication code" }

const struct iso_profile iso_profile_ascii = {
	.name = "ascii",
	.mti_encoding = ISO_ENC_ASCII,
	.number_encoding = ISO_ENC_ASCII,
	.length_encoding = ISO_ENC_ASCII,
	.fields = { ISO_1993_DATA_ELEMENTS },
};

/* BCD MTI, numerics and length prefixes (LL one byte, LLL and LLLL two), odd
 * digit counts left-padded with a zero nibble: what most BCD hosts write
 * (jPOS's IFB_ fields with pad=true). Not ISO93BPackager: see below. */
const struct iso_profile iso_profile_bcd = {
	.name = "bcd",
	.mti_encoding = ISO_ENC_BCD,
	.number_encoding = ISO_ENC_BCD,
	.length_encoding = ISO_ENC_BCD,
	.bcd_padding = ISO_PAD_LEFT,
	.fields = { ISO_1993_DATA_ELEMENTS },
};

/*
 * jPOS's ISO93BPackager, byte for byte (tests/codec/vectors/jpos_iso93b.jsonl
 * were packed by it): its numeric fields are built with pad=false, so an odd
 * count of digits has its zero nibble on the right ("123" is 12 30); it
 * carries the currency codes 49-51 as three characters (IF_CHAR), not BCD;
 * and its DE 97 is IFB_AMOUNT (a C/D character, then 16 digits in BCD), a
 * layout this table has no class for, so 97 is left out: a message carrying
 * it is refused as an element the profile does not define.
 */
/* The overrides below replace entries of the shared table on purpose. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const struct iso_profile iso_profile_jpos93b = {
	.name = "jpos93b",
	.mti_encoding = ISO_ENC_BCD,
	.number_encoding = ISO_ENC_BCD,
	.length_encoding = ISO_ENC_BCD,
	.bcd_padding = ISO_PAD_RIGHT,
	.fields = {
		ISO_1993_DATA_ELEMENTS,
		[49] = { ISO_AN, ISO_FIXED, 3, "Currency code, transaction" },
		[50] = { ISO_AN, ISO_FIXED, 3, "Currency code, reconciliation" },
		[51] = { ISO_AN, ISO_FIXED, 3, "Currency code, cardholder billing" },
		[97] = { 0, 0, 0, NULL },
	},
};
#pragma GCC diagnostic pop

const struct iso_profile *iso_profile_by_name(const char *name)
{
	static const struct iso_profile *const all[] = { &iso_profile_ascii, &iso_profile_bcd,
							 &iso_profile_jpos93b };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}
