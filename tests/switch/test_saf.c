/*
 * The store-and-forward queue: the durable store (persist, reload, damaged
 * entries, exceptions), the schedule on a fake clock (back-off, window,
 * drain rate, retention, acknowledgements), and the forwarder thread
 * between a worker's rings and the disk.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "saf_forwarder.h"
#include "saf_messages.h"
#include "saf_queue.h"
#include "saf_store.h"
#include "test_pan_keys.h"
#include "test_temp_dir.h"

static char dir[256];

static void make_dir(void)
{
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "saf"));
}

static void remove_dir(void)
{
	test_temp_dir_remove(dir);
}

static struct saf_record advice(uint64_t seq, const char *bank, unsigned n)
{
	struct saf_record r;
	memset(&r, 0, sizeof(r));
	r.kind = SAF_SWITCH_REVERSAL;
	r.seq = seq;
	r.queued_unix_ms = 1700000000000;
	snprintf(r.bank, sizeof(r.bank), "%s", bank);
	r.bank_ipv4 = htonl(0x7f000001);
	r.bank_port = htons(9101);
	snprintf(r.f.pan, sizeof(r.f.pan), "5105100000000%03u", n % 1000);
	strcpy(r.f.processing, "000000");
	strcpy(r.f.amount, "000000001234");
	strcpy(r.f.transmission, "1203061500");
	snprintf(r.f.stan, sizeof(r.f.stan), "5%05u", n % 50000);
	strcpy(r.f.local_time, "261203061500");
	strcpy(r.f.acquirer, "30000000003");
	snprintf(r.f.rrn, sizeof(r.f.rrn), "RRN%09u", n);
	strcpy(r.f.terminal, "TERM0001");
	strcpy(r.f.currency, "978");
	snprintf(r.f.original, sizeof(r.f.original), "1100%06u2612030615001130000000003", n % 50000);
	saf_record_seal(&r);
	return r;
}

/* ---- the store ---- */

struct collected {
	size_t count;
	uint64_t seqs[64];
	struct saf_record last;
};

static void collect(void *ctx, const struct saf_record *r)
{
	struct collected *c = ctx;
	if (c->count < 64)
		c->seqs[c->count] = r->seq;
	c->count++;
	c->last = *r;
}

Test(saf_store, persists_across_reopen_in_order_and_forgets_what_is_removed, .init = make_dir, .fini = remove_dir)
{
	char err[256];
	struct saf_store *s = saf_store_open(dir, 16 << 20, test_shared_vault(), err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	cr_assert_eq(saf_store_next_seq(s), 1);
	struct saf_record adds[3] = {advice(1, "big_bank", 1), advice(2, "big_bank", 2), advice(3, "lil_bank", 3)};
	struct saf_batch b = {.adds = adds, .add_count = 3};
	cr_assert_eq(saf_store_commit(s, &b, NULL, err, sizeof(err)), 0, "%s", err);
	uint64_t removed = 2;
	struct saf_batch r = {.removes = &removed, .remove_count = 1};
	cr_assert_eq(saf_store_commit(s, &r, NULL, err, sizeof(err)), 0, "%s", err);
	saf_store_close(s);

	s = saf_store_open(dir, 16 << 20, test_shared_vault(), err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	cr_assert_eq(saf_store_next_seq(s), 4, "sequence numbers are never reused");
	struct collected c = {0};
	size_t moved = 99;
	cr_assert_eq(saf_store_load(s, collect, &c, 0, &moved, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(moved, 0);
	cr_assert_eq(c.count, 2);
	cr_assert_eq(c.seqs[0], 1);
	cr_assert_eq(c.seqs[1], 3);
	cr_assert_str_eq(c.last.bank, "lil_bank");
	cr_assert_str_eq(c.last.f.rrn, "RRN000000003");
	saf_store_close(s);
}

static size_t exceptions_seen;
static uint8_t last_reason;
static void count_exception(void *ctx, uint64_t seq, const struct saf_exception *e)
{
	(void)ctx;
	(void)seq;
	exceptions_seen++;
	last_reason = e->reason;
}

Test(saf_store, damaged_entries_go_to_the_exceptions_and_the_rest_loads, .init = make_dir, .fini = remove_dir)
{
	char err[256];
	struct saf_store *s = saf_store_open(dir, 16 << 20, test_shared_vault(), err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	struct saf_record good = advice(1, "big_bank", 1);
	struct saf_batch b = {.adds = &good, .add_count = 1};
	cr_assert_eq(saf_store_commit(s, &b, NULL, err, sizeof(err)), 0);
	/* Cut short, and one flipped byte. */
	struct saf_record bad = advice(2, "big_bank", 2);
	cr_assert_eq(saf_store_put_raw_for_test(s, 2, &bad, sizeof(bad) - 10), 0);
	struct saf_record flipped = advice(3, "big_bank", 3);
	flipped.f.amount[3] ^= 1;
	cr_assert_eq(saf_store_put_raw_for_test(s, 3, &flipped, sizeof(flipped)), 0);
	saf_store_close(s);

	s = saf_store_open(dir, 16 << 20, test_shared_vault(), err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	struct collected c = {0};
	size_t moved = 0;
	cr_assert_eq(saf_store_load(s, collect, &c, 5, &moved, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.count, 1);
	cr_assert_eq(c.seqs[0], 1);
	cr_assert_eq(moved, 2);
	uint64_t queued = 0, exceptions = 0;
	cr_assert_eq(saf_store_counts(s, &queued, &exceptions), 0);
	cr_assert_eq(queued, 1);
	cr_assert_eq(exceptions, 2);
	exceptions_seen = 0;
	cr_assert_eq(saf_store_list_exceptions(s, 10, count_exception, NULL), 0);
	cr_assert_eq(exceptions_seen, 2);
	cr_assert_eq(last_reason, SAF_UNREADABLE);
	saf_store_close(s);
}

Test(saf_store, expired_advices_move_to_the_exceptions, .init = make_dir, .fini = remove_dir)
{
	char err[256];
	struct saf_store *s = saf_store_open(dir, 16 << 20, test_shared_vault(), err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	struct saf_record a = advice(1, "big_bank", 1);
	struct saf_batch b = {.adds = &a, .add_count = 1};
	cr_assert_eq(saf_store_commit(s, &b, NULL, err, sizeof(err)), 0);
	struct saf_batch e = {.expired = &a, .expired_count = 1, .now_unix_ms = 42};
	cr_assert_eq(saf_store_commit(s, &e, NULL, err, sizeof(err)), 0);
	uint64_t queued = 9, exceptions = 9;
	cr_assert_eq(saf_store_counts(s, &queued, &exceptions), 0);
	cr_assert_eq(queued, 0);
	cr_assert_eq(exceptions, 1);
	exceptions_seen = 0;
	saf_store_list_exceptions(s, 10, count_exception, NULL);
	cr_assert_eq(last_reason, SAF_EXPIRED);
	saf_store_close(s);
}

Test(saf_store, a_full_map_is_reported_as_such, .init = make_dir, .fini = remove_dir)
{
	char err[256];
	/* A map this small fills after a few hundred records. */
	struct saf_store *s = saf_store_open(dir, 64 << 10, test_shared_vault(), err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	bool full = false;
	int rc = 0;
	for (uint64_t seq = 1; seq < 5000 && rc == 0; seq++) {
		struct saf_record a = advice(seq, "big_bank", (unsigned)seq);
		struct saf_batch b = {.adds = &a, .add_count = 1};
		rc = saf_store_commit(s, &b, &full, err, sizeof(err));
	}
	cr_assert_neq(rc, 0);
	cr_assert(full);
	cr_assert(strstr(err, "map is full") != NULL, "%s", err);
	saf_store_close(s);
}

/* ---- the schedule, on a fake clock ---- */

struct sends {
	size_t first, repeats;
	uint64_t last_seq;
	size_t expired;
};

static void on_send(void *ctx, const struct saf_entry *e, bool repeat)
{
	struct sends *s = ctx;
	if (repeat)
		s->repeats++;
	else
		s->first++;
	s->last_seq = e->rec.seq;
}

static void on_expire(void *ctx, const struct saf_record *r)
{
	(void)r;
	((struct sends *)ctx)->expired++;
}

static const struct saf_settings settings = {
	.first_retry_ms = 200, .max_retry_ms = 30000, .window = 4, .drain_per_s = 1000, .retention_ms = 86400000};

#define NOW_UNIX 1700000000000

Test(saf_queue, repeats_back_off_doubling_up_to_the_cap)
{
	struct saf_queue q;
	cr_assert(saf_queue_init(&q, &settings));
	struct saf_record r = advice(1, "big_bank", 1);
	r.queued_unix_ms = NOW_UNIX;
	cr_assert(saf_queue_add(&q, &r, 0));
	struct sends s = {0};
	uint64_t wake = saf_queue_run(&q, 0, NOW_UNIX, on_send, on_expire, &s);
	cr_assert_eq(s.first, 1);
	cr_assert_eq(wake, 200);
	/* A dead bank: each repeat comes twice as late as the one before, at most 30 s apart. */
	uint64_t now = 0, expected_gap = 200;
	for (int i = 0; i < 12; i++) {
		saf_queue_run(&q, now + expected_gap - 1, NOW_UNIX, on_send, on_expire, &s);
		cr_assert_eq(s.repeats, (size_t)i, "repeat %d came before its back-off", i + 1);
		now += expected_gap;
		wake = saf_queue_run(&q, now, NOW_UNIX, on_send, on_expire, &s);
		cr_assert_eq(s.repeats, (size_t)i + 1);
		expected_gap = expected_gap * 2 > 30000 ? 30000 : expected_gap * 2;
		cr_assert_eq(wake, now + expected_gap);
	}
	cr_assert_eq(saf_retry_delay_ms(&settings, 100), 30000);
	saf_queue_destroy(&q);
}

Test(saf_queue, a_dead_bank_gets_only_a_window_of_advices_and_an_acknowledgement_lets_the_next_one_go)
{
	struct saf_queue q;
	cr_assert(saf_queue_init(&q, &settings));
	for (unsigned i = 1; i <= 10; i++) {
		struct saf_record r = advice(i, "big_bank", i);
		r.queued_unix_ms = NOW_UNIX;
		cr_assert(saf_queue_add(&q, &r, 0));
	}
	struct sends s = {0};
	saf_queue_run(&q, 0, NOW_UNIX, on_send, on_expire, &s);
	cr_assert_eq(s.first, 4, "the window is 4");
	cr_assert_eq(q.banks[0].in_flight, 4);
	/* Much later, still no answer: only the same four are repeated. */
	saf_queue_run(&q, 100000, NOW_UNIX, on_send, on_expire, &s);
	cr_assert_eq(s.first, 4);
	cr_assert_eq(s.repeats, 4);
	/* The bank acknowledges the second: one new advice goes, and the other three
	 * outstanding ones are pulled forward from their long back-off. */
	struct saf_record a = advice(2, "big_bank", 2), done;
	cr_assert(saf_queue_acknowledge(&q, a.f.original, a.f.rrn, a.f.terminal, 100001, &done));
	cr_assert_eq(done.seq, 2);
	cr_assert_eq(q.banks[0].depth, 9);
	cr_assert_not(saf_queue_acknowledge(&q, a.f.original, a.f.rrn, a.f.terminal, 100001, &done),
		      "a second 1430 for the same advice matches nothing");
	saf_queue_run(&q, 100001, NOW_UNIX, on_send, on_expire, &s);
	cr_assert_eq(s.first, 5);
	cr_assert_eq(s.last_seq, 5);
	saf_queue_run(&q, 100001 + 199, NOW_UNIX, on_send, on_expire, &s);
	cr_assert_eq(s.repeats, 4);
	/* First back-off after the acknowledgement: the three pulled forward, and the new one. */
	saf_queue_run(&q, 100001 + 200, NOW_UNIX, on_send, on_expire, &s);
	cr_assert_eq(s.repeats, 4 + 3 + 1, "the outstanding advices were pulled forward from their 400 ms back-off");
	saf_queue_destroy(&q);
}

Test(saf_queue, a_bank_that_comes_back_is_drained_at_the_bounded_rate)
{
	struct saf_settings quick = settings;
	quick.window = 50;
	quick.drain_per_s = 100;
	struct saf_queue q;
	cr_assert(saf_queue_init(&q, &quick));
	for (unsigned i = 1; i <= 1000; i++) {
		struct saf_record r = advice(i, "big_bank", i);
		r.queued_unix_ms = NOW_UNIX;
		cr_assert(saf_queue_add(&q, &r, 0));
	}
	/* The bank answers everything at once; every pass acknowledges what it got. */
	struct sends s = {0};
	uint64_t now = 0;
	size_t acked = 0;
	while (now <= 5000) {
		uint64_t wake = saf_queue_run(&q, now, NOW_UNIX, on_send, on_expire, &s);
		while (q.banks[0].head && q.banks[0].head->attempts) {
			struct saf_record done, r = q.banks[0].head->rec;
			cr_assert(saf_queue_acknowledge(&q, r.f.original, r.f.rrn, r.f.terminal, now, &done));
			acked++;
		}
		cr_assert_gt(wake, now, "a pass must not ask to run again at once");
		now = wake > now + 10 ? now + 10 : wake;
	}
	/* 5 s at 100/s plus one burst of the window: no more, and not much less. */
	cr_assert_leq(s.first, 500 + 50 + 1);
	cr_assert_geq(s.first, 500);
	cr_assert_eq(acked, s.first);
	saf_queue_destroy(&q);
}

Test(saf_queue, an_advice_past_its_retention_leaves_through_the_exception_callback)
{
	struct saf_settings short_retention = settings;
	short_retention.retention_ms = 60000;
	struct saf_queue q;
	cr_assert(saf_queue_init(&q, &short_retention));
	struct saf_record old = advice(1, "big_bank", 1), young = advice(2, "big_bank", 2);
	old.queued_unix_ms = NOW_UNIX - 60000;
	young.queued_unix_ms = NOW_UNIX - 59000;
	cr_assert(saf_queue_add(&q, &old, 0));
	cr_assert(saf_queue_add(&q, &young, 0));
	struct sends s = {0};
	uint64_t wake = saf_queue_run(&q, 0, NOW_UNIX, on_send, on_expire, &s);
	cr_assert_eq(s.expired, 1);
	cr_assert_eq(s.first, 1);
	cr_assert_eq(q.banks[0].depth, 1);
	cr_assert_leq(wake, 1000, "woken again when the young one expires");
	saf_queue_run(&q, 1000, NOW_UNIX + 1000, on_send, on_expire, &s);
	cr_assert_eq(s.expired, 2);
	cr_assert_eq(q.entries, 0);
	saf_queue_destroy(&q);
}

/* ---- the forwarder thread ---- */

static bool resolve(void *ctx, const char *bank, struct sockaddr_in *out)
{
	(void)ctx;
	if (strcmp(bank, "big_bank") != 0)
		return false;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_addr.s_addr = htonl(0x7f000001);
	out->sin_port = htons(9101);
	return true;
}

static struct saf_forwarder *forwarder(void)
{
	static char key_file[512];
	cr_assert(test_pan_keys_make(dir, key_file, sizeof(key_file)));
	struct saf_forwarder_config c = {.dir = dir,
					 .map_size = 16 << 20,
					 .pan_key_file = key_file,
					 .queue = settings,
					 .workers = 1,
					 .resolve = resolve};
	char err[256];
	struct saf_forwarder *f = saf_forwarder_create(&c, err, sizeof(err));
	cr_assert_not_null(f, "%s", err);
	cr_assert(saf_forwarder_start(f, err, sizeof(err)), "%s", err);
	return f;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Waits (at most 5 s) for the next reply of worker 0 of the given kind, skipping others. */
static bool next_reply(struct saf_forwarder *f, uint8_t kind, struct saf_reply *out)
{
	uint64_t until = now_ms() + 5000;
	while (now_ms() < until) {
		const struct saf_reply *r = saf_reply_peek(f, 0);
		if (!r) {
			struct timespec pause = {0, 1000000};
			nanosleep(&pause, NULL);
			continue;
		}
		bool match = r->kind == kind;
		if (match)
			*out = *r;
		saf_reply_release(f, 0);
		if (match)
			return true;
	}
	return false;
}

Test(saf_forwarder, stores_before_it_tells_sends_the_advice_and_forgets_it_when_acknowledged, .init = make_dir,
     .fini = remove_dir)
{
	struct saf_forwarder *f = forwarder();
	struct saf_record r = advice(0, "big_bank", 7);
	cr_assert(saf_submit_advice(f, 0, 1234, &r));
	struct saf_reply reply;
	cr_assert(next_reply(f, SAF_REPLY_STORED, &reply));
	cr_assert_eq(reply.slot, 1234);
	uint64_t queued = 0, exceptions = 0;
	cr_assert_eq(saf_forwarder_counts(f, &queued, &exceptions), 0);
	cr_assert_eq(queued, 1, "on disk by the time the worker hears of it");
	cr_assert(next_reply(f, SAF_REPLY_TRANSMIT, &reply));
	cr_assert_eq(reply.to.sin_port, htons(9101));
	cr_assert_eq(memcmp(reply.frame + 2, "1420", 4), 0, "a first send is a 1420");
	/* The bank says "not now" (909): still queued; then 400: gone. */
	cr_assert(saf_submit_acknowledgement(f, 0, r.f.original, r.f.rrn, r.f.terminal, 909));
	cr_assert(saf_submit_acknowledgement(f, 0, r.f.original, r.f.rrn, r.f.terminal, 400));
	uint64_t until = now_ms() + 5000;
	struct saf_stats st;
	do {
		saf_forwarder_stats(f, &st);
	} while (st.acknowledged == 0 && now_ms() < until);
	cr_assert_eq(st.acknowledged, 1);
	cr_assert_eq(st.not_final_acks, 1);
	cr_assert_eq(st.queued, 0);
	saf_forwarder_stop(f);
	cr_assert_eq(saf_forwarder_counts(f, &queued, &exceptions), 0);
	cr_assert_eq(queued, 0, "the acknowledgement was committed before the thread stopped");
	saf_forwarder_destroy(f);
}

Test(saf_forwarder, an_unacknowledged_advice_is_sent_again_after_a_restart, .init = make_dir, .fini = remove_dir)
{
	struct saf_forwarder *f = forwarder();
	struct saf_record r = advice(0, "big_bank", 8), gone = advice(0, "closed_bank", 9);
	cr_assert(saf_submit_advice(f, 0, 1, &r));
	cr_assert(saf_submit_advice(f, 0, 2, &gone));
	struct saf_reply reply;
	cr_assert(next_reply(f, SAF_REPLY_STORED, &reply));
	cr_assert(next_reply(f, SAF_REPLY_STORED, &reply));
	/* Like a SIGKILL as far as the disk is concerned: nothing more is written. */
	saf_forwarder_destroy(f);

	f = forwarder();
	struct saf_stats st;
	saf_forwarder_stats(f, &st);
	cr_assert_eq(st.loaded, 1);
	cr_assert_eq(st.unknown_bank, 1, "the advice of a bank no longer configured waits for an operator");
	cr_assert(next_reply(f, SAF_REPLY_TRANSMIT, &reply));
	cr_assert_eq(memcmp(reply.frame + 2, "1420", 4), 0);
	uint64_t queued = 0, exceptions = 0;
	cr_assert_eq(saf_forwarder_counts(f, &queued, &exceptions), 0);
	cr_assert_eq(queued, 1);
	cr_assert_eq(exceptions, 1);
	saf_forwarder_destroy(f);
}

Test(saf_messages, an_advice_decodes_with_every_element_the_bank_needs)
{
	struct saf_record r = advice(1, "big_bank", 3);
	uint8_t buf[SAF_FRAME_MAX];
	size_t n = saf_build_advice(&r, true, buf, sizeof(buf));
	cr_assert_gt(n, 2);
	struct iso_msg m;
	struct iso_error e;
	cr_assert_eq(iso_decode(&iso_profile_ascii, buf + 2, n - 2, &m, &e), ISO_OK);
	cr_assert_eq(m.mti, 1421);
	char text[40];
	const int fields[] = {2, 3, 4, 7, 11, 12, 24, 32, 37, 41, 49, 56};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		cr_assert(iso_has(&m, fields[i]), "DE %d missing", fields[i]);
	iso_field_text(&m, 56, text, sizeof(text));
	cr_assert_str_eq(text, r.f.original);
	iso_field_text(&m, 24, text, sizeof(text));
	cr_assert_str_eq(text, "400");
}
