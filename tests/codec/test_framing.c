/* Length-prefixed framing: headers, datagrams with several frames (and the
 * agents' reader of them), and stream reassembly over split and merged reads. */
#include <criterion/criterion.h>
#include <string.h>

#include "datagram_frames.h"
#include "framing.h"

Test(framing, headers)
{
	uint8_t h[4];
	cr_assert_eq(frame_write_header(FRAME_HEADER_BINARY2, 0x1234, h), 2);
	cr_assert(h[0] == 0x12 && h[1] == 0x34);
	cr_assert_eq(frame_write_header(FRAME_HEADER_BINARY2, 65535, h), 2);
	cr_assert_eq(frame_write_header(FRAME_HEADER_BINARY2, 65536, h), 0);
	cr_assert_eq(frame_write_header(FRAME_HEADER_ASCII4, 123, h), 4);
	cr_assert(memcmp(h, "0123", 4) == 0);
	cr_assert_eq(frame_write_header(FRAME_HEADER_ASCII4, 9999, h), 4);
	cr_assert(memcmp(h, "9999", 4) == 0);
	cr_assert_eq(frame_write_header(FRAME_HEADER_ASCII4, 10000, h), 0);
	cr_assert_eq(frame_header_size(FRAME_HEADER_BINARY2), 2);
	cr_assert_eq(frame_header_size(FRAME_HEADER_ASCII4), 4);
}

/* Appends a framed message to buf at *len. */
static void put_frame(enum frame_header h, uint8_t *buf, size_t *len, const char *msg)
{
	size_t n = strlen(msg);
	size_t hs = frame_write_header(h, n, buf + *len);
	cr_assert_gt(hs, 0);
	memcpy(buf + *len + hs, msg, n);
	*len += hs + n;
}

static const char *const messages[] = { "first", "", "the third message, a little longer", "4",
					"", "sixth and last" };
#define MESSAGE_COUNT (sizeof(messages) / sizeof(messages[0]))

static void datagram_with_several_frames(enum frame_header h)
{
	uint8_t dgram[512];
	size_t len = 0;
	for (size_t i = 0; i < MESSAGE_COUNT; i++)
		put_frame(h, dgram, &len, messages[i]);

	size_t at = 0;
	for (size_t i = 0; i < MESSAGE_COUNT; i++) {
		const uint8_t *msg;
		size_t n, used;
		cr_assert_eq(frame_next(h, dgram + at, len - at, 64, &msg, &n, &used), FRAME_OK);
		cr_assert_eq(n, strlen(messages[i]), "message %zu", i);
		cr_assert(memcmp(msg, messages[i], n) == 0);
		cr_assert_eq(msg, dgram + at + frame_header_size(h), "zero-copy view");
		at += used;
	}
	cr_assert_eq(at, len);
	const uint8_t *msg;
	size_t n, used;
	cr_assert_eq(frame_next(h, dgram + at, 0, 64, &msg, &n, &used), FRAME_NEED_MORE);
	/* A datagram cut inside a frame is incomplete at every cut. */
	for (size_t cut = 1; cut < frame_header_size(h) + 5; cut++)
		cr_assert_eq(frame_next(h, dgram, cut, 64, &msg, &n, &used), FRAME_NEED_MORE, "cut %zu", cut);
}

Test(framing, datagram_binary2)
{
	datagram_with_several_frames(FRAME_HEADER_BINARY2);
}

Test(framing, datagram_ascii4)
{
	datagram_with_several_frames(FRAME_HEADER_ASCII4);
}

/* The agents' datagram reader: whole frames or nothing, keep-alives skipped. */
Test(framing, datagram_frames_walks_whole_datagrams_only)
{
	uint8_t dgram[512];
	size_t len = 0;
	for (size_t i = 0; i < MESSAGE_COUNT; i++)
		put_frame(FRAME_HEADER_BINARY2, dgram, &len, messages[i]);
	struct datagram_frames frames;
	const uint8_t *msg;
	size_t n;
	cr_assert(datagram_frames_open(&frames, dgram, len));
	for (size_t i = 0; i < MESSAGE_COUNT; i++) {
		if (!messages[i][0])
			continue;
		cr_assert(datagram_frames_next(&frames, &msg, &n), "message %zu", i);
		cr_assert_eq(n, strlen(messages[i]));
		cr_assert(memcmp(msg, messages[i], n) == 0);
	}
	cr_assert_not(datagram_frames_next(&frames, &msg, &n));

	/* One frame, the usual datagram. */
	cr_assert(datagram_frames_open(&frames, dgram, 2 + strlen(messages[0])));
	cr_assert(datagram_frames_next(&frames, &msg, &n));
	cr_assert(n == strlen(messages[0]) && msg == dgram + 2);
	cr_assert_not(datagram_frames_next(&frames, &msg, &n));

	/* Cut anywhere inside a frame: dropped entire. */
	for (size_t cut = 1; cut < len; cut++) {
		size_t at = 0, used;
		while (at < cut && frame_next(FRAME_HEADER_BINARY2, dgram + at, cut - at, 64, &msg, &n, &used) == FRAME_OK)
			at += used;
		bool whole = at == cut; /* cut between two frames */
		cr_assert_eq(datagram_frames_open(&frames, dgram, cut), whole, "cut %zu", cut);
	}
	static const uint8_t too_large[] = {0x10, 0x01};
	cr_assert_not(datagram_frames_open(&frames, too_large, sizeof(too_large)));
	/* Nothing at all, or keep-alives only: whole, with no message. */
	static const uint8_t keep_alives[] = {0x00, 0x00, 0x00, 0x00};
	cr_assert(datagram_frames_open(&frames, keep_alives, 0));
	cr_assert_not(datagram_frames_next(&frames, &msg, &n));
	cr_assert(datagram_frames_open(&frames, keep_alives, sizeof(keep_alives)));
	cr_assert_not(datagram_frames_next(&frames, &msg, &n));
}

Test(framing, keep_alive_is_a_valid_empty_frame)
{
	static const uint8_t ka[] = { 0x00, 0x00 };
	const uint8_t *msg = NULL;
	size_t n = 99, used = 0;
	cr_assert_eq(frame_next(FRAME_HEADER_BINARY2, ka, 2, 100, &msg, &n, &used), FRAME_OK);
	cr_assert_eq(n, 0);
	cr_assert_eq(used, 2);
	cr_assert_eq(frame_next(FRAME_HEADER_ASCII4, (const uint8_t *)"0000", 4, 100, &msg, &n, &used),
		     FRAME_OK);
	cr_assert_eq(n, 0);
	cr_assert_eq(used, 4);
}

Test(framing, bad_and_too_large_headers)
{
	const uint8_t *msg;
	size_t n, used;
	cr_assert_eq(frame_next(FRAME_HEADER_ASCII4, (const uint8_t *)"00a5hello", 9, 100, &msg, &n, &used),
		     FRAME_BAD_HEADER);
	cr_assert_eq(frame_next(FRAME_HEADER_ASCII4, (const uint8_t *)"0101", 4, 100, &msg, &n, &used),
		     FRAME_TOO_LARGE, "announced size is judged before the body arrives");
	cr_assert_eq(frame_next(FRAME_HEADER_ASCII4, (const uint8_t *)"0100", 4, 100, &msg, &n, &used),
		     FRAME_NEED_MORE);
	static const uint8_t big[] = { 0x10, 0x01 };
	cr_assert_eq(frame_next(FRAME_HEADER_BINARY2, big, 2, 4096, &msg, &n, &used), FRAME_TOO_LARGE);
	static const uint8_t max[] = { 0x10, 0x00 };
	cr_assert_eq(frame_next(FRAME_HEADER_BINARY2, max, 2, 4096, &msg, &n, &used), FRAME_NEED_MORE);
}

/* Builds the stream of all messages, returns its length. */
static size_t build_stream(enum frame_header h, uint8_t *stream, int repeat)
{
	size_t len = 0;
	for (int r = 0; r < repeat; r++)
		for (size_t i = 0; i < MESSAGE_COUNT; i++)
			put_frame(h, stream, &len, messages[i]);
	return len;
}

/* Drains every complete message, checking each against the expected sequence. */
static void drain(struct frame_reader *r, size_t *next)
{
	const uint8_t *msg;
	size_t n;
	enum frame_status st;
	while ((st = frame_reader_next(r, &msg, &n)) == FRAME_OK) {
		const char *want = messages[*next % MESSAGE_COUNT];
		cr_assert_eq(n, strlen(want), "message %zu", *next);
		cr_assert(memcmp(msg, want, n) == 0, "message %zu", *next);
		(*next)++;
	}
	cr_assert_eq(st, FRAME_NEED_MORE);
}

static void stream_in_pieces(enum frame_header h, size_t capacity, size_t piece)
{
	static uint8_t stream[8192];
	const int repeat = 20;
	size_t len = build_stream(h, stream, repeat);
	uint8_t buf[256];
	cr_assert_leq(capacity, sizeof(buf));
	struct frame_reader r;
	frame_reader_init(&r, h, 40, buf, capacity);

	size_t fed = 0, next = 0;
	while (fed < len) {
		size_t avail;
		uint8_t *space = frame_reader_space(&r, &avail);
		cr_assert_gt(avail, 0, "reader always has room once drained");
		size_t n = piece < avail ? piece : avail;
		if (n > len - fed)
			n = len - fed;
		memcpy(space, stream + fed, n);
		frame_reader_commit(&r, n);
		fed += n;
		drain(&r, &next);
	}
	cr_assert_eq(next, MESSAGE_COUNT * (size_t)repeat, "every message came out once");
	cr_assert_eq(r.start, r.end, "nothing left over");
}

Test(framing, stream_byte_by_byte)
{
	stream_in_pieces(FRAME_HEADER_BINARY2, 2 + 40, 1);
	stream_in_pieces(FRAME_HEADER_ASCII4, 4 + 40, 1);
}

Test(framing, stream_odd_pieces_with_minimal_buffer)
{
	for (size_t piece = 2; piece < 50; piece += 3) {
		stream_in_pieces(FRAME_HEADER_BINARY2, 2 + 40, piece);
		stream_in_pieces(FRAME_HEADER_ASCII4, 4 + 40, piece);
	}
}

Test(framing, stream_merged_reads_with_large_buffer)
{
	stream_in_pieces(FRAME_HEADER_BINARY2, 256, 256);
	stream_in_pieces(FRAME_HEADER_ASCII4, 256, 200);
}

Test(framing, reader_push_and_limits)
{
	uint8_t buf[2 + 16];
	struct frame_reader r;
	frame_reader_init(&r, FRAME_HEADER_BINARY2, 16, buf, sizeof(buf));
	static const uint8_t hello[] = { 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0x00, 0x00 };
	cr_assert_eq(frame_reader_push(&r, hello, sizeof(hello)), FRAME_OK);
	const uint8_t *msg;
	size_t n;
	cr_assert_eq(frame_reader_next(&r, &msg, &n), FRAME_OK);
	cr_assert(n == 5 && memcmp(msg, "hello", 5) == 0);
	cr_assert_eq(frame_reader_next(&r, &msg, &n), FRAME_OK, "keep-alive");
	cr_assert_eq(n, 0);
	cr_assert_eq(frame_reader_next(&r, &msg, &n), FRAME_NEED_MORE);

	uint8_t lots[19] = { 0 };
	cr_assert_eq(frame_reader_push(&r, lots, sizeof(lots)), FRAME_BUFFER_SMALL);
	cr_assert_eq(r.start, r.end, "a refused push leaves nothing behind");

	static const uint8_t huge[] = { 0x00, 0x11 }; /* 17 > 16 */
	cr_assert_eq(frame_reader_push(&r, huge, sizeof(huge)), FRAME_OK);
	cr_assert_eq(frame_reader_next(&r, &msg, &n), FRAME_TOO_LARGE);
	cr_assert_eq(frame_reader_next(&r, &msg, &n), FRAME_TOO_LARGE, "the error stays");

	/* A reader whose buffer cannot hold a frame it accepts says so, instead of waiting forever. */
	uint8_t tiny[6];
	frame_reader_init(&r, FRAME_HEADER_ASCII4, 16, tiny, sizeof(tiny));
	cr_assert_eq(frame_reader_push(&r, "0010ab", 6), FRAME_OK);
	cr_assert_eq(frame_reader_next(&r, &msg, &n), FRAME_BUFFER_SMALL);

	frame_reader_init(&r, FRAME_HEADER_ASCII4, 16, buf, sizeof(buf));
	cr_assert_eq(frame_reader_push(&r, "00x1a", 5), FRAME_OK);
	cr_assert_eq(frame_reader_next(&r, &msg, &n), FRAME_BAD_HEADER);
}
