#include "pending_table.h"

#include <stdlib.h>
#include <string.h>

#include "switch_fields.h"
#include "table_memory.h"

bool pending_table_init(struct pending_table *t, uint8_t worker, uint32_t capacity)
{
	memset(t, 0, sizeof(*t));
	if (worker >= PENDING_MAX_WORKERS || capacity == 0 || capacity > PENDING_MAX_SLOTS)
		return false;
	t->capacity = capacity; /* before allocating: destroy frees the slots by their count */
	t->slots = table_calloc(capacity, sizeof(*t->slots));
	t->free_list = malloc(sizeof(*t->free_list) * capacity);
	if (!t->slots || !t->free_list) {
		pending_table_destroy(t);
		return false;
	}
	t->worker = worker;
	for (uint32_t i = 0; i < capacity; i++)
		t->free_list[i] = i;
	t->free_head = 0;
	t->free_count = capacity;
	return true;
}

void pending_table_destroy(struct pending_table *t)
{
	table_free(t->slots, t->capacity, sizeof(*t->slots));
	free(t->free_list);
	memset(t, 0, sizeof(*t));
}

uint32_t pending_alloc(struct pending_table *t)
{
	if (t->free_count == 0)
		return UINT32_MAX;
	uint32_t slot = t->free_list[t->free_head];
	t->free_head = t->free_head + 1 == t->capacity ? 0 : t->free_head + 1;
	t->free_count--;
	t->in_use++;
	struct pending_txn *p = &t->slots[slot];
	p->kind = PENDING_TAKEN; /* not FREE: a slot given up before it is filled in must still be released */
	p->answer = ADVICE_TELLS_NOBODY;
	p->advice_submitted = false;
	p->bank_original[0] = '\0';
	p->cardholder_reversed = false;
	return slot;
}

void pending_release(struct pending_table *t, uint32_t slot)
{
	if (slot >= t->capacity || t->slots[slot].kind == PENDING_FREE)
		return;
	t->slots[slot].kind = PENDING_FREE;
	uint32_t tail = t->free_head + t->free_count;
	t->free_list[tail >= t->capacity ? tail - t->capacity : tail] = slot;
	t->free_count++;
	t->in_use--;
}

void pending_stan(uint8_t worker, uint32_t slot, bool reversal, char out[7])
{
	uint32_t v = (uint32_t)worker * 100000u + slot + (reversal ? PENDING_REVERSAL_OFFSET : 0);
	/* Three pairs of digits from a table: few divisions, no loop (this runs twice an authorization). */
	static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
				    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
				    "8081828384858687888990919293949596979899";
	uint32_t high = v / 10000, rest = v - high * 10000, middle = rest / 100, low = rest - middle * 100;
	memcpy(out, pairs + 2 * (high % 100), 2);
	memcpy(out + 2, pairs + 2 * middle, 2);
	memcpy(out + 4, pairs + 2 * low, 2);
	out[6] = '\0';
}

bool pending_stan_parse(const char *stan, size_t len, struct stan_owner *out)
{
	if (len != 6)
		return false;
	const unsigned char *s = (const unsigned char *)stan;
	unsigned d0 = s[0] - '0', d1 = s[1] - '0', d2 = s[2] - '0', d3 = s[3] - '0', d4 = s[4] - '0',
		 d5 = s[5] - '0';
	if ((d0 > 9) | (d1 > 9) | (d2 > 9) | (d3 > 9) | (d4 > 9) | (d5 > 9))
		return false;
	uint32_t v = (d0 * 10 + d1) * 10000 + (d2 * 10 + d3) * 100 + d4 * 10 + d5;
	out->worker = (uint8_t)(v / 100000u);
	uint32_t rest = v % 100000u;
	out->reversal = rest >= PENDING_REVERSAL_OFFSET;
	out->slot = out->reversal ? rest - PENDING_REVERSAL_OFFSET : rest;
	return true;
}

static bool take(const struct iso_msg *m, int field, char *out, size_t size, bool required)
{
	if (!iso_has(m, field)) {
		out[0] = '\0';
		return !required;
	}
	return field_text(m, field, out, size) >= 0;
}

/* For an/ans elements (numeric ones are digits by the codec's check): the switch
 * rebuilds 911s and reversals from the text, which a NUL would cut short. */
static bool take_text(const struct iso_msg *m, int field, char *out, size_t size)
{
	int n = iso_has(m, field) ? field_text(m, field, out, size) : -1;
	return n >= 0 && iso_printable(out, (size_t)n);
}

bool pending_fields_capture(const struct iso_msg *m, struct pending_fields *f)
{
	return take(m, 2, f->pan, sizeof(f->pan), true) && take(m, 3, f->processing, sizeof(f->processing), true) &&
	       take(m, 4, f->amount, sizeof(f->amount), true) &&
	       take(m, 7, f->transmission, sizeof(f->transmission), true) &&
	       take(m, 11, f->stan, sizeof(f->stan), true) &&
	       take(m, 12, f->local_time, sizeof(f->local_time), true) &&
	       take(m, 32, f->acquirer, sizeof(f->acquirer), true) && take_text(m, 37, f->rrn, sizeof(f->rrn)) &&
	       take_text(m, 41, f->terminal, sizeof(f->terminal)) &&
	       take(m, 49, f->currency, sizeof(f->currency), true) &&
	       take(m, 56, f->original, sizeof(f->original), false);
}

struct pending_txn *pending_match(struct pending_table *t, const struct iso_msg *answer, uint32_t *slot_out)
{
	char stan[7];
	struct stan_owner owner;
	if (field_text(answer, 11, stan, sizeof(stan)) != 6 || !pending_stan_parse(stan, 6, &owner))
		return NULL;
	return pending_match_owned(t, answer, &owner, slot_out);
}

struct pending_txn *pending_match_owned(struct pending_table *t, const struct iso_msg *answer,
					const struct stan_owner *stan_owner, uint32_t *slot_out)
{
	struct stan_owner owner = *stan_owner;
	if (owner.worker != t->worker || owner.slot >= t->capacity)
		return NULL;
	struct pending_txn *p = &t->slots[owner.slot];
	/* Only authorizations wait here for their answer; reversal advices are
	 * answered to the store-and-forward queue. */
	if (owner.reversal || answer->mti / 100 == 14)
		return NULL;
	if (p->kind != PENDING_AUTHORIZATION && p->kind != PENDING_ADVICE) {
		/* PENDING_ADVICE still matches a 1110: it is the late answer to a
		 * timed-out authorization, which the caller counts and drops. */
		return NULL;
	}
	if (!field_equals_text(answer, 37, p->f.rrn) || !field_equals_text(answer, 41, p->f.terminal))
		return NULL;
	*slot_out = owner.slot;
	return p;
}

bool pending_is_late(const struct pending_table *t, const struct iso_msg *answer)
{
	char stan[7];
	struct stan_owner owner;
	if (field_text(answer, 11, stan, sizeof(stan)) != 6 || !pending_stan_parse(stan, 6, &owner) ||
	    owner.worker != t->worker || owner.slot >= t->capacity)
		return false;
	/* A released slot keeps its last transaction's data until it is reused. */
	const struct pending_txn *p = &t->slots[owner.slot];
	return p->f.rrn[0] && field_equals_text(answer, 37, p->f.rrn) && field_equals_text(answer, 41, p->f.terminal);
}
