// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: validation rules of yang/vpnd.yang, checked with libyang
 * directly (the same library and rules FRR's northbound applies).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <libyang/libyang.h>

static struct ly_ctx *ctx;

static int setup(void **state)
{
	if (ly_ctx_new(VPND_YANG_DIR, 0, &ctx) != LY_SUCCESS)
		return -1;
	if (!ly_ctx_load_module(ctx, "vpnd", NULL, NULL))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	ly_ctx_destroy(ctx);
	return 0;
}

#define NS "urn:vpnd:params:xml:ns:yang:vpnd"

/* Parse and validate a <vpn> document; return NULL or libyang's message. */
static const char *validate(const char *body, char *msg, size_t len)
{
	char doc[8192];
	struct lyd_node *tree = NULL;
	LY_ERR ret;

	snprintf(doc, sizeof(doc), "<vpn xmlns=\"" NS "\">%s</vpn>", body);
	ret = lyd_parse_data_mem(ctx, doc, LYD_XML,
				 LYD_PARSE_STRICT | LYD_PARSE_NO_STATE,
				 LYD_VALIDATE_NO_STATE, &tree);
	lyd_free_all(tree);
	if (ret == LY_SUCCESS)
		return NULL;
	const struct ly_err_item *ei = ly_err_last(ctx);

	snprintf(msg, len, "%s (%s)", ei && ei->msg ? ei->msg : "?",
		 ei && ei->path ? ei->path : "");
	ly_err_clean(ctx, NULL);
	return msg;
}

static void expect_ok(const char *body)
{
	char msg[1024];

	if (validate(body, msg, sizeof(msg)))
		fail_msg("refused: %s\n  doc: %s", msg, body);
}

static void expect_err(const char *body, const char *needle)
{
	char msg[1024];

	if (!validate(body, msg, sizeof(msg)))
		fail_msg("accepted: %s", body);
	if (!strstr(msg, needle))
		fail_msg("message '%s' lacks '%s'\n  doc: %s", msg, needle,
			 body);
}

#define CONN(inner) "<connection><name>c1</name>" inner "</connection>"

static void test_full_config(void **state)
{
	expect_ok("<ike-policy><name>ike1</name>"
		  "<proposal>aes256-sha256-modp2048</proposal>"
		  "<proposal>aes256gcm16-prfsha384-ecp384</proposal>"
		  "<lifetime>3600</lifetime></ike-policy>"
		  "<ipsec-policy><name>esp1</name>"
		  "<proposal>aes256gcm16</proposal>"
		  "<lifetime><seconds>1800</seconds>"
		  "<kilobytes>1000000</kilobytes></lifetime></ipsec-policy>"
		  "<connection><name>site-b</name>"
		  "<local-address>192.0.2.1</local-address>"
		  "<remote-address>198.51.100.1</remote-address>"
		  "<local-id>gw-a.example.net</local-id>"
		  "<remote-id>gw-b@example.net</remote-id>"
		  "<pre-shared-key>s3cr3t!#$%&amp;*</pre-shared-key>"
		  "<ike-policy>ike1</ike-policy>"
		  "<ipsec-policy>esp1</ipsec-policy>"
		  "<interface>vpn-b</interface>"
		  "<traffic-selector><local>10.1.0.0/16</local>"
		  "<remote>10.2.0.0/16</remote></traffic-selector>"
		  "<traffic-selector><local>fd00:1::/64</local>"
		  "<remote>fd00:2::/64</remote></traffic-selector>"
		  "<dpd><interval>5</interval><timeout>20</timeout></dpd>"
		  "<connection-mode>responder-only</connection-mode>"
		  "<shutdown>true</shutdown></connection>"
		  "<connection><name>site-c</name><interface>vpn-c</interface>"
		  "<ike-policy>azure-default</ike-policy>"
		  "<ipsec-policy>aws-default</ipsec-policy></connection>");
}

static void test_psk(void **state)
{
	char body[512], psk[130];

	memset(psk, 'k', 128);
	psk[128] = '\0';
	snprintf(body, sizeof(body),
		 CONN("<pre-shared-key>%s</pre-shared-key>"), psk);
	expect_ok(body);
	psk[128] = 'k';
	psk[129] = '\0';
	snprintf(body, sizeof(body),
		 CONN("<pre-shared-key>%s</pre-shared-key>"), psk);
	expect_err(body, "pre-shared-key: 1 to 128 printable ASCII");
	expect_err(CONN("<pre-shared-key>with space</pre-shared-key>"),
		   "pre-shared-key: 1 to 128 printable ASCII");
	expect_err(CONN("<pre-shared-key>caf\xc3\xa9</pre-shared-key>"),
		   "pre-shared-key: 1 to 128 printable ASCII");
	expect_err(CONN("<pre-shared-key>tab&#9;x</pre-shared-key>"),
		   "pre-shared-key: 1 to 128 printable ASCII");
	expect_err(CONN("<pre-shared-key></pre-shared-key>"),
		   "pre-shared-key: 1 to 128 printable ASCII");
}

static void test_interface(void **state)
{
	expect_ok(CONN("<interface>vpn0</interface>"));
	expect_ok(CONN("<interface>a.b-c_d@e</interface>"));
	expect_ok(CONN("<interface>fifteen15chars_</interface>"));
	expect_err(CONN("<interface>sixteen16chars__</interface>"),
		   "interface: a Linux interface name");
	expect_err(CONN("<interface>vpn/0</interface>"),
		   "interface: a Linux interface name");
	expect_err(CONN("<interface>vpn:0</interface>"),
		   "interface: a Linux interface name");
	expect_err(CONN("<interface>vpn 0</interface>"),
		   "interface: a Linux interface name");
	expect_err(CONN("<interface>.</interface>"), "interface: '.' and '..'");
	expect_err(CONN("<interface>..</interface>"),
		   "interface: '.' and '..'");
	/* The list's unique statement (libyang's message; vpnd's CLI says
	 * "interface: already used by another connection" first). */
	expect_err("<connection><name>a</name><interface>vpn0</interface>"
		   "</connection><connection><name>b</name>"
		   "<interface>vpn0</interface></connection>",
		   "Unique data leaf(s) \"interface\" not satisfied");
	expect_ok("<connection><name>a</name><interface>vpn0</interface>"
		  "</connection><connection><name>b</name>"
		  "<interface>vpn1</interface></connection>"
		  "<connection><name>c</name></connection>"
		  "<connection><name>d</name></connection>");
}

static void test_policy_refs(void **state)
{
	expect_ok(CONN("<ike-policy>default</ike-policy>"));
	expect_ok(CONN("<ipsec-policy>azure-default</ipsec-policy>"));
	expect_err(CONN("<ike-policy>nope</ike-policy>"),
		   "ike-policy: no such policy");
	expect_err(CONN("<ipsec-policy>nope</ipsec-policy>"),
		   "ipsec-policy: no such policy");
	/* An ike-policy name does not satisfy an ipsec-policy reference. */
	expect_err("<ike-policy><name>p</name></ike-policy>" CONN(
			   "<ipsec-policy>p</ipsec-policy>"),
		   "ipsec-policy: no such policy");
	expect_err("<ike-policy><name>azure-default</name></ike-policy>",
		   "built-in names");
	expect_err("<ipsec-policy><name>default</name></ipsec-policy>",
		   "built-in names");
	expect_err("<ike-policy><name>bad name</name></ike-policy>",
		   "name: 1 to 63 characters");
	expect_err("<ike-policy><name>-x</name></ike-policy>",
		   "name: 1 to 63 characters");
}

static void test_proposal_shape(void **state)
{
	expect_ok("<ike-policy><name>p</name><proposal>aes-sha-x25519"
		  "</proposal></ike-policy>");
	expect_err("<ike-policy><name>p</name><proposal>AES256-SHA256"
		   "</proposal></ike-policy>",
		   "proposal: lower-case algorithm keywords");
	expect_err("<ike-policy><name>p</name><proposal>aes256--sha256"
		   "</proposal></ike-policy>",
		   "proposal: lower-case algorithm keywords");
	expect_err("<ipsec-policy><name>p</name><proposal>aes256'x"
		   "</proposal></ipsec-policy>",
		   "proposal: lower-case algorithm keywords");
}

static void test_ranges(void **state)
{
	expect_err("<ike-policy><name>p</name><lifetime>1</lifetime>"
		   "</ike-policy>",
		   "lifetime: 2 to 604800 seconds");
	expect_err("<ipsec-policy><name>p</name><lifetime><seconds>604801"
		   "</seconds></lifetime></ipsec-policy>",
		   "lifetime: 2 to 604800 seconds");
	expect_err(CONN("<dpd><interval>0</interval></dpd>"),
		   "dpd interval: 1 to 3600 seconds");
	expect_err(CONN("<dpd><interval>10</interval><timeout>10</timeout>"
			"</dpd>"),
		   "dpd timeout: must be greater than the dpd interval");
	expect_err(CONN("<dpd><timeout>5</timeout></dpd>"),
		   "dpd timeout: must be greater than the dpd interval");
	expect_err(CONN("<connection-mode>sometimes</connection-mode>"),
		   "connection-mode");
}

static void test_addresses(void **state)
{
	expect_ok(CONN("<local-address>2001:db8::1</local-address>"
		       "<remote-address>2001:db8::2</remote-address>"));
	expect_err(CONN("<local-address>192.0.2.1</local-address>"
			"<remote-address>2001:db8::2</remote-address>"),
		   "remote-address: must be of the same address family");
	expect_err(CONN("<remote-address>192.0.2.300</remote-address>"),
		   "remote-address");
	expect_err(CONN("<traffic-selector><local>10.0.0.0/8</local>"
			"<remote>fd00::/8</remote></traffic-selector>"),
		   "traffic-selector: local and remote prefixes must be of "
		   "the same address family");
	expect_err(CONN("<local-id>a b</local-id>"), "id: 1 to 255");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_psk),
		cmocka_unit_test(test_interface),
		cmocka_unit_test(test_policy_refs),
		cmocka_unit_test(test_proposal_shape),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_addresses),
	};

	ly_log_options(LY_LOSTORE); /* keep messages to read back, print none */
	return cmocka_run_group_tests_name("model", tests, setup, teardown);
}
