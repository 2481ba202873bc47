/*
 * The one way a PAN is shown to people: first six and last four digits, the
 * rest replaced by '*' (PCI DSS 3.3). Every log line, error, HTTP answer,
 * report and dump that names a card goes through it.
 */
#ifndef ISO8583_PAN_MASK_H
#define ISO8583_PAN_MASK_H

#include <stddef.h>

/* Size of a buffer that holds any masked PAN (19 digits) with its NUL. */
#define PAN_MASK_SIZE 20

/*
 * Writes pan masked into out (at least PAN_MASK_SIZE bytes). A PAN of 10
 * digits or fewer shows only its last four; anything that is not 1-19 digits
 * is shown as "?" so that no malformed input leaks through either.
 * Returns out.
 */
char *pan_mask(const char *pan, char *out, size_t out_size);

#endif
