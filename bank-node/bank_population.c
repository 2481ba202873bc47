#include "bank_population.h"

#include <stdio.h>
#include <string.h>

#include "card_population.h"

int bank_population_create(struct store *s, const struct ecosystem_config *cfg, const struct cfg_bank *bank,
			   struct population_result *out)
{
	memset(out, 0, sizeof(*out));
	out->cards_total = population_bank_card_count(cfg, bank);
	struct store_txn *txn;
	int rc = store_write_begin(s, &txn);
	if (rc)
		return rc;
	int64_t created_money = 0;
	for (size_t k = 0; k < out->cards_total && rc == 0; k++) {
		struct population_card pc;
		population_bank_card(cfg, bank, k, &pc);
		struct account_record a;
		memset(&a, 0, sizeof(a));
		a.balance = (int64_t)cfg->loadgen.initial_balance;
		memcpy(a.currency, cfg->loadgen.currency, sizeof(a.currency));
		snprintf(a.owner, sizeof(a.owner), "%s", pc.account);
		/* Accounts are shared by the bank's cards on every network: create once. */
		rc = store_account_put(txn, s, pc.account, &a, STORE_CREATE);
		if (rc == 0) {
			out->accounts_created++;
			created_money += a.balance;
		} else if (rc == STORE_EXISTS) {
			rc = 0;
		}
		if (rc)
			break;
		struct card_record c;
		memset(&c, 0, sizeof(c));
		snprintf(c.account, sizeof(c.account), "%s", pc.account);
		memcpy(c.expiry, pc.expiry, sizeof(c.expiry));
		c.state = CARD_ACTIVE;
		rc = store_card_put(txn, s, pc.pan, &c, STORE_CREATE);
		if (rc == 0)
			out->cards_created++;
		else if (rc == STORE_EXISTS)
			rc = 0;
	}
	if (rc == 0 && created_money)
		rc = store_meta_add(txn, s, STORE_META_CREATED_TOTAL, created_money);
	if (rc) {
		store_abort(txn);
		return rc;
	}
	return store_commit(txn);
}
