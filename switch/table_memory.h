/*
 * Memory for a worker's big per-message tables (pending transactions, outcome
 * memory): zeroed, and asking the kernel for 2 MiB pages. A new 1100 touches
 * lines spread over megabytes of such tables; with 4 KiB pages nearly every one
 * of those touches also misses the TLB (on a VM, a two-dimensional page walk),
 * which prefetching does not hide. Without transparent huge pages this is
 * plain zeroed memory.
 */
#ifndef TABLE_MEMORY_H
#define TABLE_MEMORY_H

#include <stddef.h>

/* count * size zeroed bytes, NULL when out of memory or on overflow. */
void *table_calloc(size_t count, size_t size);
/* Frees what table_calloc(count, size) returned (NULL is fine). */
void table_free(void *p, size_t count, size_t size);

#endif
