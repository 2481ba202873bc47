/* Luhn (mod 10) check digits, as every PAN carries in its last digit. */
#ifndef LUHN_H
#define LUHN_H

#include <stdbool.h>
#include <stddef.h>

/* True if digits[0..n) is all digits and its last digit is a valid Luhn check digit. */
bool luhn_valid(const char *digits, size_t n);
/* The check digit ('0'..'9') to append to digits[0..n). */
char luhn_check_digit(const char *digits, size_t n);

#endif
