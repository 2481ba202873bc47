/*
 * Fuzz target: arbitrary bytes through the decoder (every profile) and the
 * stream reassembler. Whatever decodes must re-encode to the same bytes and
 * decode again to the same values, in its own profile and across profiles;
 * the reassembler must yield exactly the frames a one-shot scan finds,
 * however the bytes are split.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "fuzz_check.h"
#include "iso8583.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct iso_profile *const profiles[] = { &iso_profile_ascii, &iso_profile_bcd,
							  &iso_profile_jpos93b };

static void same_values(const struct iso_msg *a, const struct iso_msg *b)
{
	static char ta[1024], tb[1024];
	CHECK(a->mti == b->mti);
	for (int f = 2; f <= ISO_MAX_FIELD; f++) {
		CHECK(iso_has(a, f) == iso_has(b, f));
		if (!iso_has(a, f))
			continue;
		int la = iso_field_text(a, f, ta, sizeof(ta));
		int lb = iso_field_text(b, f, tb, sizeof(tb));
		CHECK(la >= 0 && la == lb && memcmp(ta, tb, (size_t)la) == 0);
	}
}

static bool has_upper_fields(const struct iso_msg *m)
{
	for (int f = 65; f <= ISO_MAX_FIELD; f++)
		if (iso_has(m, f))
			return true;
	return false;
}

static void codec_round_trip(const uint8_t *data, size_t size)
{
	static uint8_t wire[1 << 16], cross[1 << 16];
	const size_t count = sizeof(profiles) / sizeof(profiles[0]);
	for (size_t i = 0; i < count; i++) {
		const struct iso_profile *p = profiles[i];
		struct iso_msg m, again;
		struct iso_error err;
		if (iso_decode(p, data, size, &m, &err) != ISO_OK) {
			CHECK(err.code != ISO_OK && err.offset <= size && err.field >= -1 && err.field <= 128);
			char text[160];
			CHECK(iso_error_format(&err, text, sizeof(text)) > 0);
			continue;
		}
		size_t n = 0;
		CHECK(iso_encode(p, &m, wire, sizeof(wire), &n, &err) == ISO_OK);
		/* Byte-identical, unless the input carried an empty secondary bitmap
		 * (legal to read, never written). */
		if (!(iso_has(&m, 1) && !has_upper_fields(&m)))
			CHECK(n == size && memcmp(wire, data, size) == 0);
		CHECK(iso_decode(p, wire, n, &again, &err) == ISO_OK);
		same_values(&m, &again);

		for (size_t k = 0; k < count; k++) {
			const struct iso_profile *other = profiles[k];
			size_t cn = 0;
			if (k == i)
				continue;
			if (iso_encode(other, &m, cross, sizeof(cross), &cn, &err) != ISO_OK) {
				/* Only where the tables differ: jpos93b has no DE 97 and
				 * carries DE 49-51 as characters, which are n3 elsewhere. */
				CHECK((err.code == ISO_ERR_UNKNOWN_FIELD && err.field == 97) ||
				      (err.code == ISO_ERR_BAD_VALUE && err.field >= 49 && err.field <= 51));
				continue;
			}
			CHECK(iso_decode(other, cross, cn, &again, &err) == ISO_OK);
			same_values(&m, &again);
		}
	}
}

static void reassembly(const uint8_t *data, size_t size)
{
	if (size == 0)
		return;
	enum frame_header h = (data[0] & 1) ? FRAME_HEADER_ASCII4 : FRAME_HEADER_BINARY2;
	size_t max_msg = 32 + (size_t)(data[0] >> 1) * 32; /* 32..4096: TOO_LARGE stays reachable */
	const uint8_t *stream = data + 1;
	size_t len = size - 1;

	/* Reference: one scan over the whole stream. */
	size_t offsets[4096], lengths[4096], count = 0, at = 0;
	enum frame_status end;
	for (;;) {
		const uint8_t *msg;
		size_t n, used;
		end = frame_next(h, stream + at, len - at, max_msg, &msg, &n, &used);
		if (end != FRAME_OK || count == 4096)
			break;
		offsets[count] = (size_t)(msg - stream);
		lengths[count] = n;
		count++;
		at += used;
	}

	/* The same stream in pieces whose sizes come from the data itself. */
	uint8_t *buf = malloc(frame_header_size(h) + max_msg);
	CHECK(buf);
	struct frame_reader r;
	frame_reader_init(&r, h, max_msg, buf, frame_header_size(h) + max_msg);
	size_t fed = 0, seen = 0, k = 0;
	enum frame_status st = FRAME_NEED_MORE;
	while (seen < count) {
		const uint8_t *msg;
		size_t n;
		st = frame_reader_next(&r, &msg, &n);
		if (st == FRAME_OK) {
			CHECK(n == lengths[seen] && memcmp(msg, stream + offsets[seen], n) == 0);
			seen++;
			continue;
		}
		CHECK(st == FRAME_NEED_MORE && fed < len);
		size_t avail;
		uint8_t *space = frame_reader_space(&r, &avail);
		CHECK(avail > 0);
		size_t piece = 1 + stream[k++ % len] % 37;
		if (piece > avail)
			piece = avail;
		if (piece > len - fed)
			piece = len - fed;
		memcpy(space, stream + fed, piece);
		frame_reader_commit(&r, piece);
		fed += piece;
	}
	if (count < 4096) {
		/* Feed the rest: the reader ends where the scan ended. */
		for (;;) {
			const uint8_t *msg;
			size_t n;
			st = frame_reader_next(&r, &msg, &n);
			CHECK(st != FRAME_OK && st != FRAME_BUFFER_SMALL);
			if (st != FRAME_NEED_MORE || fed == len)
				break;
			size_t avail;
			uint8_t *space = frame_reader_space(&r, &avail);
			size_t piece = avail < len - fed ? avail : len - fed;
			memcpy(space, stream + fed, piece);
			frame_reader_commit(&r, piece);
			fed += piece;
		}
		CHECK(st == end);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	codec_round_trip(data, size);
	reassembly(data, size);
	return 0;
}
