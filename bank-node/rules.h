/*
 * The issuer's authorization rules as a pure decision: card, expiry, fraud
 * limits and funds in, DE 39 action code out. No storage, no clock: the
 * caller reads the records and the date, so every rule is unit-testable.
 */
#ifndef BANK_RULES_H
#define BANK_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "records.h"

struct bank_rules {
	uint64_t max_amount;               /* 0 = no limit */
	uint32_t max_approvals_per_minute; /* per card; 0 = no limit */
	char currency[4];                  /* the accounts' currency; "" accepts any */
};

struct rule_input {
	const struct card_record *card;       /* NULL: unknown PAN */
	const struct account_record *account; /* NULL: the card's account is missing */
	const char *request_expiry;           /* DE 14 YYMM or "" */
	const char *processing_code;          /* DE 3 or "" */
	const char *currency;                 /* DE 49 or "" */
	uint64_t amount;
	uint32_t approvals_last_minute; /* of this card */
	int today_yymm;                 /* e.g. 2611 for November 2026 */
};

#define ACTION_APPROVED "000"
#define ACTION_DECLINED "100"
#define ACTION_EXPIRED "101"
#define ACTION_INVALID_AMOUNT "110"
#define ACTION_UNKNOWN_CARD "111"
#define ACTION_NO_FUNDS "116"
#define ACTION_NOT_PERMITTED "119"
#define ACTION_REVERSAL_ACCEPTED "400"
#define ACTION_FORMAT_ERROR "904"
#define ACTION_SYSTEM_ERROR "909"
#define ACTION_MAC_INCORRECT "916"
#define ACTION_ISSUER_UNAVAILABLE "912"
#define ACTION_DUPLICATE "913"
#define ACTION_ORIGINAL_NOT_FOUND "914"

/* The first rule that refuses, in the order documented in docs/bank-node.md; "000" if none. */
const char *rules_decide(const struct bank_rules *rules, const struct rule_input *in);

/* YYMM of a UTC time, e.g. 2611. */
int rules_yymm(int64_t unix_seconds);

#endif
