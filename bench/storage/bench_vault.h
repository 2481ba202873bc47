/*
 * Throwaway PAN protection keys for a storage bench (docs/data-protection.md):
 * made in the bench's directory if missing, so that PANs are sealed and looked
 * up as in production and the figures include that cost.
 */
#ifndef BENCH_VAULT_H
#define BENCH_VAULT_H

#include "pan_vault.h"

/* The vault of dir/pan.keys (created 0600 in a 0700 dir when absent); NULL with a message on stderr. */
struct pan_vault *bench_vault(const char *dir);

#endif
