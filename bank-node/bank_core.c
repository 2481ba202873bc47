#include "bank_core.h"

#include "mti.h"

#include <stdio.h>
#include <string.h>

bool bank_core_init(struct bank_core *core, struct store *store, const struct bank_rules *rules,
		    size_t expected_cards)
{
	memset(core, 0, sizeof(*core));
	core->store = store;
	core->rules = *rules;
	bank_core_set_time(core, 0);
	if (rules->max_approvals_per_minute == 0)
		return true; /* no velocity rule: no table */
	return velocity_init(&core->velocity, expected_cards);
}

void bank_core_free(struct bank_core *core)
{
	velocity_free(&core->velocity);
}

void bank_core_set_time(struct bank_core *core, int64_t now_unix)
{
	core->now_unix = now_unix;
	core->today_yymm = rules_yymm(now_unix);
}

void bank_core_set_answer_budget(struct bank_core *core, uint32_t budget_ms)
{
	core->answer_budget_ns = (uint64_t)budget_ms * 1000000u;
}

void bank_core_set_monotonic(struct bank_core *core, uint64_t now_ns)
{
	core->now_ns = now_ns;
}

static void set_action(struct bank_request *req, const char *action)
{
	memcpy(req->action, action, 4);
}

/* Six digits by hand: snprintf was a visible share of the writer's time per approval. */
static void next_approval_code(struct bank_core *core, char out[7])
{
	core->approval_seq++;
	uint32_t v = core->approval_seq % 1000000u;
	for (int i = 5; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
	out[6] = '\0';
}

/* A repeated 1100: same key. Same card and amount get the first answer again, anything else is 913. */
static void answer_duplicate(const struct store *s, struct bank_request *req, const struct journal_record *j)
{
	req->outcome = OUTCOME_DUPLICATE;
	bool same = j->amount == req->amount && store_journal_pan_is(s, j, req->pan);
	/* A reversed original must not be reported approved again. */
	if (!same || j->state == JOURNAL_REVERSED) {
		set_action(req, ACTION_DUPLICATE);
		return;
	}
	set_action(req, j->action);
	memcpy(req->approval, j->approval, sizeof(req->approval));
}

/* The journal keeps the PAN masked and as its lookup hash (records.h): the card lookup just computed it. */
static int fill_journal(const struct store *s, struct journal_record *j, const struct bank_request *req,
			const char *account, int64_t now_unix)
{
	memset(j, 0, sizeof(*j));
	int rc = store_journal_set_pan(s, j, req->pan);
	if (account) /* j is zeroed: copying at most size - 1 bytes keeps it terminated */
		memcpy(j->account, account, strnlen(account, sizeof(j->account) - 1));
	j->amount = req->amount;
	j->created_unix = now_unix;
	return rc;
}

/*
 * A journal entry that moves no money: a declined late original, the
 * tombstone of a reversal that came first (both marked reversed, so that
 * whatever comes under the key later never debits), or a shed request.
 */
static int journal_without_money(struct bank_core *core, struct store_txn *txn, struct bank_request *req,
				 enum bank_outcome outcome, const char *action, enum journal_state state,
				 bool reversal_seen)
{
	struct store *s = core->store;
	struct journal_record j;
	req->outcome = outcome;
	set_action(req, action);
	int rc = fill_journal(s, &j, req, NULL, core->now_unix);
	if (rc)
		return rc;
	j.state = state;
	j.reversal_seen = reversal_seen;
	memcpy(j.action, req->action, 4);
	return store_journal_put(txn, s, &req->key, &j);
}

/* An original that came after its reversal: the sender gave up on it, so it never debits. */
static int decline_after_tombstone(struct bank_core *core, struct store_txn *txn, struct bank_request *req)
{
	return journal_without_money(core, txn, req, OUTCOME_TOMBSTONE_DECLINE, ACTION_DECLINED, JOURNAL_DECLINED,
				     true);
}

static bool over_budget(const struct bank_core *core, const struct bank_request *req)
{
	return core->answer_budget_ns && req->received_ns && core->now_ns > req->received_ns &&
	       core->now_ns - req->received_ns > core->answer_budget_ns;
}

static int authorize(struct bank_core *core, struct store_txn *txn, struct bank_request *req)
{
	struct store *s = core->store;
	struct journal_record j;
	/*
	 * The exact key, or else a bounded walk of the transaction's DE 12/32/37/41
	 * group: what a restarted network hides under STANs of its own (store.h).
	 */
	struct journal_group group;
	int rc = store_journal_group(txn, s, &req->key, req->pan, req->amount, &group);
	if (rc)
		return rc;
	if (group.exact) {
		if (group.exact_record.state != JOURNAL_TOMBSTONE) {
			answer_duplicate(s, req, &group.exact_record);
			return 0;
		}
		return decline_after_tombstone(core, txn, req);
	}
	/*
	 * Its reversal came first under the cardholder's STAN (a network that had
	 * forgotten the original forwarded it as it came), and this original now
	 * comes under the network's STAN: same card and amount, so it is that one.
	 * Declining it can only refuse a payment, never take money.
	 */
	if (group.tombstone_for_card)
		return decline_after_tombstone(core, txn, req);
	if (iso_mti_is_repeat(req->mti) && (group.others > 0 || group.truncated)) {
		/*
		 * A 1101 is the acquirer asking again for an answer it never had: the
		 * original was decided here under another STAN (the network restarted
		 * in between). One original gives its answer again; several, or a
		 * group too large to walk, are not guessed between: 913, no money moves.
		 */
		if (group.others == 1 && !group.truncated) {
			answer_duplicate(s, req, &group.other);
			req->found_by_keys_but_stan = true;
		} else {
			req->outcome = OUTCOME_DUPLICATE;
			set_action(req, ACTION_DUPLICATE);
		}
		return 0;
	}
	/*
	 * Load shedding skips a new decision, never the journal: a duplicate, a
	 * repeat or a late original answered above says what the cardholder's
	 * money already did, where a 912 would say "refused" over a standing debit.
	 */
	if (over_budget(core, req)) {
		/*
		 * Journaled as a refusal: the network relays the first answer it gets,
		 * so a copy of this request (a duplicated datagram, right behind it)
		 * must hear the same 912 and never be decided after it.
		 */
		return journal_without_money(core, txn, req, OUTCOME_SHED, ACTION_ISSUER_UNAVAILABLE, JOURNAL_DECLINED,
					     false);
	}

	struct card_record card;
	struct account_record account;
	bool card_found = false, account_found = false;
	rc = store_card_get(txn, s, req->pan, &card);
	if (rc == 0)
		card_found = true;
	else if (rc != STORE_NOT_FOUND)
		return rc;
	if (card_found) {
		rc = store_account_get(txn, s, card.account, &account);
		if (rc == 0)
			account_found = true;
		else if (rc != STORE_NOT_FOUND)
			return rc;
	}
	int64_t minute_clock = core->now_unix;
	struct rule_input in = {
		.card = card_found ? &card : NULL,
		.account = account_found ? &account : NULL,
		.request_expiry = req->expiry,
		.processing_code = req->processing_code,
		.currency = req->currency,
		.amount = req->amount,
		.approvals_last_minute = core->rules.max_approvals_per_minute
						 ? velocity_count(&core->velocity, req->pan, minute_clock)
						 : 0,
		.today_yymm = core->today_yymm,
	};
	set_action(req, rules_decide(&core->rules, &in));
	req->outcome = OUTCOME_NEW;
	rc = fill_journal(s, &j, req, card_found ? card.account : NULL, core->now_unix);
	if (rc)
		return rc;
	memcpy(j.action, req->action, 4);

	if (strcmp(req->action, ACTION_APPROVED) != 0) {
		j.state = JOURNAL_DECLINED;
		return store_journal_put(txn, s, &req->key, &j);
	}
	account.balance -= (int64_t)req->amount; /* rules checked balance >= amount */
	rc = store_account_put(txn, s, card.account, &account, STORE_REPLACE);
	if (rc)
		return rc;
	if (card.state == CARD_PRODUCED) {
		card.state = CARD_ACTIVE; /* the first approved payment activates the card */
		rc = store_card_put(txn, s, req->pan, &card, STORE_REPLACE);
		if (rc)
			return rc;
	}
	next_approval_code(core, req->approval);
	memcpy(j.approval, req->approval, sizeof(j.approval));
	j.state = JOURNAL_APPROVED;
	rc = store_journal_put(txn, s, &req->key, &j);
	if (rc == 0 && core->rules.max_approvals_per_minute)
		velocity_record(&core->velocity, req->pan, minute_clock);
	return rc;
}

static int reverse(struct bank_core *core, struct store_txn *txn, struct bank_request *req)
{
	struct store *s = core->store;
	struct journal_record j;
	int rc = store_journal_get(txn, s, &req->key, &j);
	if (rc == STORE_NOT_FOUND) {
		/* DE 56 may name the cardholder's STAN where the bank journaled the one a
		 * network gave the original (the network restarted and forgot it): the
		 * original is then the one entry with the same DE 12, 32, 37 and 41. */
		struct journal_key original;
		rc = store_journal_find_by_keys_but_stan(txn, s, &req->key, &original, &j);
		if (rc == STORE_OK) {
			req->key = original;
			req->found_by_keys_but_stan = true;
		} else if (rc != STORE_NOT_FOUND) {
			return rc;
		}
	}
	if (rc == STORE_NOT_FOUND) {
		/* Remember it: an original arriving later is declined, never debited. */
		return journal_without_money(core, txn, req, OUTCOME_REVERSAL_UNKNOWN, ACTION_ORIGINAL_NOT_FOUND,
					     JOURNAL_TOMBSTONE, true);
	}
	if (rc)
		return rc;
	/* A reversal naming another card than its original is not a reversal of it. */
	if (req->pan[0] && j.pan_masked[0] && !store_journal_pan_is(s, &j, req->pan)) {
		req->outcome = OUTCOME_REVERSAL_UNKNOWN;
		set_action(req, ACTION_ORIGINAL_NOT_FOUND);
		return 0;
	}
	switch (j.state) {
	case JOURNAL_TOMBSTONE:
		req->outcome = OUTCOME_REVERSAL_UNKNOWN;
		set_action(req, ACTION_ORIGINAL_NOT_FOUND);
		return 0;
	case JOURNAL_REVERSED:
		req->outcome = OUTCOME_REVERSAL_REPLAY;
		set_action(req, ACTION_REVERSAL_ACCEPTED);
		return 0;
	case JOURNAL_DECLINED:
		req->outcome = OUTCOME_REVERSAL_NO_MONEY;
		set_action(req, ACTION_REVERSAL_ACCEPTED);
		if (j.reversal_seen)
			return 0;
		j.reversal_seen = 1;
		return store_journal_put(txn, s, &req->key, &j);
	case JOURNAL_APPROVED:
		break;
	default:
		return STORE_CORRUPTED;
	}
	struct account_record account;
	rc = store_account_get(txn, s, j.account, &account);
	if (rc)
		return rc == STORE_NOT_FOUND ? STORE_CORRUPTED : rc; /* an approval always has its account */
	account.balance += (int64_t)j.amount; /* the full original amount, whatever DE 4 says */
	rc = store_account_put(txn, s, j.account, &account, STORE_REPLACE);
	if (rc)
		return rc;
	j.state = JOURNAL_REVERSED;
	j.reversal_seen = 1;
	req->outcome = OUTCOME_REVERSAL_CREDITED;
	set_action(req, ACTION_REVERSAL_ACCEPTED);
	return store_journal_put(txn, s, &req->key, &j);
}

int bank_core_apply(struct bank_core *core, struct store_txn *txn, struct bank_request *req)
{
	req->approval[0] = '\0';
	switch (req->kind) {
	case BANK_AUTHORIZATION:
		return authorize(core, txn, req);
	case BANK_REVERSAL:
		return reverse(core, txn, req);
	}
	set_action(req, ACTION_FORMAT_ERROR);
	return 0;
}
