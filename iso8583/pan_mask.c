#include "pan_mask.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

char *pan_mask(const char *pan, char *out, size_t out_size)
{
	if (out_size == 0)
		return out;
	size_t n = pan ? strnlen(pan, 20) : 0;
	bool digits = n >= 1 && n <= 19;
	for (size_t i = 0; digits && i < n; i++)
		digits = pan[i] >= '0' && pan[i] <= '9';
	if (!digits || n + 1 > out_size) {
		snprintf(out, out_size, "?");
		return out;
	}
	/* Short numbers cannot keep six and four apart: keep the last four only. */
	size_t head = n > 10 ? 6 : 0;
	size_t tail = n > 4 ? 4 : 0;
	for (size_t i = 0; i < n; i++)
		out[i] = (i < head || i >= n - tail) ? pan[i] : '*';
	out[n] = '\0';
	return out;
}
