/*
 * Messages as the iso8583 tool reads and prints them: a JSON object of the MTI
 * and the elements by number, text as it is (bytes above 0x7f as U+0080..U+00FF)
 * and binary elements as hex. Shared by encode, decode and send.
 */
#ifndef ISO8583_JSON_H
#define ISO8583_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "iso8583.h"

/* Field values are converted into this arena, reset for every message. */
struct arena {
	uint8_t bytes[1 << 17];
	size_t used;
};

/* obj into m (its values in a); index names the message in errors, written to stderr. */
bool message_from_json(const struct iso_profile *p, json_t *obj, struct arena *a, struct iso_msg *m, size_t index);
/* m as a new JSON object. */
json_t *message_to_json(const struct iso_profile *p, const struct iso_msg *m);
/* Skips whitespace; false at the end of input. */
bool more_input(FILE *in);

#endif
