#include "iso_messages.h"

#include <stdio.h>
#include <string.h>

#include "framing.h"

struct test_payment test_payment_default(const char *pan, unsigned stan, uint64_t amount)
{
	struct test_payment p = {
		.pan = pan,
		.amount = amount,
		.stan = stan,
		.local_time = "261125120000",
		.rrn = "RRN000000001",
		.terminal = "TERM0001",
		.expiry = "3012",
		.acquirer = "30000000003",
		.currency = "978",
	};
	return p;
}

struct texts {
	char amount[13], stan[7], rrn[13], original[36], rev_stan[7];
};

static void common_fields(struct iso_msg *m, const struct test_payment *p, struct texts *t)
{
	snprintf(t->amount, sizeof(t->amount), "%012llu", (unsigned long long)p->amount);
	snprintf(t->stan, sizeof(t->stan), "%06u", p->stan % 1000000u);
	iso_set_str(m, 2, p->pan);
	iso_set_str(m, 3, "000000");
	iso_set_str(m, 4, t->amount);
	iso_set_str(m, 7, "1125120000");
	iso_set_str(m, 12, p->local_time);
	iso_set_str(m, 32, p->acquirer);
	iso_set_str(m, 37, p->rrn);
	iso_set_str(m, 41, p->terminal);
	if (p->currency)
		iso_set_str(m, 49, p->currency);
}

static size_t frame(const struct iso_msg *m, uint8_t *buf, size_t capacity)
{
	size_t written;
	struct iso_error err;
	if (capacity < 2 || iso_encode(&iso_profile_ascii, m, buf + 2, capacity - 2, &written, &err) != ISO_OK)
		return 0;
	frame_write_header(FRAME_HEADER_BINARY2, written, buf);
	return written + 2;
}

size_t test_build_1100(const struct test_payment *p, uint8_t *buf, size_t capacity)
{
	struct iso_msg m;
	struct texts t;
	iso_msg_init(&m, 1100);
	common_fields(&m, p, &t);
	iso_set_str(&m, 11, t.stan);
	if (p->expiry)
		iso_set_str(&m, 14, p->expiry);
	iso_set_str(&m, 22, "100000000000");
	iso_set_str(&m, 24, "100");
	iso_set_str(&m, 42, "MERCHANT0000001");
	return frame(&m, buf, capacity);
}

size_t test_build_reversal(const struct test_payment *p, uint16_t mti, unsigned reversal_stan, uint8_t *buf,
			   size_t capacity)
{
	struct iso_msg m;
	struct texts t;
	iso_msg_init(&m, mti);
	common_fields(&m, p, &t);
	snprintf(t.rev_stan, sizeof(t.rev_stan), "%06u", reversal_stan % 1000000u);
	iso_set_str(&m, 11, t.rev_stan);
	iso_set_str(&m, 24, "400");
	snprintf(t.original, sizeof(t.original), "1100%s%s%02zu%s", t.stan, p->local_time, strlen(p->acquirer),
		 p->acquirer);
	iso_set_str(&m, 56, t.original);
	return frame(&m, buf, capacity);
}

int test_parse_answers(const uint8_t *data, size_t length, struct test_answer *out, int capacity)
{
	int n = 0;
	size_t consumed;
	for (size_t at = 0; at < length && n < capacity; at += consumed) {
		const uint8_t *msg;
		size_t msg_len;
		if (frame_next(FRAME_HEADER_BINARY2, data + at, length - at, ISO_MAX_MESSAGE, &msg, &msg_len,
			       &consumed) != FRAME_OK)
			return -1;
		struct iso_msg m;
		struct iso_error err;
		if (iso_decode(&iso_profile_ascii, msg, msg_len, &m, &err) != ISO_OK)
			return -1;
		struct test_answer *a = &out[n++];
		memset(a, 0, sizeof(*a));
		a->mti = m.mti;
		iso_field_text(&m, 11, a->stan, sizeof(a->stan));
		iso_field_text(&m, 37, a->rrn, sizeof(a->rrn));
		iso_field_text(&m, 39, a->action, sizeof(a->action));
		iso_field_text(&m, 2, a->pan, sizeof(a->pan));
		iso_field_text(&m, 4, a->amount, sizeof(a->amount));
		iso_field_text(&m, 56, a->original_data, sizeof(a->original_data));
		a->has_approval = iso_field_text(&m, 38, a->approval, sizeof(a->approval)) > 0;
	}
	return n;
}
