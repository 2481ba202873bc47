/*
 * The TCP port's parts on their own: the SPSC slot ring (order, full/empty,
 * wrap-around, two threads), the peer map (against a plain reference under
 * random puts and removes), and the 1804 -> 1814 echo answer.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "framing.h"
#include "iso8583.h"
#include "tcp_backoff.h"
#include "tcp_echo.h"
#include "tcp_peer_map.h"
#include "tcp_ring.h"

Test(tcp_ring, fills_empties_and_wraps_in_order)
{
	struct tcp_ring r;
	cr_assert(tcp_ring_init(&r, 5, 10)); /* rounded up: 8 slots of 64 bytes */
	cr_expect_eq(tcp_ring_capacity(&r), 8);
	cr_expect_eq(r.slot_size, 64);
	cr_expect_null(tcp_ring_peek(&r));
	uint32_t next_in = 0, next_out = 0;
	for (int round = 0; round < 5; round++) {
		while (next_in - next_out < 8) {
			uint32_t *s = tcp_ring_claim(&r);
			cr_assert_not_null(s);
			*s = next_in++;
			tcp_ring_publish(&r);
		}
		cr_expect_null(tcp_ring_claim(&r), "a full ring gave a slot");
		cr_expect_eq(tcp_ring_free(&r), 0);
		for (int i = 0; i < 5; i++) {
			uint32_t *s = tcp_ring_peek(&r);
			cr_assert_not_null(s);
			cr_expect_eq(*s, next_out);
			next_out++;
			tcp_ring_release(&r);
		}
		cr_expect_eq(tcp_ring_free(&r), 5);
	}
	while (tcp_ring_peek(&r)) {
		cr_expect_eq(*(uint32_t *)tcp_ring_peek(&r), next_out++);
		tcp_ring_release(&r);
	}
	cr_expect_eq(next_out, next_in);
	cr_expect(tcp_ring_looks_empty(&r));
	tcp_ring_destroy(&r);
	cr_expect_not(tcp_ring_init(&r, 0, 10));
}

#define THREADED_COUNT 200000u

static void *produce(void *arg)
{
	struct tcp_ring *r = arg;
	for (uint32_t i = 0; i < THREADED_COUNT;) {
		uint32_t *s = tcp_ring_claim(r);
		if (!s) {
			sched_yield();
			continue;
		}
		s[0] = i;
		s[1] = ~i; /* the whole slot must be visible, not just its first word */
		tcp_ring_publish(r);
		i++;
	}
	return NULL;
}

Test(tcp_ring, two_threads_keep_order_and_content)
{
	struct tcp_ring r;
	cr_assert(tcp_ring_init(&r, 64, 8));
	pthread_t producer;
	pthread_create(&producer, NULL, produce, &r);
	uint32_t expected = 0;
	bool ok = true;
	while (expected < THREADED_COUNT) {
		uint32_t *s = tcp_ring_peek(&r);
		if (!s) {
			sched_yield();
			continue;
		}
		if (s[0] != expected || s[1] != ~expected)
			ok = false;
		tcp_ring_release(&r);
		expected++;
	}
	pthread_join(producer, NULL);
	cr_expect(ok, "a slot came out of order or torn");
	cr_expect_null(tcp_ring_peek(&r));
	tcp_ring_destroy(&r);
}

static uint64_t key_of(uint32_t addr, uint16_t p)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = p};
	a.sin_addr.s_addr = addr;
	return tcp_peer_key(&a);
}

Test(tcp_peer_map, random_puts_and_removes_match_a_reference)
{
	enum { PEERS = 512, STEPS = 20000 };
	struct tcp_peer_map m;
	cr_assert(tcp_peer_map_init(&m, PEERS));
	static uint32_t present[PEERS]; /* reference: value + 1, 0 when absent */
	memset(present, 0, sizeof(present));
	uint64_t rng = 88172645463325252ull;
	uint32_t count = 0;
	for (int step = 0; step < STEPS; step++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		uint32_t i = (uint32_t)(rng % PEERS);
		/* Same address, neighbouring ports: the worst case for a weak hash. */
		uint64_t key = key_of(0x0100007f, (uint16_t)(40000 + i));
		if (present[i]) {
			cr_assert_eq(tcp_peer_map_get(&m, key), present[i] - 1);
			cr_assert(tcp_peer_map_remove(&m, key));
			cr_assert_eq(tcp_peer_map_get(&m, key), TCP_PEER_MAP_NONE);
			present[i] = 0;
			count--;
		} else {
			cr_assert_eq(tcp_peer_map_get(&m, key), TCP_PEER_MAP_NONE);
			cr_assert(tcp_peer_map_put(&m, key, (uint32_t)step));
			cr_assert_not(tcp_peer_map_put(&m, key, 1), "a key went in twice");
			present[i] = (uint32_t)step + 1;
			count++;
		}
		cr_assert_eq(m.count, count);
	}
	for (uint32_t i = 0; i < PEERS; i++) {
		uint64_t key = key_of(0x0100007f, (uint16_t)(40000 + i));
		uint32_t want = present[i] ? present[i] - 1 : TCP_PEER_MAP_NONE;
		cr_expect_eq(tcp_peer_map_get(&m, key), want, "peer %u", i);
	}
	tcp_peer_map_destroy(&m);
}

Test(tcp_peer_map, refuses_past_its_limit)
{
	struct tcp_peer_map m;
	cr_assert(tcp_peer_map_init(&m, 3));
	for (uint16_t i = 0; i < 3; i++)
		cr_assert(tcp_peer_map_put(&m, key_of(1, i), i));
	cr_expect_not(tcp_peer_map_put(&m, key_of(1, 99), 99));
	cr_expect_not(tcp_peer_map_remove(&m, key_of(1, 99)));
	cr_expect(tcp_peer_map_remove(&m, key_of(1, 1)));
	cr_expect(tcp_peer_map_put(&m, key_of(1, 99), 99));
	cr_expect_eq(tcp_peer_map_get(&m, key_of(1, 99)), 99);
	tcp_peer_map_destroy(&m);
}

static size_t encode(const struct iso_profile *p, const struct iso_msg *m, uint8_t *out, size_t cap)
{
	size_t written = 0;
	struct iso_error err;
	cr_assert_eq(iso_encode(p, m, out, cap, &written, &err), ISO_OK);
	return written;
}

static void check_echo(const struct iso_profile *p)
{
	struct iso_msg req;
	iso_msg_init(&req, 1804);
	iso_set_str(&req, 7, "1125120000");
	iso_set_str(&req, 11, "123456");
	iso_set_str(&req, 24, "831");
	iso_set_str(&req, 12, "261125120000"); /* not echoed */
	uint8_t wire[256], answer[256];
	size_t len = encode(p, &req, wire, sizeof(wire));
	size_t answer_len = 0;
	cr_assert_eq(tcp_echo_answer(p, wire, len, answer, sizeof(answer), &answer_len), TCP_ECHO_ANSWERED);
	struct iso_msg a;
	struct iso_error err;
	cr_assert_eq(iso_decode(p, answer, answer_len, &a, &err), ISO_OK);
	cr_expect_eq(a.mti, 1814);
	cr_expect(iso_field_equals(&a, 39, "800"));
	cr_expect(iso_field_equals(&a, 7, "1125120000"));
	cr_expect(iso_field_equals(&a, 11, "123456"));
	cr_expect(iso_field_equals(&a, 24, "831"));
	cr_expect_not(iso_has(&a, 12));
}

Test(tcp_echo, answers_1804_in_both_profiles)
{
	check_echo(&iso_profile_ascii);
	check_echo(&iso_profile_bcd);
}

Test(tcp_echo, leaves_other_messages_and_flags_broken_echoes)
{
	struct iso_msg m;
	iso_msg_init(&m, 1100);
	iso_set_str(&m, 11, "000001");
	uint8_t wire[256], answer[256];
	size_t answer_len;
	size_t len = encode(&iso_profile_ascii, &m, wire, sizeof(wire));
	cr_expect_eq(tcp_echo_answer(&iso_profile_ascii, wire, len, answer, sizeof(answer), &answer_len),
		     TCP_ECHO_NOT_ECHO);
	cr_expect_eq(tcp_echo_answer(&iso_profile_ascii, wire, 2, answer, sizeof(answer), &answer_len),
		     TCP_ECHO_NOT_ECHO);
	/* An 1804 whose bitmap announces a field it lacks. */
	iso_msg_init(&m, 1804);
	iso_set_str(&m, 11, "000001");
	len = encode(&iso_profile_ascii, &m, wire, sizeof(wire));
	cr_expect_eq(tcp_echo_answer(&iso_profile_ascii, wire, len - 3, answer, sizeof(answer), &answer_len),
		     TCP_ECHO_MALFORMED);
	/* No room for the answer. */
	len = encode(&iso_profile_ascii, &m, wire, sizeof(wire));
	cr_expect_eq(tcp_echo_answer(&iso_profile_ascii, wire, len, answer, 8, &answer_len), TCP_ECHO_MALFORMED);
}

Test(tcp_backoff, waits_within_a_quarter_and_doubles_to_the_cap)
{
	uint64_t rng = 0x9E3779B97F4A7C15ull;
	uint64_t lowest = UINT64_MAX, highest = 0;
	for (int i = 0; i < 10000; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		uint64_t w = tcp_backoff_wait_ms(400, rng);
		cr_assert(w >= 300 && w <= 500, "wait %llu ms for a 400 ms backoff", (unsigned long long)w);
		lowest = w < lowest ? w : lowest;
		highest = w > highest ? w : highest;
	}
	/* The jitter really spreads: both ends of the range are reached. */
	cr_expect_lt(lowest, 310);
	cr_expect_gt(highest, 490);
	cr_expect_eq(tcp_backoff_wait_ms(1, 12345), 1);
	uint32_t b = 100;
	uint32_t seen[8];
	for (int i = 0; i < 8; i++) {
		seen[i] = b;
		b = tcp_backoff_next_ms(b, 1000);
	}
	uint32_t want[8] = {100, 200, 400, 800, 1000, 1000, 1000, 1000};
	cr_expect_arr_eq(seen, want, sizeof(want));
	cr_expect_eq(tcp_backoff_next_ms(3000000000u, 4000000000u), 4000000000u, "no overflow near the top");
}

/* A producer waiting for several slots must see the consumer's progress even when its cached
 * view is not at zero (the bank's writer sends answers of many frames in one datagram). */
Test(tcp_ring, room_for_several_slots_sees_the_consumer)
{
	struct tcp_ring r;
	cr_assert(tcp_ring_init(&r, 8, 16));
	for (int i = 0; i < 6; i++) {
		cr_assert_not_null(tcp_ring_claim(&r));
		tcp_ring_publish(&r);
	}
	cr_expect_not(tcp_ring_has_room(&r, 3), "2 free slots taken for 3");
	for (int i = 0; i < 6; i++) {
		cr_assert_not_null(tcp_ring_peek(&r));
		tcp_ring_release(&r);
	}
	/* The cached view still says 2 free: the ring must look again. */
	cr_expect(tcp_ring_has_room(&r, 3), "the consumer emptied the ring but the producer still sees it full");
	cr_expect(tcp_ring_has_room(&r, 8));
	cr_expect_not(tcp_ring_has_room(&r, 9));
	tcp_ring_destroy(&r);
}
