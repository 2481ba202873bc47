/*
 * Shared by the files of one switch worker (switch_worker.c and the message
 * paths it dispatches to): the counting macro and the handlers one path hands
 * a transaction to in another. Not for use outside the worker.
 */
#ifndef WORKER_INTERNAL_H
#define WORKER_INTERNAL_H

#include "switch_worker.h"

/* One writer per counter: a relaxed store is enough for the HTTP thread to read it whole. */
#define COUNT(w, name) __atomic_store_n(&(w)->counters.name, (w)->counters.name + 1, __ATOMIC_RELAXED)

#endif
