// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests: IKEv2 message codec (placeholder until the codec lands). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ike/message.h"

static void test_placeholder(void **state)
{
	assert_int_equal(IKE_HDR_LEN, 28);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholder),
	};
	return cmocka_run_group_tests_name("message", tests, NULL, NULL);
}
