/*
 * Length-prefixed framing for datagrams (several frames back to back) and
 * byte streams (reassembly in a caller-owned buffer, no allocation).
 */
#include "framing.h"

#include <string.h>

size_t frame_write_header(enum frame_header h, size_t msg_len, uint8_t *out)
{
	if (h == FRAME_HEADER_BINARY2) {
		if (msg_len > 0xFFFF)
			return 0;
		out[0] = (uint8_t)(msg_len >> 8);
		out[1] = (uint8_t)msg_len;
		return 2;
	}
	if (msg_len > 9999)
		return 0;
	for (int i = 3; i >= 0; i--) {
		out[i] = (uint8_t)('0' + msg_len % 10);
		msg_len /= 10;
	}
	return 4;
}

enum frame_status frame_next(enum frame_header h, const uint8_t *buf, size_t len, size_t max_msg,
			     const uint8_t **msg, size_t *msg_len, size_t *consumed)
{
	size_t hsz = frame_header_size(h);
	if (len < hsz)
		return FRAME_NEED_MORE;
	size_t n;
	if (h == FRAME_HEADER_BINARY2) {
		n = ((size_t)buf[0] << 8) | buf[1];
	} else {
		n = 0;
		for (size_t i = 0; i < 4; i++) {
			unsigned d = (uint8_t)(buf[i] - '0');
			if (d > 9)
				return FRAME_BAD_HEADER;
			n = n * 10 + d;
		}
	}
	/* Judge the announced size before waiting for it: a stream must not sit
	 * waiting for a frame it would refuse anyway. */
	if (n > max_msg)
		return FRAME_TOO_LARGE;
	if (len - hsz < n)
		return FRAME_NEED_MORE;
	*msg = buf + hsz;
	*msg_len = n;
	*consumed = hsz + n;
	return FRAME_OK;
}

void frame_reader_init(struct frame_reader *r, enum frame_header h, size_t max_msg, uint8_t *buf,
		       size_t capacity)
{
	r->header = h;
	r->max_msg = max_msg;
	r->buf = buf;
	r->capacity = capacity;
	r->start = 0;
	r->end = 0;
}

/* Moves the unread bytes to the front when the tail may not hold a whole
 * frame; a large buffer thus compacts rarely, a minimal one when it must. */
static void compact_if_needed(struct frame_reader *r)
{
	if (r->start == r->end) {
		r->start = r->end = 0;
		return;
	}
	size_t largest_frame = frame_header_size(r->header) + r->max_msg;
	if (r->start > 0 && r->capacity - r->start < largest_frame) {
		size_t unread = r->end - r->start;
		memmove(r->buf, r->buf + r->start, unread);
		r->start = 0;
		r->end = unread;
	}
}

uint8_t *frame_reader_space(struct frame_reader *r, size_t *available)
{
	compact_if_needed(r);
	*available = r->capacity - r->end;
	return r->buf + r->end;
}

void frame_reader_commit(struct frame_reader *r, size_t n)
{
	if (n > r->capacity - r->end) /* a caller bug; never run past the buffer */
		n = r->capacity - r->end;
	r->end += n;
}

enum frame_status frame_reader_next(struct frame_reader *r, const uint8_t **msg, size_t *msg_len)
{
	size_t consumed;
	enum frame_status st = frame_next(r->header, r->buf + r->start, r->end - r->start, r->max_msg,
					  msg, msg_len, &consumed);
	if (st == FRAME_OK)
		r->start += consumed;
	else if (st == FRAME_NEED_MORE && r->end == r->capacity && r->start == 0)
		st = FRAME_BUFFER_SMALL; /* full of one unfinished frame: can never complete */
	return st;
}

enum frame_status frame_reader_push(struct frame_reader *r, const void *data, size_t n)
{
	size_t available;
	uint8_t *space = frame_reader_space(r, &available);
	if (n > available) {
		/* Make all room there is before refusing. */
		size_t unread = r->end - r->start;
		if (r->start > 0 && r->capacity - unread >= n) {
			memmove(r->buf, r->buf + r->start, unread);
			r->start = 0;
			r->end = unread;
			space = r->buf + r->end;
		} else {
			return FRAME_BUFFER_SMALL;
		}
	}
	memcpy(space, data, n);
	r->end += n;
	return FRAME_OK;
}
