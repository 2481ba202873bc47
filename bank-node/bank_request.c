#include "bank_request.h"

#include "iso_mac.h"

#include <string.h>

#include "framing.h"
#include "mti.h"

/* Copies a present field's text; false when it does not fit or is not printable
 * ASCII (absent gives ""). A NUL in a key would cut it short, and the echo of a
 * cut fixed-length element would not encode: the request decided, its answer lost. */
static bool copy_field(const struct iso_msg *m, int field, char *out, size_t capacity)
{
	out[0] = '\0';
	if (!iso_has(m, field))
		return true;
	int n = iso_field_text(m, field, out, capacity);
	if (n < 0 || !iso_printable(out, (size_t)n)) {
		out[0] = '\0';
		return false;
	}
	return true;
}

bool bank_request_salvage(const struct iso_msg *m, struct bank_request *req)
{
	memset(req, 0, sizeof(*req));
	req->mti = m->mti;
	if (m->mti < 1000 || !iso_mti_is_request(m->mti))
		return false;
	/* These are numeric: the codec has checked their digits and lengths. */
	copy_field(m, 2, req->pan, sizeof(req->pan));
	copy_field(m, 3, req->processing_code, sizeof(req->processing_code));
	copy_field(m, 4, req->amount_text, sizeof(req->amount_text));
	copy_field(m, 7, req->transmission_time, sizeof(req->transmission_time));
	copy_field(m, 12, req->local_time, sizeof(req->local_time));
	copy_field(m, 14, req->expiry, sizeof(req->expiry));
	copy_field(m, 32, req->acquirer, sizeof(req->acquirer));
	copy_field(m, 49, req->currency, sizeof(req->currency));
	copy_field(m, 56, req->original_data, sizeof(req->original_data));
	bool keys = copy_field(m, 11, req->stan, sizeof(req->stan)) &&
		    copy_field(m, 37, req->rrn, sizeof(req->rrn)) &&
		    copy_field(m, 41, req->terminal, sizeof(req->terminal));
	return keys && req->stan[0] && req->rrn[0] && req->terminal[0];
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* DE 56: original MTI (4), STAN (6), local date/time (12), LL, acquirer id (LL digits). */
static bool parse_original_data(const char *de56, char *stan, char *local_time, char *acquirer)
{
	size_t n = strlen(de56);
	if (n < 4 + 6 + 12 + 2 + 1 || !all_digits(de56, n))
		return false;
	size_t acq_len = (size_t)(de56[22] - '0') * 10 + (size_t)(de56[23] - '0');
	if (acq_len == 0 || acq_len > 11 || 24 + acq_len != n)
		return false;
	memcpy(stan, de56 + 4, 6);
	stan[6] = '\0';
	memcpy(local_time, de56 + 10, 12);
	local_time[12] = '\0';
	memcpy(acquirer, de56 + 24, acq_len);
	acquirer[acq_len] = '\0';
	return true;
}

static enum bank_parse_result reject(int *bad_field, int field)
{
	*bad_field = field;
	return PARSE_REJECT;
}

enum bank_parse_result bank_request_parse(const struct iso_msg *m, struct bank_request *req, int *bad_field)
{
	*bad_field = -1;
	if (!bank_request_salvage(m, req))
		return PARSE_IGNORE;
	static const int keys_of_1100[] = {2, 4, 12, 32};
	switch (m->mti) {
	case 1100:
	case 1101: /* the repeat: bank_core looks for what it repeats under any STAN */
		req->kind = BANK_AUTHORIZATION;
		for (size_t i = 0; i < sizeof(keys_of_1100) / sizeof(keys_of_1100[0]); i++)
			if (!iso_has(m, keys_of_1100[i]))
				return reject(bad_field, keys_of_1100[i]);
		if (!req->pan[0])
			return reject(bad_field, 2);
		if (!iso_field_u64(m, 4, &req->amount))
			return reject(bad_field, 4);
		if (!journal_key_build(&req->key, req->acquirer, req->stan, req->local_time, req->rrn,
				       req->terminal))
			return reject(bad_field, 11);
		return PARSE_OK;
	case 1420:
	case 1421: {
		req->kind = BANK_REVERSAL;
		char stan[7], local_time[13], acquirer[12];
		if (!parse_original_data(req->original_data, stan, local_time, acquirer))
			return reject(bad_field, 56);
		if (iso_has(m, 4) && !iso_field_u64(m, 4, &req->amount))
			return reject(bad_field, 4);
		if (!journal_key_build(&req->key, acquirer, stan, local_time, req->rrn, req->terminal))
			return reject(bad_field, 56);
		return PARSE_OK;
	}
	default:
		return reject(bad_field, 0); /* a request this bank does not serve */
	}
}

size_t bank_reply_encode(const struct iso_profile *p, const struct bank_request *req, uint8_t *buf,
			 size_t capacity)
{
	struct iso_msg reply;
	iso_msg_init(&reply, iso_mti_response_of(req->mti));
	const struct {
		int field;
		const char *text;
	} echo[] = {
		{2, req->pan},		    {3, req->processing_code}, {4, req->amount_text},
		{7, req->transmission_time}, {11, req->stan},	       {12, req->local_time},
		{32, req->acquirer},	    {37, req->rrn},	       {41, req->terminal},
		{49, req->currency},
	};
	for (size_t i = 0; i < sizeof(echo) / sizeof(echo[0]); i++)
		if (echo[i].text[0])
			iso_set_str(&reply, echo[i].field, echo[i].text);
	if ((req->mti / 100) % 10 == 4 && req->original_data[0]) /* reversal class */
		iso_set_str(&reply, 56, req->original_data);
	if (strcmp(req->action, "000") == 0 && req->approval[0])
		iso_set_str(&reply, 38, req->approval);
	iso_set_str(&reply, 39, req->action[0] ? req->action : "909");
	iso_mac_reserve(&reply);

	size_t header = frame_header_size(FRAME_HEADER_BINARY2);
	if (capacity <= header)
		return 0;
	size_t written;
	struct iso_error err;
	if (iso_encode(p, &reply, buf + header, capacity - header, &written, &err) != ISO_OK)
		return 0;
	if (frame_write_header(FRAME_HEADER_BINARY2, written, buf) != header)
		return 0;
	return header + written;
}
