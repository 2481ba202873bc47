/*
 * Fuzz target: arbitrary bytes as one ISO 8583 message reaching a bank, down
 * the path bank-node/bank_io.c takes before anything touches the ledger:
 * decode, then either bank_request_parse or (for what does not decode) the
 * salvage that lets a 904 carry the sender's keys; then the answer.
 *
 * Properties: nothing crashes or trips a sanitizer; every request the bank
 * would hand to its writer or answer 904 gets an answer that encodes, decodes
 * again, has the response MTI of its class, and echoes DE 11, 37 and 41 as
 * the sender matches on them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bank_request.h"
#include "framing.h"
#include "fuzz_check.h"
#include "iso8583.h"
#include "mti.h"
#include "salvage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void echoed(const struct iso_msg *answer, int field, const char *sent)
{
	char text[64];
	if (!sent[0]) {
		CHECK(!iso_has(answer, field));
		return;
	}
	int n = iso_field_text(answer, field, text, sizeof(text));
	CHECK(n >= 0 && (size_t)n == strlen(sent) && memcmp(text, sent, (size_t)n) == 0);
}

/* What the bank would send back for req (action already chosen). */
static void answer_is_sound(const struct bank_request *req)
{
	static uint8_t frame[ISO_MAX_MESSAGE + 2];
	size_t n = bank_reply_encode(&iso_profile_ascii, req, frame, sizeof(frame));
	CHECK(n > 2);
	const uint8_t *msg;
	size_t msg_len, consumed;
	CHECK(frame_next(FRAME_HEADER_BINARY2, frame, n, ISO_MAX_MESSAGE, &msg, &msg_len, &consumed) == FRAME_OK);
	CHECK(consumed == n);
	struct iso_msg answer;
	struct iso_error err;
	CHECK(iso_decode(&iso_profile_ascii, msg, msg_len, &answer, &err) == ISO_OK);
	CHECK(answer.mti == iso_mti_response_of(req->mti));
	echoed(&answer, 11, req->stan);
	echoed(&answer, 37, req->rrn);
	echoed(&answer, 41, req->terminal);
	CHECK(iso_has(&answer, 39));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > ISO_MAX_MESSAGE)
		return 0; /* the bank's framing refuses longer messages before decoding */
	struct iso_msg m;
	struct iso_error err;
	struct bank_request req;
	memset(&req, 0, sizeof(req));
	if (iso_decode(&iso_profile_ascii, data, size, &m, &err) != ISO_OK) {
		static uint8_t scratch[ISO_MAX_MESSAGE];
		if (iso_salvage_decode(&iso_profile_ascii, data, size, &err, scratch, &m) &&
		    bank_request_salvage(&m, &req)) {
			memcpy(req.action, "904", 4);
			answer_is_sound(&req);
		}
		return 0;
	}
	int bad_field = 0;
	switch (bank_request_parse(&m, &req, &bad_field)) {
	case PARSE_OK:
		CHECK(req.kind == BANK_AUTHORIZATION || req.kind == BANK_REVERSAL);
		memcpy(req.action, req.kind == BANK_AUTHORIZATION ? "000" : "400", 4);
		memcpy(req.approval, "123456", 7);
		answer_is_sound(&req);
		break;
	case PARSE_REJECT:
		CHECK(bad_field >= 0 && bad_field <= ISO_MAX_FIELD);
		memcpy(req.action, "904", 4);
		answer_is_sound(&req);
		break;
	case PARSE_IGNORE:
		break;
	}
	return 0;
}
