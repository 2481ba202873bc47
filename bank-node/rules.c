#include "rules.h"

#include <string.h>
#include <time.h>

static int parse_yymm(const char *s)
{
	if (strlen(s) != 4)
		return -1;
	for (int i = 0; i < 4; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	int month = (s[2] - '0') * 10 + (s[3] - '0');
	if (month < 1 || month > 12)
		return -1;
	return (s[0] - '0') * 1000 + (s[1] - '0') * 100 + month;
}

int rules_yymm(int64_t unix_seconds)
{
	time_t t = (time_t)unix_seconds;
	struct tm tm;
	gmtime_r(&t, &tm);
	return (tm.tm_year % 100) * 100 + tm.tm_mon + 1;
}

const char *rules_decide(const struct bank_rules *rules, const struct rule_input *in)
{
	if (!in->card)
		return ACTION_UNKNOWN_CARD;
	/* Ordered cards are not produced yet; blocked ones are refused for good. */
	if (in->card->state == CARD_BLOCKED || in->card->state == CARD_ORDERED)
		return ACTION_NOT_PERMITTED;
	if (in->card->state != CARD_PRODUCED && in->card->state != CARD_ACTIVE)
		return ACTION_NOT_PERMITTED;
	/* A card is valid through the last day of its expiry month. */
	int card_expiry = parse_yymm(in->card->expiry);
	if (card_expiry < 0 || card_expiry < in->today_yymm)
		return ACTION_EXPIRED;
	if (in->request_expiry[0]) {
		int sent = parse_yymm(in->request_expiry);
		if (sent < 0 || sent < in->today_yymm)
			return ACTION_EXPIRED;
		if (sent != card_expiry)
			return ACTION_DECLINED; /* the terminal read another card's date */
	}
	/* Purchases only (processing code 00xxxx). */
	if (in->processing_code[0] && strncmp(in->processing_code, "00", 2) != 0)
		return ACTION_NOT_PERMITTED;
	if (in->currency[0] && rules->currency[0] && strcmp(in->currency, rules->currency) != 0)
		return ACTION_NOT_PERMITTED;
	/* Nothing to pay is not a payment (the seed refuses amounts <= 0); the network refuses it first. */
	if (in->amount == 0)
		return ACTION_INVALID_AMOUNT;
	if (rules->max_amount && in->amount > rules->max_amount)
		return ACTION_NOT_PERMITTED;
	if (rules->max_approvals_per_minute && in->approvals_last_minute >= rules->max_approvals_per_minute)
		return ACTION_NOT_PERMITTED;
	if (!in->account)
		return ACTION_SYSTEM_ERROR;
	if (in->account->balance < 0 || (uint64_t)in->account->balance < in->amount)
		return ACTION_NO_FUNDS;
	return ACTION_APPROVED;
}
