#include "records.h"

#include <string.h>

static bool put_padded(char *dst, size_t width, const char *src)
{
	size_t n = strlen(src);
	if (n == 0 || n > width)
		return false;
	memcpy(dst, src, n);
	memset(dst + n, ' ', width - n);
	return true;
}

bool journal_key_build(struct journal_key *key, const char *acquirer, const char *stan,
		       const char *local_datetime, const char *rrn, const char *terminal)
{
	size_t acq_len = strlen(acquirer);
	if (acq_len == 0 || acq_len > 11)
		return false;
	char *k = key->bytes;
	/* Local date and time first: new entries land next to each other at the end of
	 * the tree (one hot leaf per acquirer and time zone) instead of one random page
	 * per authorization, and a day is one contiguous range of keys. */
	if (!put_padded(k + JOURNAL_KEY_LOCAL_TIME_AT, 12, local_datetime))
		return false;
	/* The length keeps "123" and "0123" apart: n..11 values are compared as sent. */
	k[JOURNAL_KEY_ACQUIRER_LENGTH_AT] = (char)('0' + acq_len / 10);
	k[JOURNAL_KEY_ACQUIRER_LENGTH_AT + 1] = (char)('0' + acq_len % 10);
	return put_padded(k + JOURNAL_KEY_ACQUIRER_AT, 11, acquirer) && put_padded(k + JOURNAL_KEY_RRN_AT, 12, rrn) &&
	       put_padded(k + JOURNAL_KEY_TERMINAL_AT, 8, terminal) && put_padded(k + JOURNAL_KEY_STAN_AT, 6, stan);
}

const char *card_state_name(enum card_state s)
{
	switch (s) {
	case CARD_ORDERED:
		return "ordered";
	case CARD_PRODUCED:
		return "produced";
	case CARD_ACTIVE:
		return "active";
	case CARD_BLOCKED:
		return "blocked";
	}
	return "unknown";
}

enum card_state card_state_parse(const char *name)
{
	for (int s = CARD_ORDERED; s <= CARD_BLOCKED; s++)
		if (strcmp(name, card_state_name((enum card_state)s)) == 0)
			return (enum card_state)s;
	return (enum card_state)0;
}
