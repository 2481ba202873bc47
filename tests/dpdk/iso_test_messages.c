#include "iso_test_messages.h"

#include "iso_mac.h"

#include <stdio.h>

#include "framing.h"

void iso_text_msg_put(struct iso_text_msg *t, int field, const char *value)
{
	snprintf(t->text[field], sizeof t->text[field], "%s", value);
	iso_set_str(&t->m, field, t->text[field]);
}

void iso_text_msg_cardholder_1100(struct iso_text_msg *t, const struct iso_cardholder_1100 *c)
{
	iso_msg_init(&t->m, 1100);
	iso_text_msg_put(t, 2, c->pan);
	iso_text_msg_put(t, 3, "000000");
	iso_text_msg_put(t, 4, c->amount);
	iso_text_msg_put(t, 7, "1125120000");
	iso_text_msg_put(t, 11, c->stan);
	iso_text_msg_put(t, 12, "261125120000");
	iso_text_msg_put(t, 14, c->expiry);
	iso_text_msg_put(t, 22, "100000000000");
	iso_text_msg_put(t, 24, "100");
	iso_text_msg_put(t, 32, "30000000003");
	iso_text_msg_put(t, 37, c->rrn);
	iso_text_msg_put(t, 41, c->terminal);
	iso_text_msg_put(t, 42, "MERCHANT0000001");
	iso_text_msg_put(t, 49, "978");
}

void iso_approval_of(const struct iso_msg *request, struct iso_msg *answer, const char *approval_code)
{
	static const int echoed[] = {2, 3, 4, 7, 11, 12, 32, 37, 41, 49};
	iso_msg_init(answer, 1110);
	for (size_t k = 0; k < sizeof echoed / sizeof echoed[0]; k++)
		if (iso_has(request, echoed[k]))
			iso_set(answer, echoed[k], request->fields[echoed[k]].data, request->fields[echoed[k]].length);
	iso_set_str(answer, 38, approval_code);
	iso_set_str(answer, 39, "000");
}

size_t iso_encode_framed_signed(struct iso_msg *m, struct iso_cmac *mac, uint8_t *out, size_t capacity)
{
	if (!mac)
		return iso_encode_framed(m, out, capacity);
	iso_mac_reserve(m);
	size_t n = iso_encode_framed(m, out, capacity);
	return n && iso_cmac_sign_frame(mac, out + 2, n - 2) ? n : 0;
}

size_t iso_encode_framed(const struct iso_msg *m, uint8_t *out, size_t capacity)
{
	size_t written;
	struct iso_error err;
	if (capacity <= 2 || iso_encode(&iso_profile_ascii, m, out + 2, capacity - 2, &written, &err) != ISO_OK)
		return 0;
	frame_write_header(FRAME_HEADER_BINARY2, written, out);
	return written + 2;
}
