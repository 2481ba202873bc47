#include "table_memory.h"

#include <stdint.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

static size_t mapping_size(size_t count, size_t size, size_t *out)
{
	if (size && count > SIZE_MAX / size)
		return 0;
	size_t bytes = count * size;
	if (bytes == 0 || bytes > SIZE_MAX - HUGE_PAGE)
		return 0;
	*out = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	return 1;
}

void *table_calloc(size_t count, size_t size)
{
	size_t bytes;
	if (!mapping_size(count, size, &bytes))
		return NULL;
	/* Anonymous mappings come zeroed; the kernel backs them on first touch. One huge
	 * page more than needed, trimmed to a 2 MiB boundary, lets every page be huge. */
	uint8_t *raw = mmap(NULL, bytes + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	size_t head = (HUGE_PAGE - (uintptr_t)raw % HUGE_PAGE) % HUGE_PAGE;
	if (head)
		munmap(raw, head);
	if (HUGE_PAGE - head)
		munmap(raw + head + bytes, HUGE_PAGE - head);
	void *p = raw + head;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: refused, the table still works */
#endif
	return p;
}

void table_free(void *p, size_t count, size_t size)
{
	size_t bytes;
	if (p && mapping_size(count, size, &bytes))
		munmap(p, bytes);
}
