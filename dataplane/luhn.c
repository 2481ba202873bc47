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
	int sum = 0;
	int doubled = double_rightmost;
	for (size_t i = n; i-- > 0;) {
		char c = digits[i];
		if (c < '0' || c > '9')
			return -1;
		int d = c - '0';
		if (doubled) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
		doubled = !doubled;
	}
	return sum;
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
