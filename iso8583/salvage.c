#include "salvage.h"

#include <string.h>

static uint64_t load_be64(const uint8_t *b)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

static void store_be64(uint8_t *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

bool iso_salvage_decode(const struct iso_profile *p, const uint8_t *msg, size_t len,
			const struct iso_error *err, uint8_t *scratch, struct iso_msg *out)
{
	size_t mti_len = p->mti_encoding == ISO_ENC_BCD ? 2 : 4;
	if (len < mti_len + 8)
		return false;
	/* Errors about the MTI or the bitmaps leave nothing to salvage; a trailing-bytes error keeps all. */
	bool keep_all = err->code == ISO_ERR_TRAILING_BYTES;
	if (!keep_all && err->field < 2)
		return false;
	int first_bad = keep_all ? ISO_MAX_FIELD + 1 : err->field;

	uint64_t primary = load_be64(msg + mti_len);
	bool has_secondary = primary >> 63;
	size_t body = mti_len + 8 + (has_secondary ? 8 : 0);
	if (len < body)
		return false;
	/* Keep only primary elements below the faulty one (field f is bit 64 - f). */
	uint64_t keep = 0;
	for (int f = 2; f <= 64 && f < first_bad; f++)
		keep |= 1ull << (64 - f);
	primary &= keep;

	size_t n = 0;
	memcpy(scratch, msg, mti_len);
	n += mti_len;
	store_be64(scratch + n, primary);
	n += 8;
	memcpy(scratch + n, msg + body, len - body); /* secondary bitmap dropped with the secondary elements */
	n += len - body;

	struct iso_error e;
	enum iso_error_code rc = iso_decode(p, scratch, n, out, &e);
	if (rc == ISO_ERR_TRAILING_BYTES && e.offset < n)
		rc = iso_decode(p, scratch, e.offset, out, &e);
	return rc == ISO_OK;
}
