/* The value of one hexadecimal digit (either case), or -1: for keys and binary elements written as hex. */
#ifndef HEX_DIGIT_H
#define HEX_DIGIT_H

static inline int hex_digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
