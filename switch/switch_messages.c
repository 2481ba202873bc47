#include "switch_messages.h"

#include <string.h>

#include "framing.h"
#include "iso_mac.h"
#include "mti.h"
#include "network_checks.h"
#include "salvage.h"

void action_code_text(int action, char out[4])
{
	out[0] = (char)('0' + (action / 100) % 10);
	out[1] = (char)('0' + (action / 10) % 10);
	out[2] = (char)('0' + action % 10);
	out[3] = '\0';
}

size_t switch_encode_framed(struct iso_msg *m, uint8_t *buf, size_t capacity)
{
	if (capacity < 2)
		return 0;
	iso_mac_reserve(m); /* the sender writes the MAC of the link the message leaves on */
	size_t written = 0;
	if (iso_encode(SWITCH_PROFILE, m, buf + 2, capacity - 2, &written, NULL) != ISO_OK)
		return 0;
	if (frame_write_header(FRAME_HEADER_BINARY2, written, buf) != 2)
		return 0;
	return written + 2;
}

/* Fields are copied as logical text: decoded fields may be packed BCD on other profiles. */
struct text_fields {
	char text[ISO_MAX_FIELD + 1][40];
};

static void echo(struct iso_msg *out, const struct iso_msg *in, int field, struct text_fields *t)
{
	if (!iso_has(in, field))
		return;
	if (!in->fields[field].packed) {
		/* Unpacked wire bytes are the logical value: share them. */
		out->fields[field] = in->fields[field];
		out->present[field >> 3] |= (uint8_t)(1u << (field & 7));
		return;
	}
	int n = iso_field_text(in, field, t->text[field], sizeof(t->text[field]));
	if (n >= 0)
		iso_set(out, field, t->text[field], (size_t)n);
}

size_t switch_build_answer(const struct iso_msg *request, int action, uint8_t *buf, size_t capacity)
{
	static const int echoed[] = {2, 3, 4, 7, 11, 12, 32, 37, 41, 49, 56};
	struct text_fields t;
	struct iso_msg out;
	iso_msg_init(&out, iso_mti_response_of(request->mti));
	for (size_t i = 0; i < sizeof(echoed) / sizeof(echoed[0]); i++)
		echo(&out, request, echoed[i], &t);
	char code[4];
	action_code_text(action, code);
	iso_set(&out, 39, code, 3);
	return switch_encode_framed(&out, buf, capacity);
}

static void set_text(struct iso_msg *m, int field, const char *text)
{
	if (text[0])
		iso_set_str(m, field, text);
}

static void set_pending_fields(struct iso_msg *m, const struct pending_fields *f)
{
	set_text(m, 2, f->pan);
	set_text(m, 3, f->processing);
	set_text(m, 4, f->amount);
	set_text(m, 7, f->transmission);
	set_text(m, 12, f->local_time);
	set_text(m, 32, f->acquirer);
	set_text(m, 37, f->rrn);
	set_text(m, 41, f->terminal);
	set_text(m, 49, f->currency);
}

size_t switch_build_pending_answer(const struct pending_txn *p, int action, uint8_t *buf, size_t capacity)
{
	struct iso_msg out;
	iso_msg_init(&out, 1110);
	set_pending_fields(&out, &p->f);
	set_text(&out, 11, p->f.stan);
	char code[4];
	action_code_text(action, code);
	iso_set(&out, 39, code, 3);
	return switch_encode_framed(&out, buf, capacity);
}

size_t switch_build_pending_reversal_answer(const struct pending_txn *p, int action, uint8_t *buf,
					    size_t capacity)
{
	struct iso_msg out;
	iso_msg_init(&out, 1430);
	set_pending_fields(&out, &p->f);
	set_text(&out, 11, p->f.stan);
	set_text(&out, 56, p->f.original);
	char code[4];
	action_code_text(action, code);
	iso_set(&out, 39, code, 3);
	return switch_encode_framed(&out, buf, capacity);
}

bool switch_decode_readable_prefix(const uint8_t *frame, size_t length, const struct iso_error *err,
				   uint8_t *scratch, size_t scratch_size, struct iso_msg *out)
{
	/* ASCII profile: MTI in 4 bytes, then the 8-byte primary bitmap. */
	const size_t bitmap_at = 4, fields_at = 12;
	if (err->field < 2 || err->field > 64 || err->offset < fields_at || err->offset > length ||
	    err->offset > scratch_size || (frame[bitmap_at] & 0x80))
		return false;
	/* The decoder goes element by element, so the elements before the faulty
	 * one lie in the first err->offset bytes (err->offset may point inside the
	 * faulty element, at its bad byte): only those are copied and salvaged. */
	return iso_salvage_decode(SWITCH_PROFILE, frame, err->offset, err, scratch, out);
}
