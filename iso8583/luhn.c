/* Luhn (mod 10) check digits. */
#include "luhn.h"

#include <stdint.h>
#include <string.h>

/*
 * Sum of digits[0..n) with every second digit doubled, counting from the
 * rightmost one, which is doubled when `double_rightmost` holds (computing a
 * check digit to append) and not when it is the check digit itself.
 * Returns -1 if any character is not a decimal digit.
 */
#define ONES8 0x0101010101010101ull

/* Non-zero iff a byte of x is not an ASCII digit (x - '0' per byte > 9). */
static uint64_t nondigit_mask(uint64_t x)
{
	uint64_t a = x - 0x30 * ONES8;
	return (a | (a + 0x76 * ONES8)) & (0x80 * ONES8);
}

/*
 * Luhn sum of one word of digit values (bytes 0..9) whose bytes in `doubled`
 * are doubled: a doubled d adds 2d - 9 when d > 4, computed for all bytes at
 * once (no byte exceeds 18, so nothing carries into its neighbour).
 */
static unsigned word_sum(uint64_t values, uint64_t doubled)
{
	uint64_t d = values & doubled;
	uint64_t over4 = ((d + 0x7B * ONES8) >> 7) & ONES8;
	uint64_t bytes = (values & ~doubled) + 2 * d - 9 * over4;
	return (unsigned)((bytes * ONES8) >> 56); /* at most 8 * 9: fits the top byte */
}

/* 8 to 16 digits (most PANs) as two words; -1 if one is not a digit. */
static int luhn_sum_words(const char *digits, size_t n, int double_rightmost)
{
	uint64_t right, left;
	memcpy(&right, digits + n - 8, 8); /* byte 7 is the rightmost digit */
	memcpy(&left, digits, 8);          /* its first n - 8 bytes are the digits left of right's */
	uint64_t keep = n >= 16 ? ~0ull : (1ull << (8 * (n - 8))) - 1;
	left = (left & keep) | (0x30 * ONES8 & ~keep);
	if (nondigit_mask(right) | nondigit_mask(left))
		return -1;
	/* In right, byte b is the (7 - b)-th digit from the right; in left, byte j the (n - 1 - j)-th. */
	const uint64_t even_bytes = 0x00FF00FF00FF00FFull, odd_bytes = ~even_bytes;
	uint64_t right_doubled = double_rightmost ? odd_bytes : even_bytes;
	bool left_even_doubled = ((n - 1) & 1) ^ (double_rightmost != 0);
	uint64_t left_doubled = (left_even_doubled ? even_bytes : odd_bytes) & keep;
	return (int)(word_sum(right - 0x30 * ONES8, right_doubled) +
		     word_sum((left - 0x30 * ONES8) & keep, left_doubled));
}

static int luhn_sum(const char *digits, size_t n, int double_rightmost)
{
	if (n >= 8 && n <= 16)
		return luhn_sum_words(digits, n, double_rightmost);
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
