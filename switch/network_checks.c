#include "network_checks.h"

#include <string.h>
#include <time.h>

#include "luhn.h"
#include "switch_fields.h"

const int network_required_1100[] = {2, 3, 4, 7, 11, 12, 14, 32, 37, 41, 49};
const int network_required_1100_count =
	(int)(sizeof(network_required_1100) / sizeof(network_required_1100[0]));

/* network_required_1100 as presence bits (iso_msg.present: field f is bit f of a little-endian string). */
#define REQUIRED_1100_MASK                                                                                          \
	((1ull << 2) | (1ull << 3) | (1ull << 4) | (1ull << 7) | (1ull << 11) | (1ull << 12) | (1ull << 14) |       \
	 (1ull << 32) | (1ull << 37) | (1ull << 41) | (1ull << 49))
#define unlikely_missing(x) __builtin_expect(!!(x), 0)

static struct check_verdict fail(enum check_failure f, int action, int field)
{
	struct check_verdict v = {.failure = f, .action = action, .field = field};
	return v;
}

struct check_verdict network_check_authorization(const struct iso_msg *m,
						 const struct network_check_context *ctx)
{
	/* All present (the usual case) in one test of the presence bits; else the first missing. */
	uint64_t present;
	memcpy(&present, m->present, sizeof(present));
	if (unlikely_missing((present & REQUIRED_1100_MASK) != REQUIRED_1100_MASK)) {
		for (int i = 0; i < network_required_1100_count; i++)
			if (!iso_has(m, network_required_1100[i]))
				return fail(CHECK_MISSING_FIELD, ACTION_FORMAT_ERROR, network_required_1100[i]);
	}

	/* In place when unpacked (the ASCII profile: always), else a copy. */
	char pan_copy[20], expiry_copy[5];
	size_t pan_length, expiry_length;
	const char *pan = (const char *)field_bytes(m, 2, &pan_length);
	if (!pan) {
		int n = iso_field_text(m, 2, pan_copy, sizeof(pan_copy));
		pan = pan_copy;
		pan_length = n < 0 ? 0 : (size_t)n;
	}
	int pan_len = (int)pan_length;
	if (pan_len < 12 || pan_len > 19)
		return fail(CHECK_BAD_PAN, ACTION_FORMAT_ERROR, 2);

	const char *expiry = (const char *)field_bytes(m, 14, &expiry_length);
	if (!expiry) {
		int n = iso_field_text(m, 14, expiry_copy, sizeof(expiry_copy));
		expiry = expiry_copy;
		expiry_length = n < 0 ? 0 : (size_t)n;
	}
	if (expiry_length != 4)
		return fail(CHECK_BAD_EXPIRY, ACTION_FORMAT_ERROR, 14);
	unsigned yy = (unsigned)((expiry[0] - '0') * 10 + (expiry[1] - '0'));
	unsigned mm = (unsigned)((expiry[2] - '0') * 10 + (expiry[3] - '0'));
	if (mm < 1 || mm > 12)
		return fail(CHECK_BAD_EXPIRY, ACTION_FORMAT_ERROR, 14);
	/* A purchase of nothing is refused, as the seed refuses amounts <= 0 (n12 has no sign). */
	uint64_t amount;
	if (!iso_field_u64(m, 4, &amount) || amount == 0)
		return fail(CHECK_ZERO_AMOUNT, ACTION_INVALID_AMOUNT, 4);

	if (!luhn_valid(pan, (size_t)pan_len))
		return fail(CHECK_LUHN, ACTION_INVALID_CARD, 2);
	if (ctx->major_industry_id && (unsigned)(pan[0] - '0') != ctx->major_industry_id)
		return fail(CHECK_WRONG_NETWORK, ACTION_INVALID_CARD, 2);
	if (yy * 100 + mm < ctx->today_yymm)
		return fail(CHECK_EXPIRED, ACTION_EXPIRED, 14);

	/* Luhn passed, so the PAN is 12..19 digits: read it once, for the routes and the registry. */
	uint64_t prefix[BIN_MAX_DIGITS + 1], number = 0;
	for (int i = 0; i < pan_len; i++) {
		number = number * 10 + (uint64_t)(pan[i] - '0');
		if (i < BIN_MAX_DIGITS)
			prefix[i + 1] = number;
	}
	struct route_hit hit;
	if (!ctx->routes || !route_table_lookup_prefixes(ctx->routes, prefix, (size_t)pan_len, &hit))
		return fail(CHECK_NO_ROUTE, ACTION_INVALID_CARD, 2);

	const struct card_entry *card =
		ctx->cards ? card_registry_find_number(ctx->cards, number, (size_t)pan_len) : NULL;
	if (!card)
		return fail(CHECK_UNKNOWN_CARD, ACTION_INVALID_CARD, 2);
	if (card->state == CARD_BLOCKED)
		return fail(CHECK_BLOCKED_CARD, ACTION_NOT_PERMITTED, 2);

	struct check_verdict ok = {.failure = CHECK_PASSED, .action = ACTION_APPROVED, .route = hit};
	return ok;
}

const char *check_failure_name(enum check_failure f)
{
	switch (f) {
	case CHECK_PASSED: return "passed";
	case CHECK_MISSING_FIELD: return "missing data element";
	case CHECK_BAD_PAN: return "PAN not 12 to 19 digits";
	case CHECK_BAD_EXPIRY: return "expiry not a YYMM date";
	case CHECK_ZERO_AMOUNT: return "amount of zero";
	case CHECK_LUHN: return "PAN fails the Luhn check";
	case CHECK_WRONG_NETWORK: return "PAN of another network";
	case CHECK_EXPIRED: return "card expired";
	case CHECK_NO_ROUTE: return "BIN has no route";
	case CHECK_UNKNOWN_CARD: return "card unknown to the network";
	case CHECK_BLOCKED_CARD: return "card blocked";
	}
	return "unknown";
}

unsigned yymm_of_time(int64_t unix_seconds)
{
	time_t t = (time_t)unix_seconds;
	struct tm tm;
	gmtime_r(&t, &tm);
	return (unsigned)((tm.tm_year % 100) * 100 + tm.tm_mon + 1);
}
