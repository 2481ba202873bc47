/*
 * From wire to request and back: parsing 1100 and 1420 (journal keys from
 * DE 56), the 1110/1430 answers echoing the agreed fields, and the I/O
 * thread's handling of malformed datagrams (counted, 904 when answerable).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "bank_io.h"
#include "bank_request.h"
#include "framing.h"
#include "iso_messages.h"
#include "mti.h"

static bool decode_frame(const uint8_t *frame, size_t len, struct iso_msg *m)
{
	struct iso_error err;
	return len > 2 && iso_decode(&iso_profile_ascii, frame + 2, len - 2, m, &err) == ISO_OK;
}

Test(messages, parses_a_1100)
{
	uint8_t buf[512];
	struct test_payment p = test_payment_default("5105100000000018", 42, 1234);
	size_t n = test_build_1100(&p, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	struct iso_msg m;
	cr_assert(decode_frame(buf, n, &m));
	struct bank_request r;
	int bad;
	cr_assert_eq(bank_request_parse(&m, &r, &bad), PARSE_OK);
	cr_assert_eq(r.kind, BANK_AUTHORIZATION);
	cr_assert_eq(r.amount, 1234);
	cr_assert_str_eq(r.pan, "5105100000000018");
	cr_assert_str_eq(r.stan, "000042");
	cr_assert_str_eq(r.expiry, "3012");
	struct journal_key k;
	journal_key_build(&k, "30000000003", "000042", "261125120000", "RRN000000001", "TERM0001");
	cr_assert_eq(memcmp(k.bytes, r.key.bytes, JOURNAL_KEY_LEN), 0);
}

Test(messages, a_reversal_finds_the_key_of_its_original)
{
	uint8_t buf[512];
	struct test_payment p = test_payment_default("5105100000000018", 42, 1234);
	size_t n = test_build_1100(&p, buf, sizeof(buf));
	struct iso_msg m;
	struct bank_request original, rev;
	int bad;
	cr_assert(decode_frame(buf, n, &m));
	cr_assert_eq(bank_request_parse(&m, &original, &bad), PARSE_OK);
	for (uint16_t mti = 1420; mti <= 1421; mti++) {
		n = test_build_reversal(&p, mti, 777, buf, sizeof(buf));
		cr_assert(decode_frame(buf, n, &m));
		cr_assert_eq(bank_request_parse(&m, &rev, &bad), PARSE_OK);
		cr_assert_eq(rev.kind, BANK_REVERSAL);
		cr_assert_str_eq(rev.stan, "000777");
		cr_assert_eq(memcmp(original.key.bytes, rev.key.bytes, JOURNAL_KEY_LEN), 0);
	}
}

Test(messages, the_1110_echoes_the_agreed_fields)
{
	uint8_t buf[512];
	struct test_payment p = test_payment_default("5105100000000018", 42, 1234);
	size_t n = test_build_1100(&p, buf, sizeof(buf));
	struct iso_msg m;
	struct bank_request r;
	int bad;
	cr_assert(decode_frame(buf, n, &m));
	cr_assert_eq(bank_request_parse(&m, &r, &bad), PARSE_OK);
	memcpy(r.action, "000", 4);
	memcpy(r.approval, "123456", 7);
	uint8_t out[512];
	size_t len = bank_reply_encode(&iso_profile_ascii, &r, out, sizeof(out));
	cr_assert_gt(len, 0);
	struct iso_msg reply;
	cr_assert(decode_frame(out, len, &reply));
	cr_assert_eq(reply.mti, 1110);
	const int echoed[] = {2, 3, 4, 7, 11, 12, 32, 37, 41, 49};
	for (size_t i = 0; i < sizeof(echoed) / sizeof(echoed[0]); i++) {
		char a[64], b[64];
		cr_assert_geq(iso_field_text(&m, echoed[i], a, sizeof(a)), 0);
		cr_assert_geq(iso_field_text(&reply, echoed[i], b, sizeof(b)), 0, "field %d not echoed", echoed[i]);
		cr_assert_str_eq(a, b, "field %d", echoed[i]);
	}
	cr_assert(iso_field_equals(&reply, 39, "000"));
	cr_assert(iso_field_equals(&reply, 38, "123456"));
	cr_assert_not(iso_has(&reply, 14), "the expiry date is not echoed");

	memcpy(r.action, "116", 4);
	len = bank_reply_encode(&iso_profile_ascii, &r, out, sizeof(out));
	cr_assert(decode_frame(out, len, &reply));
	cr_assert_not(iso_has(&reply, 38), "no approval code on a refusal");
}

Test(messages, the_1430_echoes_de56_for_1420_and_1421)
{
	uint8_t buf[512], out[512];
	struct test_payment p = test_payment_default("5105100000000018", 42, 1234);
	for (uint16_t mti = 1420; mti <= 1421; mti++) {
		size_t n = test_build_reversal(&p, mti, 5, buf, sizeof(buf));
		struct iso_msg m, reply;
		struct bank_request r;
		int bad;
		cr_assert(decode_frame(buf, n, &m));
		cr_assert_eq(bank_request_parse(&m, &r, &bad), PARSE_OK);
		memcpy(r.action, "400", 4);
		size_t len = bank_reply_encode(&iso_profile_ascii, &r, out, sizeof(out));
		cr_assert(decode_frame(out, len, &reply));
		cr_assert_eq(reply.mti, 1430);
		cr_assert(iso_field_equals(&reply, 39, "400"));
		char a[40], b[40];
		iso_field_text(&m, 56, a, sizeof(a));
		cr_assert_geq(iso_field_text(&reply, 56, b, sizeof(b)), 0);
		cr_assert_str_eq(a, b);
	}
}

Test(messages, missing_or_bad_fields_are_rejected_or_ignored)
{
	struct iso_msg m;
	struct bank_request r;
	int bad;
	iso_msg_init(&m, 1100);
	iso_set_str(&m, 11, "000001");
	iso_set_str(&m, 37, "RRN000000001");
	iso_set_str(&m, 41, "TERM0001");
	cr_assert_eq(bank_request_parse(&m, &r, &bad), PARSE_REJECT); /* no PAN, amount, ... */
	cr_assert_eq(bad, 2);
	iso_clear(&m, 41);
	cr_assert_eq(bank_request_parse(&m, &r, &bad), PARSE_IGNORE); /* cannot be matched */
	iso_set_str(&m, 41, "TERM0001");
	m.mti = 1110; /* a response: never answered */
	cr_assert_eq(bank_request_parse(&m, &r, &bad), PARSE_IGNORE);
	m.mti = 1200; /* a request this bank does not serve */
	cr_assert_eq(bank_request_parse(&m, &r, &bad), PARSE_REJECT);
	m.mti = 1420;
	iso_set_str(&m, 56, "1100000001");
	cr_assert_eq(bank_request_parse(&m, &r, &bad), PARSE_REJECT);
	cr_assert_eq(bad, 56);
	iso_set_str(&m, 56, "11000000012611251200000530000"); /* LL says 5, 5 digits follow */
	cr_assert_eq(bank_request_parse(&m, &r, &bad), PARSE_OK);
	cr_assert_str_eq(r.acquirer, "");
	iso_set_str(&m, 56, "1100000001261125120000063000"); /* LL says 6, 4 follow */
	cr_assert_eq(bank_request_parse(&m, &r, &bad), PARSE_REJECT);
	cr_assert_eq(iso_mti_response_of(1421), 1430);
	cr_assert_eq(iso_mti_response_of(1100), 1110);
}

/* The codec does not check an/ans characters; a key with a NUL or a control
 * byte cannot be kept or echoed, so such a request is not taken (found by
 * tests/fuzz/fuzz_bank_request: a NUL in DE 37 made an answer that did not encode). */
Test(messages, keys_that_are_not_printable_are_not_taken)
{
	struct test_payment p = test_payment_default("5105100000000018", 1, 100);
	uint8_t frame[1024];
	size_t len = test_build_1100(&p, frame, sizeof(frame));
	struct iso_msg m;
	struct iso_error err;
	struct bank_request r;
	int bad;
	cr_assert_eq(iso_decode(&iso_profile_ascii, frame + 2, len - 2, &m, &err), ISO_OK);
	cr_assert_eq(bank_request_parse(&m, &r, &bad), PARSE_OK);
	iso_set(&m, 37, "RRN\0000000001", 12);
	cr_assert_eq(bank_request_parse(&m, &r, &bad), PARSE_IGNORE);
	iso_set_str(&m, 37, "RRN000000001");
	iso_set(&m, 41, "TERM\x80\x01 1", 8);
	cr_assert_eq(bank_request_parse(&m, &r, &bad), PARSE_IGNORE);
	iso_set_str(&m, 41, "TERM 0~1"); /* printable ASCII, spaces included, is fine */
	cr_assert_eq(bank_request_parse(&m, &r, &bad), PARSE_OK);
	cr_assert_str_eq(r.terminal, "TERM 0~1");
}

static struct bank_io *make_io(struct bank_stats *stats, struct reply_sender *sender)
{
	struct bank_io *io = calloc(1, sizeof(*io));
	io->stats = stats;
	io->profile = &iso_profile_ascii;
	reply_sender_init(sender, NULL, stats);
	io->sender = sender;
	return io;
}

Test(io, several_frames_in_one_datagram_become_requests)
{
	static struct bank_stats stats;
	static struct reply_sender sender;
	struct bank_io *io = make_io(&stats, &sender);
	uint8_t dgram[2048];
	size_t len = 0;
	for (unsigned i = 0; i < 3; i++) {
		struct test_payment p = test_payment_default("5105100000000018", i + 1, 100 + i);
		len += test_build_1100(&p, dgram + len, sizeof(dgram) - len);
	}
	dgram[len++] = 0; /* a zero-length keep-alive frame */
	dgram[len++] = 0;
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(1)};
	bank_io_datagram(io, &peer, dgram, len);
	cr_assert_eq(io->pending, 3);
	cr_assert_eq(io->requests[2].amount, 102);
	cr_assert_eq(atomic_load(&stats.received), 3);
	cr_assert_eq(atomic_load(&stats.malformed), 0);
	free(io);
}

Test(io, a_datagram_that_does_not_split_is_dropped_whole)
{
	static struct bank_stats stats;
	static struct reply_sender sender;
	struct bank_io *io = make_io(&stats, &sender);
	uint8_t dgram[1024];
	struct test_payment p = test_payment_default("5105100000000018", 1, 100);
	size_t len = test_build_1100(&p, dgram, sizeof(dgram));
	dgram[len++] = 0x01; /* a header announcing 256+ bytes that are not there */
	dgram[len++] = 0x00;
	struct sockaddr_in peer = {.sin_family = AF_INET};
	bank_io_datagram(io, &peer, dgram, len);
	cr_assert_eq(io->pending, 0);
	cr_assert_eq(atomic_load(&stats.malformed), 1);
	cr_assert_eq(sender.count, 0);
	free(io);
}

Test(io, a_readable_bad_message_gets_904_an_unreadable_one_is_dropped)
{
	static struct bank_stats stats;
	static struct reply_sender sender;
	struct bank_io *io = make_io(&stats, &sender);
	uint8_t dgram[1024];
	struct test_payment p = test_payment_default("5105100000000018", 1, 100);
	size_t len = test_build_1100(&p, dgram, sizeof(dgram));
	/* Corrupt DE 49 (after 11, 37 and 41), the last field: a non-digit currency. */
	dgram[len - 1] = 'X';
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(5)};
	bank_io_datagram(io, &peer, dgram, len);
	cr_assert_eq(io->pending, 0);
	cr_assert_eq(atomic_load(&stats.malformed), 1);
	cr_assert_eq(atomic_load(&stats.malformed_answered), 1);
	cr_assert_eq(sender.count, 1);
	struct test_answer a[2];
	cr_assert_eq(test_parse_answers(sender.datagrams[0].data, sender.datagrams[0].length, a, 2), 1);
	cr_assert_eq(a[0].mti, 1110);
	cr_assert_str_eq(a[0].action, "904");
	cr_assert_str_eq(a[0].stan, "000001");

	/* A NUL in DE 41 (ans8): outside its character class, so a format error
	 * too. DE 41 is one of the keys an answer must echo, so nothing can be
	 * answered: counted and dropped, never authorized. */
	p = test_payment_default("5105100000000018", 2, 100);
	len = test_build_1100(&p, dgram, sizeof(dgram));
	uint8_t *terminal = memmem(dgram, len, p.terminal, strlen(p.terminal));
	cr_assert_not_null(terminal);
	terminal[1] = '\0';
	bank_io_datagram(io, &peer, dgram, len);
	cr_assert_eq(io->pending, 0);
	cr_assert_eq(atomic_load(&stats.malformed), 2);
	cr_assert_eq(sender.count, 1);

	/* Garbage with a valid frame header: no MTI, nothing to answer. */
	uint8_t junk[] = {0, 6, 'h', 'e', 'l', 'l', 'o', '!'};
	bank_io_datagram(io, &peer, junk, sizeof(junk));
	cr_assert_eq(atomic_load(&stats.malformed), 3);
	cr_assert_eq(sender.count, 1);
	free(io);
}
