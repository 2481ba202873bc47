/* The one PAN mask: first six and last four, nothing of a malformed PAN. */
#include <criterion/criterion.h>

#include "pan_mask.h"

static const char *masked(const char *pan)
{
	static char out[PAN_MASK_SIZE];
	return pan_mask(pan, out, sizeof(out));
}

Test(pan_mask, keeps_the_first_six_and_the_last_four)
{
	cr_assert_str_eq(masked("5105100000000027"), "510510******0027");
	cr_assert_str_eq(masked("4111111111111111111"), "411111*********1111");
	cr_assert_str_eq(masked("41111111111"), "411111*1111");
}

Test(pan_mask, a_short_number_keeps_only_its_last_four)
{
	cr_assert_str_eq(masked("1234567890"), "******7890");
	cr_assert_str_eq(masked("1234"), "****");
	cr_assert_str_eq(masked("12345"), "*2345");
}

Test(pan_mask, what_is_not_a_pan_shows_nothing_of_itself)
{
	cr_assert_str_eq(masked(""), "?");
	cr_assert_str_eq(masked(NULL), "?");
	cr_assert_str_eq(masked("51051000000000271234"), "?", "20 digits is longer than any PAN");
	cr_assert_str_eq(masked("5105 1000 0000 0027"), "?");
	char small[8];
	cr_assert_str_eq(pan_mask("5105100000000027", small, sizeof(small)), "?", "never cut a PAN short");
}
