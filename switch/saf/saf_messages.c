#include "saf_messages.h"

#include <string.h>

#include "txn_key.h"
#include "switch_messages.h"

static void set_text(struct iso_msg *m, int field, const char *text)
{
	if (text[0])
		iso_set_str(m, field, text);
}

size_t saf_build_advice(const struct saf_record *r, bool repeat, uint8_t *buf, size_t capacity)
{
	const struct saf_fields *f = &r->f;
	struct iso_msg out;
	iso_msg_init(&out, repeat ? 1421 : 1420);
	set_text(&out, 2, f->pan);
	set_text(&out, 3, f->processing);
	set_text(&out, 4, f->amount);
	set_text(&out, 7, f->transmission);
	set_text(&out, 11, f->stan);
	set_text(&out, 12, f->local_time);
	iso_set_str(&out, 24, "400");
	set_text(&out, 32, f->acquirer);
	set_text(&out, 37, f->rrn);
	set_text(&out, 41, f->terminal);
	set_text(&out, 49, f->currency);
	set_text(&out, 56, f->original);
	return switch_encode_framed(&out, buf, capacity);
}

static void copy_text(char *to, size_t size, const char *from)
{
	size_t n = strnlen(from, size - 1);
	memcpy(to, from, n);
	to[n] = '\0';
}

void saf_record_of_pending(const struct pending_txn *p, uint8_t worker, uint32_t slot, const char *bank,
			   struct saf_record *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = p->bank_original[0] ? SAF_CARDHOLDER_REVERSAL : SAF_SWITCH_REVERSAL;
	copy_text(out->bank, sizeof(out->bank), bank);
	out->bank_ipv4 = p->bank.sin_addr.s_addr;
	out->bank_port = p->bank.sin_port;
	struct saf_fields *f = &out->f;
	copy_text(f->pan, sizeof(f->pan), p->f.pan);
	copy_text(f->processing, sizeof(f->processing), p->f.processing);
	copy_text(f->amount, sizeof(f->amount), p->f.amount);
	copy_text(f->transmission, sizeof(f->transmission), p->f.transmission);
	copy_text(f->local_time, sizeof(f->local_time), p->f.local_time);
	copy_text(f->acquirer, sizeof(f->acquirer), p->f.acquirer);
	copy_text(f->rrn, sizeof(f->rrn), p->f.rrn);
	copy_text(f->terminal, sizeof(f->terminal), p->f.terminal);
	copy_text(f->currency, sizeof(f->currency), p->f.currency);
	pending_stan(worker, slot, true, f->stan);
	if (p->bank_original[0]) {
		copy_text(f->original, sizeof(f->original), p->bank_original);
		return;
	}
	/* The switch's own: the original under the STAN the switch gave it towards the bank. */
	struct original_data od;
	memcpy(od.mti, "1100", 5);
	pending_stan(worker, slot, false, od.stan);
	memcpy(od.local_time, p->f.local_time, sizeof(od.local_time));
	memcpy(od.acquirer, p->f.acquirer, sizeof(od.acquirer));
	original_data_format(&od, f->original, sizeof(f->original));
}
