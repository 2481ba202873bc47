/* Luhn (mod 10) check digits. */
#include "luhn.h"

#include <stdint.h>

/*
 * Sum of digits[0..n) with every second digit doubled, counting from the
 * rightmost one, which is doubled when `double_rightmost` holds (computing a
 * check digit to append) and not when it is the check digit itself.
 * Returns -1 if any character is not a decimal digit.
 */
static int luhn_sum(const char *digits, size_t n, int double_rightmost)
{
	/* A doubled digit's contribution, and the two positions' roles, without a branch a digit. */
	static const uint8_t doubled_value[10] = {0, 2, 4, 6, 8, 1, 3, 5, 7, 9};
	int sum = 0;
	unsigned bad = 0;
	size_t i = n;
	if (double_rightmost && i > 0) {
		unsigned d = (unsigned)(unsigned char)digits[--i] - '0';
		bad |= d > 9;
		sum += doubled_value[d > 9 ? 0 : d];
	}
	while (i >= 2) {
		unsigned plain = (unsigned)(unsigned char)digits[i - 1] - '0';
		unsigned twice = (unsigned)(unsigned char)digits[i - 2] - '0';
		bad |= (plain > 9) | (twice > 9);
		sum += (int)plain + doubled_value[twice > 9 ? 0 : twice];
		i -= 2;
	}
	if (i == 1) {
		unsigned plain = (unsigned)(unsigned char)digits[0] - '0';
		bad |= plain > 9;
		sum += (int)plain;
	}
	return bad ? -1 : sum;
}

bool luhn_valid(const char *digits, size_t n)
{
	if (digits == NULL || n == 0)
		return false;
	int sum = luhn_sum(digits, n, 0);
	return sum >= 0 && sum % 10 == 0;
}

char luhn_check_digit(const char *digits, size_t n)
{
	if (digits == NULL && n > 0)
		return 0;
	int sum = luhn_sum(digits, n, 1);
	if (sum < 0)
		return 0;
	return (char)('0' + (10 - sum % 10) % 10);
}
