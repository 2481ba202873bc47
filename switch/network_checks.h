/*
 * The checks a card network makes on a cardholder's 1100 before it routes it
 * to a bank. A failing check is answered by the switch with a 1110 carrying
 * the action code below; nothing that fails reaches a bank.
 *
 *   904 format error     a required data element is missing or malformed
 *   111 invalid card     PAN fails Luhn, is not of this network's major industry
 *                        identifier, its BIN has no route, or the card is unknown
 *   101 expired card     DE 14 (YYMM) is before the current month
 *   119 not permitted    the card is known but blocked
 */
#ifndef NETWORK_CHECKS_H
#define NETWORK_CHECKS_H

#include <stdint.h>

#include "bin_routes.h"
#include "card_registry.h"
#include "iso8583.h"

#define ACTION_APPROVED 0
#define ACTION_DECLINED 100
#define ACTION_EXPIRED 101
#define ACTION_INVALID_AMOUNT 110
#define ACTION_INVALID_CARD 111
#define ACTION_NOT_PERMITTED 119
#define ACTION_REVERSAL_ACCEPTED 400
#define ACTION_FORMAT_ERROR 904
#define ACTION_SYSTEM_MALFUNCTION 909
#define ACTION_ISSUER_TIMEOUT 911
#define ACTION_ISSUER_UNAVAILABLE 912
#define ACTION_DUPLICATE 913
#define ACTION_MAC_INCORRECT 916
#define ACTION_ORIGINAL_NOT_FOUND 914

struct network_check_context {
	const struct route_table *routes;
	const struct card_registry *cards;
	unsigned today_yymm;       /* e.g. 2611 for November 2026 */
	uint8_t major_industry_id; /* 0 = any */
};

enum check_failure {
	CHECK_PASSED = 0,
	CHECK_MISSING_FIELD,
	CHECK_BAD_PAN,
	CHECK_BAD_EXPIRY,
	CHECK_ZERO_AMOUNT,
	CHECK_LUHN,
	CHECK_WRONG_NETWORK,
	CHECK_EXPIRED,
	CHECK_NO_ROUTE,
	CHECK_UNKNOWN_CARD,
	CHECK_BLOCKED_CARD,
};

struct check_verdict {
	enum check_failure failure;
	int action;            /* ACTION_APPROVED (0) when every check passed */
	int field;             /* the data element at fault, 0 if none */
	struct route_hit route; /* valid when passed */
};

/* Data elements every 1100 must carry. */
extern const int network_required_1100[];
extern const int network_required_1100_count;

struct check_verdict network_check_authorization(const struct iso_msg *m,
						 const struct network_check_context *ctx);
const char *check_failure_name(enum check_failure f);

/* YYMM of a UNIX time in UTC. */
unsigned yymm_of_time(int64_t unix_seconds);

#endif
