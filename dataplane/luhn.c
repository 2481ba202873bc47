/* Luhn (mod 10) check digits. */
#include "luhn.h"

/*
 * Sum of digits[0..n) with every second digit doubled, counting from the
 * rightmost one, which is doubled when `double_rightmost` holds (computing a
 * check digit to append) and not when it is the check digit itself.
 * Returns -1 if any character is not a decimal digit.
 */
static int luhn_sum(const char *digits, size_t n, int double_rightmost)
{
	/* Two digits a step, no branch a digit: a doubled digit d adds 2d, less 9 when d > 4. */
	unsigned sum = 0, bad = 0;
	size_t i = n;
	if (double_rightmost && i > 0) {
		unsigned d = (unsigned)(unsigned char)digits[--i] - '0';
		bad |= d > 9;
		sum += 2 * d - 9 * (d > 4);
	}
	for (; i >= 2; i -= 2) {
		unsigned plain = (unsigned)(unsigned char)digits[i - 1] - '0';
		unsigned twice = (unsigned)(unsigned char)digits[i - 2] - '0';
		bad |= (plain > 9) | (twice > 9);
		sum += plain + 2 * twice - 9 * (twice > 4);
	}
	if (i == 1) {
		unsigned plain = (unsigned)(unsigned char)digits[0] - '0';
		bad |= plain > 9;
		sum += plain;
	}
	return bad ? -1 : (int)sum;
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
