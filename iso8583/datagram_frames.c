#include "datagram_frames.h"

#include "framing.h"

bool datagram_frames_whole(const uint8_t *data, size_t length)
{
	const uint8_t *msg;
	size_t msg_len, consumed;
	for (size_t at = 0; at < length; at += consumed)
		if (frame_next(FRAME_HEADER_BINARY2, data + at, length - at, ISO_MAX_MESSAGE, &msg, &msg_len,
			       &consumed) != FRAME_OK)
			return false;
	return true;
}
