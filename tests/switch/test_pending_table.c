#include <criterion/criterion.h>
#include <string.h>

#include "message_builder.h"
#include "pending_table.h"

Test(pending_table, stan_names_worker_and_slot)
{
	char stan[7];
	pending_stan(3, 1234, false, stan);
	cr_assert_str_eq(stan, "301234");
	pending_stan(3, 1234, true, stan);
	cr_assert_str_eq(stan, "351234");
	pending_stan(0, 0, false, stan);
	cr_assert_str_eq(stan, "000000");
	pending_stan(9, 49999, true, stan);
	cr_assert_str_eq(stan, "999999");

	struct stan_owner o;
	cr_assert(pending_stan_parse("351234", 6, &o));
	cr_assert_eq(o.worker, 3);
	cr_assert_eq(o.slot, 1234);
	cr_assert(o.reversal);
	cr_assert(pending_stan_parse("049999", 6, &o));
	cr_assert_eq(o.worker, 0);
	cr_assert_eq(o.slot, 49999);
	cr_assert_not(o.reversal);
	cr_assert_not(pending_stan_parse("12345", 5, &o));
	cr_assert_not(pending_stan_parse("12a456", 6, &o));
}

Test(pending_table, slots_are_reused_and_bounded)
{
	struct pending_table t;
	cr_assert(pending_table_init(&t, 1, 3));
	uint32_t a = pending_alloc(&t), b = pending_alloc(&t), c = pending_alloc(&t);
	cr_assert_neq(a, UINT32_MAX);
	cr_assert_neq(b, UINT32_MAX);
	cr_assert_neq(c, UINT32_MAX);
	cr_assert_eq(pending_alloc(&t), UINT32_MAX, "full");
	t.slots[b].kind = PENDING_AUTHORIZATION;
	pending_release(&t, b);
	pending_release(&t, b); /* twice is harmless */
	cr_assert_eq(t.in_use, 2);
	cr_assert_eq(pending_alloc(&t), b, "the only free slot");
	pending_table_destroy(&t);
	cr_assert_not(pending_table_init(&t, 10, 3), "worker digit 0..9");
	cr_assert_not(pending_table_init(&t, 0, 50001), "five digits of slot, half for reversals");
}

static void answer_for(const struct test_msg *req, uint16_t mti, const char *stan, struct test_msg *ans)
{
	iso_msg_init(&ans->m, mti);
	static const int echoed[] = {2, 3, 4, 7, 12, 32, 37, 41, 49};
	for (size_t i = 0; i < sizeof(echoed) / sizeof(echoed[0]); i++)
		tm_set(ans, echoed[i], req->text[echoed[i]]);
	tm_set(ans, 11, stan);
	tm_set(ans, 39, "000");
}

Test(pending_table, answers_match_only_their_own_live_transaction)
{
	struct pending_table t;
	cr_assert(pending_table_init(&t, 2, 16));
	struct test_msg req;
	tm_authorization(&req, "5105100000000001", "3012", "123456", "000000001000");
	uint32_t slot = pending_alloc(&t);
	struct pending_txn *p = &t.slots[slot];
	cr_assert(pending_fields_capture(&req.m, &p->f));
	p->kind = PENDING_AUTHORIZATION;
	cr_assert_str_eq(p->f.stan, "123456");

	char stan[7];
	pending_stan(2, slot, false, stan);
	struct test_msg ans;
	uint32_t got;
	answer_for(&req, 1110, stan, &ans);
	cr_assert_eq(pending_match(&t, &ans.m, &got), p);
	cr_assert_eq(got, slot);

	tm_set(&ans, 37, "OTHERRRN0001");
	cr_assert_null(pending_match(&t, &ans.m, &got), "RRN differs: stale answer for a reused slot");
	answer_for(&req, 1110, stan, &ans);
	tm_set(&ans, 41, "OTHERTRM");
	cr_assert_null(pending_match(&t, &ans.m, &got), "terminal differs");

	char other_worker[7];
	pending_stan(3, slot, false, other_worker);
	answer_for(&req, 1110, other_worker, &ans);
	cr_assert_null(pending_match(&t, &ans.m, &got), "another worker's STAN");

	answer_for(&req, 1430, stan, &ans);
	cr_assert_null(pending_match(&t, &ans.m, &got), "a 1430 with an authorization STAN");

	char reversal[7];
	pending_stan(2, slot, true, reversal);
	answer_for(&req, 1430, reversal, &ans);
	cr_assert_null(pending_match(&t, &ans.m, &got), "no reversal waits in a slot");
	p->kind = PENDING_ADVICE;
	cr_assert_null(pending_match(&t, &ans.m, &got), "1430s go to the store-and-forward queue, never to a slot");
	answer_for(&req, 1110, stan, &ans);
	cr_assert_eq(pending_match(&t, &ans.m, &got), p, "a late 1110 still finds its slot (to be counted)");

	pending_release(&t, slot);
	cr_assert_null(pending_match(&t, &ans.m, &got), "released");
	pending_table_destroy(&t);
}

/* DE 37 and 41 are an/ans: the codec lets any byte through, the switch only printable ASCII. */
Test(pending_table, keys_that_are_not_printable_are_not_captured)
{
	struct test_msg req;
	struct pending_fields f;
	tm_authorization(&req, "5105100000000001", "3012", "123456", "000000001000");
	cr_assert(pending_fields_capture(&req.m, &f));
	iso_set(&req.m, 37, "RRN\0000000001", 12);
	cr_assert_not(pending_fields_capture(&req.m, &f), "a NUL in DE 37");
	iso_set_str(&req.m, 37, "RRN000000001");
	iso_set(&req.m, 41, "TERM\x7f" "001", 8);
	cr_assert_not(pending_fields_capture(&req.m, &f), "a DEL in DE 41");
	iso_set_str(&req.m, 41, "TERM 0~1");
	cr_assert(pending_fields_capture(&req.m, &f));
	cr_assert_str_eq(f.terminal, "TERM 0~1");
}

/* A slot given up right after allocation (its message failed capture) goes back. */
Test(pending_table, a_slot_released_before_it_is_filled_in_goes_back)
{
	struct pending_table t;
	cr_assert(pending_table_init(&t, 0, 4));
	uint32_t slot = pending_alloc(&t);
	cr_assert_eq(t.in_use, 1);
	pending_release(&t, slot);
	cr_assert_eq(t.in_use, 0);
	cr_assert_eq(t.free_count, 4);
	pending_release(&t, slot); /* twice is once */
	cr_assert_eq(t.free_count, 4);
	pending_table_destroy(&t);
}

Test(pending_table, a_released_slot_is_reused_last)
{
	struct pending_table t;
	cr_assert(pending_table_init(&t, 0, 4));
	uint32_t first = pending_alloc(&t);
	t.slots[first].kind = PENDING_AUTHORIZATION;
	pending_release(&t, first);
	for (int i = 0; i < 3; i++)
		cr_assert_neq(pending_alloc(&t), first, "the other free slots come first");
	cr_assert_eq(pending_alloc(&t), first);
	cr_assert_eq(pending_alloc(&t), UINT32_MAX);
	pending_table_destroy(&t);
}
