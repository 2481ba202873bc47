#include "txn_key.h"

#include <stdio.h>

#include "switch_fields.h"

/* The text's length up to its first NUL, as strlen would count it, never past n. */
static size_t text_length(const char *s, size_t n)
{
	if (!field_has_nul((const uint8_t *)s, n))
		return n;
	const char *nul = memchr(s, '\0', n);
	return (size_t)(nul - s);
}

/* n: the text's length up to its first NUL. */
static bool copy_text(const char *s, size_t n, size_t want_min, size_t want_max, uint8_t *out)
{
	if (n < want_min || n > want_max)
		return false;
	field_copy_bytes(out, (const uint8_t *)s, n);
	return true;
}

/* The key's layout, from texts of the given lengths, which stop at a NUL as strlen would. */
static bool key_from_texts(const char *acquirer, size_t acq_len, const char *stan, size_t stan_len,
			   const char *local_time, size_t local_time_len, const char *rrn, size_t rrn_len,
			   const char *terminal, size_t terminal_len, struct txn_key *key)
{
	memset(key, 0, sizeof(*key));
	acq_len = text_length(acquirer, acq_len);
	if (acq_len > 11)
		return false;
	key->bytes[0] = (uint8_t)('0' + acq_len / 10);
	key->bytes[1] = (uint8_t)('0' + acq_len % 10);
	return copy_text(acquirer, acq_len, 0, 11, key->bytes + 2) &&
	       copy_text(stan, text_length(stan, stan_len), 6, 6, key->bytes + TXN_KEY_STAN_AT) &&
	       copy_text(local_time, text_length(local_time, local_time_len), 12, 12, key->bytes + 19) &&
	       copy_text(rrn, text_length(rrn, rrn_len), 1, 12, key->bytes + 31) &&
	       copy_text(terminal, text_length(terminal, terminal_len), 1, 8, key->bytes + 43);
}

bool txn_key_make(const char *acquirer, const char *stan, const char *local_time, const char *rrn,
		  const char *terminal, struct txn_key *key)
{
	return key_from_texts(acquirer, strlen(acquirer), stan, strlen(stan), local_time, strlen(local_time), rrn,
			      strlen(rrn), terminal, strlen(terminal), key);
}

/* The element's text in place, or copied into buf (packed digits); false when absent or too long. */
static bool text_of(const struct iso_msg *m, int field, char *buf, size_t capacity, const char **text, size_t *length)
{
	const uint8_t *s = field_bytes(m, field, length);
	if (s) {
		*text = (const char *)s;
		return true;
	}
	int n = iso_field_text(m, field, buf, capacity);
	*text = buf;
	*length = n < 0 ? 0 : (size_t)n;
	return n >= 0;
}

bool txn_key_of_request(const struct iso_msg *m, struct txn_key *key)
{
	/* The copies' sizes bound the lengths as iso_field_text() into them would. */
	char acq[12], stan[7], dt[13], rrn[13], term[9];
	const char *acq_text, *stan_text, *dt_text, *rrn_text, *term_text;
	size_t acq_len, stan_len, dt_len, rrn_len, term_len;
	if (!text_of(m, 32, acq, sizeof(acq), &acq_text, &acq_len) || acq_len >= sizeof(acq) ||
	    !text_of(m, 11, stan, sizeof(stan), &stan_text, &stan_len) || stan_len >= sizeof(stan) ||
	    !text_of(m, 12, dt, sizeof(dt), &dt_text, &dt_len) || dt_len >= sizeof(dt) ||
	    !text_of(m, 37, rrn, sizeof(rrn), &rrn_text, &rrn_len) || rrn_len >= sizeof(rrn) ||
	    !text_of(m, 41, term, sizeof(term), &term_text, &term_len) || term_len >= sizeof(term))
		return false;
	return key_from_texts(acq_text, acq_len, stan_text, stan_len, dt_text, dt_len, rrn_text, rrn_len, term_text,
			      term_len, key);
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
