#include "txn_key.h"

#include <stdio.h>

static bool copy_digits(const char *s, size_t want_min, size_t want_max, uint8_t *out)
{
	size_t n = strlen(s);
	if (n < want_min || n > want_max)
		return false;
	memcpy(out, s, n);
	return true;
}

bool txn_key_make(const char *acquirer, const char *stan, const char *local_time, const char *rrn,
		  const char *terminal, struct txn_key *key)
{
	memset(key, 0, sizeof(*key));
	size_t acq_len = strlen(acquirer);
	if (acq_len > 11)
		return false;
	key->bytes[0] = (uint8_t)('0' + acq_len / 10);
	key->bytes[1] = (uint8_t)('0' + acq_len % 10);
	return copy_digits(acquirer, 0, 11, key->bytes + 2) && copy_digits(stan, 6, 6, key->bytes + 13) &&
	       copy_digits(local_time, 12, 12, key->bytes + 19) && copy_digits(rrn, 1, 12, key->bytes + 31) &&
	       copy_digits(terminal, 1, 8, key->bytes + 43);
}

bool txn_key_of_request(const struct iso_msg *m, struct txn_key *key)
{
	char acq[12], stan[7], dt[13], rrn[13], term[9];
	if (iso_field_text(m, 32, acq, sizeof(acq)) < 0 || iso_field_text(m, 11, stan, sizeof(stan)) < 0 ||
	    iso_field_text(m, 12, dt, sizeof(dt)) < 0 || iso_field_text(m, 37, rrn, sizeof(rrn)) < 0 ||
	    iso_field_text(m, 41, term, sizeof(term)) < 0)
		return false;
	return txn_key_make(acq, stan, dt, rrn, term, key);
}

bool txn_key_of_reversal(const struct iso_msg *m, struct txn_key *key)
{
	char de56[40], rrn[13], term[9];
	struct original_data od;
	int n = iso_field_text(m, 56, de56, sizeof(de56));
	if (n < 0 || !original_data_parse(de56, (size_t)n, &od) || iso_field_text(m, 37, rrn, sizeof(rrn)) < 0 ||
	    iso_field_text(m, 41, term, sizeof(term)) < 0)
		return false;
	return txn_key_make(od.acquirer, od.stan, od.local_time, rrn, term, key);
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool original_data_parse(const char *text, size_t len, struct original_data *out)
{
	if (len < 24 || !digits(text, len))
		return false;
	size_t acq_len = (size_t)((text[22] - '0') * 10 + (text[23] - '0'));
	if (acq_len > 11 || len != 24 + acq_len)
		return false;
	memcpy(out->mti, text, 4);
	out->mti[4] = '\0';
	memcpy(out->stan, text + 4, 6);
	out->stan[6] = '\0';
	memcpy(out->local_time, text + 10, 12);
	out->local_time[12] = '\0';
	memcpy(out->acquirer, text + 24, acq_len);
	out->acquirer[acq_len] = '\0';
	return true;
}

size_t original_data_format(const struct original_data *d, char *out, size_t capacity)
{
	int n = snprintf(out, capacity, "%.4s%.6s%.12s%02zu%s", d->mti, d->stan, d->local_time,
			 strlen(d->acquirer), d->acquirer);
	return n < 0 ? 0 : (size_t)n;
}
