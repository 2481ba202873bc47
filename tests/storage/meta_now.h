/*
 * A named store total as a fresh reader sees it now: what the group-commit
 * tests compare with what complete() was told is committed.
 */
#ifndef TEST_META_NOW_H
#define TEST_META_NOW_H

#include <stdint.h>

#include "store.h"

/* 0 when no reader could be opened (the caller's comparison then fails). */
static inline int64_t meta_now(struct store *s, const char *name)
{
	struct store_txn *txn;
	int64_t value = 0;
	if (store_read_begin(s, &txn) == 0) {
		store_meta_get(txn, s, name, &value);
		store_abort(txn);
	}
	return value;
}

#endif
