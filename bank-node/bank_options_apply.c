/*
 * The command line over the config: each option that was given replaces the
 * matching value of the bank's config entry; the rest stays as configured.
 */
#include <stdio.h>
#include <string.h>

#include "bank_node.h"

bool bank_options_apply(const struct bank_options *o, struct cfg_bank *bank, char *err, size_t err_size)
{
	if (o->lmdb_path) {
		if (strlen(o->lmdb_path) >= sizeof(bank->lmdb_path)) {
			snprintf(err, err_size, "--lmdb-path: longer than %zu bytes", sizeof(bank->lmdb_path) - 1);
			return false;
		}
		snprintf(bank->lmdb_path, sizeof(bank->lmdb_path), "%s", o->lmdb_path);
	}
	if (o->http_port > 0)
		bank->http.port = (uint16_t)o->http_port;
	if (o->iso_port > 0)
		bank->iso.port = (uint16_t)o->iso_port;
	if (o->durability >= 0)
		bank->durability = (enum durability)o->durability;
	if (o->batch_max > 0)
		bank->batch_max = (uint32_t)o->batch_max;
	if (o->answer_budget_ms >= 0)
		bank->answer_budget_ms = (uint32_t)o->answer_budget_ms;
	if (o->delay_probability >= 0)
		bank->faults.delay_probability = o->delay_probability;
	if (o->delay_ms >= 0)
		bank->faults.delay_ms = (uint32_t)o->delay_ms;
	if (o->drop_probability >= 0)
		bank->faults.drop_probability = o->drop_probability;
	if (bank->batch_max == 0)
		bank->batch_max = 256;
	return true;
}
