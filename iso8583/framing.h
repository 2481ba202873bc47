/*
 * Message framing: every ISO 8583 message on a link is preceded by its length,
 * as 2 bytes big-endian (jPOS NACChannel without TPDU, PostChannel) or as
 * 4 ASCII digits (jPOS ASCIIChannel).
 *
 * Datagram links carry one or more framed messages per datagram; stream links
 * (TCP) need reassembly, done by struct frame_reader without allocation.
 */
#ifndef FRAMING_H
#define FRAMING_H

#include <stddef.h>
#include <stdint.h>

enum frame_header { FRAME_HEADER_BINARY2, FRAME_HEADER_ASCII4 };

enum frame_status {
	FRAME_OK = 0,
	FRAME_NEED_MORE,    /* not a whole frame yet */
	FRAME_BAD_HEADER,   /* ASCII header with non-digits */
	FRAME_TOO_LARGE,    /* announced length above the link's maximum */
	FRAME_BUFFER_SMALL, /* caller's buffer cannot hold the frame */
};

static inline size_t frame_header_size(enum frame_header h)
{
	return h == FRAME_HEADER_BINARY2 ? 2 : 4;
}

/* Writes the header for a message of msg_len bytes at out; returns its size, 0 if msg_len does not fit. */
size_t frame_write_header(enum frame_header h, size_t msg_len, uint8_t *out);

/*
 * Finds the next frame in buf[0..len). On FRAME_OK, *msg and *msg_len give the
 * message and *consumed the bytes the frame took (header + message).
 * A zero-length frame is valid (keep-alive): FRAME_OK with *msg_len 0.
 */
enum frame_status frame_next(enum frame_header h, const uint8_t *buf, size_t len, size_t max_msg,
			     const uint8_t **msg, size_t *msg_len, size_t *consumed);

/* Reassembles frames from a byte stream delivered in arbitrary pieces. */
struct frame_reader {
	enum frame_header header;
	size_t max_msg;
	uint8_t *buf; /* caller-owned, at least header + max_msg bytes */
	size_t capacity;
	size_t start, end; /* unread bytes are buf[start..end) */
};

void frame_reader_init(struct frame_reader *r, enum frame_header h, size_t max_msg, uint8_t *buf,
		       size_t capacity);
/* Where to read new bytes into, and how many fit (compacts first if needed). */
uint8_t *frame_reader_space(struct frame_reader *r, size_t *available);
void frame_reader_commit(struct frame_reader *r, size_t n);
/* Next complete message; valid until the next space()/commit()/push(). */
enum frame_status frame_reader_next(struct frame_reader *r, const uint8_t **msg, size_t *msg_len);
/* Convenience for tests and copy-in callers: appends bytes (FRAME_BUFFER_SMALL if no room). */
enum frame_status frame_reader_push(struct frame_reader *r, const void *data, size_t n);

#endif
