#include <criterion/criterion.h>
#include <stdio.h>

#include "message_builder.h"
#include "outcome_memory.h"
#include "txn_key.h"

static struct txn_key key_n(unsigned n)
{
	char stan[7], rrn[13];
	snprintf(stan, sizeof(stan), "%06u", n % 1000000);
	snprintf(rrn, sizeof(rrn), "R%011u", n);
	struct txn_key k;
	cr_assert(txn_key_make("30000000003", stan, "261125120000", rrn, "TERM0001", &k));
	return k;
}

Test(outcome_memory, remembers_and_overwrites)
{
	struct outcome_memory m;
	cr_assert(outcome_memory_init(&m, 8));
	struct txn_key a = key_n(1), b = key_n(2);
	struct outcome o = {.kind = OUTCOME_PENDING, .slot = 5};
	outcome_memory_put(&m, &a, &o);
	cr_assert_null(outcome_memory_find(&m, &b));
	cr_assert_eq(outcome_memory_find(&m, &a)->slot, 5);
	o.kind = OUTCOME_APPROVED;
	memcpy(o.bank_stan, "012345", 7);
	outcome_memory_put(&m, &a, &o);
	cr_assert_eq(m.count, 1, "same key, same entry");
	cr_assert_eq(outcome_memory_find(&m, &a)->kind, OUTCOME_APPROVED);
	cr_assert_str_eq(outcome_memory_find(&m, &a)->bank_stan, "012345");
	outcome_memory_destroy(&m);
}

Test(outcome_memory, evicts_the_oldest_when_full)
{
	struct outcome_memory m;
	cr_assert(outcome_memory_init(&m, 100));
	struct outcome o = {.kind = OUTCOME_REFUSED};
	for (unsigned i = 0; i < 250; i++) {
		struct txn_key k = key_n(i);
		o.slot = i;
		outcome_memory_put(&m, &k, &o);
	}
	cr_assert_eq(m.count, 100);
	cr_assert_eq(m.evictions, 150);
	for (unsigned i = 0; i < 250; i++) {
		struct txn_key k = key_n(i);
		struct outcome *found = outcome_memory_find(&m, &k);
		if (i < 150) {
			cr_assert_null(found, "%u should be evicted", i);
		} else {
			cr_assert_not_null(found, "%u should be remembered", i);
			cr_assert_eq(found->slot, i);
		}
	}
	outcome_memory_destroy(&m);
}

Test(txn_key, request_and_its_reversal_have_the_same_key)
{
	struct test_msg auth, rev;
	tm_authorization(&auth, "5105100000000001", "3012", "000777", "000000001000");
	tm_reversal_of(&rev, &auth, "000778");
	struct txn_key a, r;
	cr_assert(txn_key_of_request(&auth.m, &a));
	cr_assert(txn_key_of_reversal(&rev.m, &r));
	cr_assert(txn_key_equal(&a, &r));
	struct txn_key other;
	cr_assert(txn_key_of_request(&rev.m, &other));
	cr_assert_not(txn_key_equal(&a, &other), "the reversal's own STAN is another key");
}

Test(txn_key, original_data_round_trip_and_errors)
{
	struct original_data od;
	const char *text = "110012345626112512000011" "30000000003";
	cr_assert(original_data_parse(text, strlen(text), &od));
	cr_assert_str_eq(od.mti, "1100");
	cr_assert_str_eq(od.stan, "123456");
	cr_assert_str_eq(od.local_time, "261125120000");
	cr_assert_str_eq(od.acquirer, "30000000003");
	char out[40];
	cr_assert_eq(original_data_format(&od, out, sizeof(out)), strlen(text));
	cr_assert_str_eq(out, text);
	cr_assert_not(original_data_parse(text, strlen(text) - 1, &od), "acquirer shorter than its length");
	cr_assert_not(original_data_parse("1100123456", 10, &od), "too short");
	cr_assert_not(original_data_parse("110012345626112512000012" "300000000031", 36, &od), "length 12 > 11");
}

Test(outcome_memory, upsert_then_update_in_place_until_evicted)
{
	struct outcome_memory m;
	cr_assert(outcome_memory_init(&m, 4));
	struct txn_key a = key_n(1);
	bool existed;
	struct outcome *o = outcome_memory_upsert(&m, &a, &existed);
	cr_assert_not(existed);
	cr_assert_eq(o->kind, 0, "a new value starts zeroed");
	o->kind = OUTCOME_PENDING;
	uint32_t at = outcome_memory_index(&m, o);
	cr_assert_eq(outcome_memory_upsert(&m, &a, &existed), o);
	cr_assert(existed);
	struct outcome *again = outcome_memory_at(&m, at, &a);
	cr_assert_eq(again, o);
	again->kind = OUTCOME_APPROVED;
	cr_assert_eq(outcome_memory_find(&m, &a)->kind, OUTCOME_APPROVED);
	for (unsigned i = 2; i < 6; i++) {
		struct txn_key k = key_n(i);
		outcome_memory_upsert(&m, &k, &existed)->kind = OUTCOME_REFUSED;
	}
	cr_assert_null(outcome_memory_at(&m, at, &a), "evicted: the slot holds another key now");
	cr_assert_null(outcome_memory_find(&m, &a));
	cr_assert_null(outcome_memory_at(&m, 99, &a));
	outcome_memory_destroy(&m);
}

/* Random upserts against a plain model (the last `capacity` distinct keys, FIFO). */
Test(outcome_memory, agrees_with_a_fifo_model_under_random_upserts)
{
	enum { POOL = 300, CAPACITY = 37, STEPS = 20000 };
	static struct txn_key pool[POOL];
	for (unsigned i = 0; i < POOL; i++)
		pool[i] = key_n(i * 7919u);
	int model[CAPACITY];
	int model_count = 0, model_head = 0;
	struct outcome_memory m;
	cr_assert(outcome_memory_init(&m, CAPACITY));
	uint64_t x = 88172645463325252ull;
	for (int step = 0; step < STEPS; step++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int k = (int)(x % POOL);
		bool in_model = false;
		for (int i = 0; i < model_count; i++)
			in_model |= model[(model_head + i) % CAPACITY] == k;
		bool existed;
		struct outcome *o = outcome_memory_upsert(&m, &pool[k], &existed);
		cr_assert_eq(existed, in_model, "step %d key %d", step, k);
		if (existed) {
			cr_assert_eq(o->slot, (uint32_t)k, "step %d: another key's value", step);
		} else {
			o->slot = (uint32_t)k;
			if (model_count == CAPACITY) {
				model_head = (model_head + 1) % CAPACITY;
				model_count--;
			}
			model[(model_head + model_count) % CAPACITY] = k;
			model_count++;
		}
		if (step % 500 == 0) {
			for (int j = 0; j < POOL; j++) {
				bool want = false;
				for (int i = 0; i < model_count; i++)
					want |= model[(model_head + i) % CAPACITY] == j;
				struct outcome *f = outcome_memory_find(&m, &pool[j]);
				cr_assert_eq(f != NULL, want, "step %d: key %d presence", step, j);
				if (f)
					cr_assert_eq(f->slot, (uint32_t)j);
			}
		}
	}
	outcome_memory_destroy(&m);
}
