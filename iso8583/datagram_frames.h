/*
 * The messages of one datagram: every datagram link (docs/protocol.md) carries
 * one or more messages, each behind its 2-byte big-endian length, and a
 * datagram either splits into whole frames or is dropped entire. Every agent
 * reads its datagrams this way:
 *
 *	struct datagram_frames frames;
 *	if (!datagram_frames_open(&frames, data, length))
 *		... count it malformed and drop it ...
 *	while (datagram_frames_next(&frames, &msg, &msg_len))
 *		... handle msg ...
 *
 * Inline: the switch's fast path opens every datagram it receives.
 */
#ifndef ISO8583_DATAGRAM_FRAMES_H
#define ISO8583_DATAGRAM_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iso8583.h"

struct datagram_frames {
	const uint8_t *data;
	size_t length;
	size_t at; /* the next frame's header */
};

/* True when data[0..length) is whole frames of at most ISO_MAX_MESSAGE bytes each (none at all included). */
bool datagram_frames_whole(const uint8_t *data, size_t length);

/* Starts reading a datagram; false when it does not split into whole frames (drop it entire). */
static inline bool datagram_frames_open(struct datagram_frames *frames, const uint8_t *data, size_t length)
{
	frames->data = data;
	frames->length = length;
	frames->at = 0;
	if (length >= 2) {
		/* The usual datagram: exactly one frame (what frame_next would find, in one step). */
		size_t announced = ((size_t)data[0] << 8) | data[1];
		if (announced + 2 == length && announced <= ISO_MAX_MESSAGE)
			return true;
	}
	return datagram_frames_whole(data, length);
}

/* The next message of an opened datagram; false when there is none left. Zero-length frames are keep-alives, skipped. */
static inline bool datagram_frames_next(struct datagram_frames *frames, const uint8_t **msg, size_t *msg_len)
{
	while (frames->at < frames->length) {
		/* Opening checked every header: each announces a frame that is there whole. */
		const uint8_t *header = frames->data + frames->at;
		size_t announced = ((size_t)header[0] << 8) | header[1];
		frames->at += 2 + announced;
		if (announced > 0) {
			*msg = header + 2;
			*msg_len = announced;
			return true;
		}
	}
	return false;
}

#endif
