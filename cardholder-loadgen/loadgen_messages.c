#include "loadgen_messages.h"

#include "iso_mac.h"

#include <string.h>
#include <time.h>

#include "framing.h"

void write_digits(char *out, uint64_t value, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		out[i] = (char)('0' + value % 10);
		value /= 10;
	}
}

static bool parse_digits(const char *text, size_t len, uint64_t *value)
{
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(text[i] - '0');
	}
	*value = v;
	return true;
}

void loadgen_rrn(char out[LOADGEN_RRN_LEN + 1], unsigned thread, uint64_t sequence)
{
	write_digits(out, thread, 2);
	write_digits(out + 2, sequence, 10);
	out[LOADGEN_RRN_LEN] = '\0';
}

bool loadgen_rrn_parse(const char *rrn, size_t len, unsigned *thread, uint64_t *sequence)
{
	uint64_t t;
	if (len != LOADGEN_RRN_LEN || !parse_digits(rrn, 2, &t) || !parse_digits(rrn + 2, 10, sequence))
		return false;
	*thread = (unsigned)t;
	return true;
}

void loadgen_terminal_id(char out[LOADGEN_TERMINAL_LEN + 1], unsigned thread, unsigned terminal)
{
	out[0] = 'L';
	write_digits(out + 1, thread, 2);
	write_digits(out + 3, terminal, 5);
	out[LOADGEN_TERMINAL_LEN] = '\0';
}

bool loadgen_terminal_parse(const char *id, size_t len, unsigned *thread, unsigned *terminal)
{
	uint64_t t, k;
	if (len != LOADGEN_TERMINAL_LEN || id[0] != 'L' || !parse_digits(id + 1, 2, &t) ||
	    !parse_digits(id + 3, 5, &k))
		return false;
	*thread = (unsigned)t;
	*terminal = (unsigned)k;
	return true;
}

void loadgen_format_times(int64_t unix_second, char transmission[11], char local_time[13])
{
	time_t t = (time_t)unix_second;
	struct tm utc, local;
	gmtime_r(&t, &utc);
	localtime_r(&t, &local);
	write_digits(transmission, (uint64_t)utc.tm_mon + 1, 2);
	write_digits(transmission + 2, (uint64_t)utc.tm_mday, 2);
	write_digits(transmission + 4, (uint64_t)utc.tm_hour, 2);
	write_digits(transmission + 6, (uint64_t)utc.tm_min, 2);
	write_digits(transmission + 8, (uint64_t)utc.tm_sec, 2);
	transmission[10] = '\0';
	write_digits(local_time, (uint64_t)(local.tm_year % 100), 2);
	write_digits(local_time + 2, (uint64_t)local.tm_mon + 1, 2);
	write_digits(local_time + 4, (uint64_t)local.tm_mday, 2);
	write_digits(local_time + 6, (uint64_t)local.tm_hour, 2);
	write_digits(local_time + 8, (uint64_t)local.tm_min, 2);
	write_digits(local_time + 10, (uint64_t)local.tm_sec, 2);
	local_time[12] = '\0';
}

/* Encodes m after a 2-byte big-endian length header, its MAC element reserved last (loadgen_mac_seal). */
static size_t encode_framed(struct iso_msg *m, uint8_t *out, size_t capacity, enum iso_error_code *err)
{
	iso_mac_reserve(m);
	struct iso_error e;
	size_t written = 0;
	if (capacity < 2) {
		*err = ISO_ERR_BUFFER_TOO_SMALL;
		return 0;
	}
	*err = iso_encode(&iso_profile_ascii, m, out + 2, capacity - 2, &written, &e);
	if (*err != ISO_OK)
		return 0;
	if (frame_write_header(FRAME_HEADER_BINARY2, written, out) != 2) {
		*err = ISO_ERR_BUFFER_TOO_SMALL;
		return 0;
	}
	return written + 2;
}

static void set_common(struct iso_msg *m, const struct purchase_context *c, const struct purchase *p,
		       char amount[13])
{
	write_digits(amount, p->amount, 12);
	amount[12] = '\0';
	iso_set_str(m, 2, p->pan);
	iso_set(m, 3, "000000", 6);
	iso_set(m, 4, amount, 12);
	iso_set_str(m, 32, c->acquirer_id);
	iso_set(m, 37, p->rrn, LOADGEN_RRN_LEN);
	iso_set(m, 41, p->terminal, LOADGEN_TERMINAL_LEN);
	iso_set_str(m, 49, c->currency);
}

size_t loadgen_encode_authorization(const struct purchase_context *c, const struct purchase *p, uint8_t *out,
				    size_t capacity, enum iso_error_code *err)
{
	struct iso_msg m;
	char amount[13], stan[7];
	iso_msg_init(&m, 1100);
	set_common(&m, c, p, amount);
	write_digits(stan, p->stan, 6);
	iso_set(&m, 7, p->transmission, 10);
	iso_set(&m, 11, stan, 6);
	iso_set(&m, 12, p->local_time, 12);
	iso_set(&m, 14, p->expiry, 4);
	/* Card present, chip read, PIN verified terminal: a plain POS purchase. */
	iso_set(&m, 22, "510101513344", 12);
	iso_set(&m, 24, "100", 3);
	iso_set_str(&m, 42, c->merchant_id);
	return encode_framed(&m, out, capacity, err);
}

size_t loadgen_encode_reversal(const struct purchase_context *c, const struct purchase *p, uint32_t reversal_stan,
			       const char reversal_transmission[11], const char reversal_local_time[13], bool repeat,
			       uint8_t *out, size_t capacity, enum iso_error_code *err)
{
	struct iso_msg m;
	char amount[13], stan[7], original[36];
	size_t acquirer_len = strlen(c->acquirer_id);
	if (acquirer_len > 11) {
		*err = ISO_ERR_BAD_VALUE;
		return 0;
	}
	iso_msg_init(&m, repeat ? 1421 : 1420);
	set_common(&m, c, p, amount);
	write_digits(stan, reversal_stan, 6);
	iso_set(&m, 7, reversal_transmission, 10);
	iso_set(&m, 11, stan, 6);
	iso_set(&m, 12, reversal_local_time, 12);
	iso_set(&m, 24, "400", 3);
	/* DE 56: original MTI, STAN, local date/time, then the acquirer id with its 2-digit length. */
	memcpy(original, "1100", 4);
	write_digits(original + 4, p->stan, 6);
	memcpy(original + 10, p->local_time, 12);
	write_digits(original + 22, acquirer_len, 2);
	memcpy(original + 24, c->acquirer_id, acquirer_len);
	iso_set(&m, 56, original, 24 + acquirer_len);
	return encode_framed(&m, out, capacity, err);
}
