/*
 * What an ISO 8583:1993 message type indicator says about the message, for
 * agents deciding how to treat what they received.
 */
#ifndef ISO8583_MTI_H
#define ISO8583_MTI_H

#include <stdbool.h>
#include <stdint.h>

/* True for a request or an advice: both expect an answer. */
static inline bool iso_mti_is_request(uint16_t mti)
{
	/* Third digit 0 request, 2 advice (ISO 8583:1993 message function). */
	unsigned function = (mti / 10) % 10;
	return function == 0 || function == 2;
}

/*
 * The response to a request or advice: the next message function, origin digit
 * cleared (1100 and its repeat 1101 -> 1110; 1420 and 1421 -> 1430).
 */
static inline uint16_t iso_mti_response_of(uint16_t mti)
{
	return (uint16_t)(mti - mti % 10 + 10);
}

/* Fourth digit 1: the acquirer's repeat of a request it had no answer to (1101, 1421). */
static inline bool iso_mti_is_repeat(uint16_t mti)
{
	return mti % 10 == 1;
}

#endif
