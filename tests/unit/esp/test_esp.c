// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: ESP packet engine (vpnd/esp/esp.c).
 *
 * Published ESP packets: RFC 7634 appendix A (ChaCha20-Poly1305),
 * draft-mcgrew-gcm-test-01 (AES-GCM, with and without ESN), RFC 3602
 * section 4 cases 5-8 (AES-CBC; the RFC has no integrity, so an
 * HMAC-SHA1-96 or HMAC-SHA-256-128 ICV is appended, computed with the
 * transform that test_crypto_hmac checks against RFC 2202/4868). Each is
 * decapsulated, and encapsulated again with the vector's IV and sequence
 * number to the same bytes.
 *
 * Then: round trips for every cipher/integrity combination with and
 * without ESN, packet structure (IV, AAD, ICV over the ESN high half),
 * tampering of every byte, bad padding, short packets, replays through
 * the SA, sequence number exhaustion and the ESN wrap, counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "esp/esp.h"
#include "esp/esp_test.h"
#include "../testutil.h"

#define ENCR_3DES 3
#define ENCR_AES_CBC 12
#define ENCR_AES_GCM_16 20
#define ENCR_CHACHA20_POLY1305 28

#define INTEG_SHA1_96 2
#define INTEG_SHA256_128 12
#define INTEG_SHA384_192 13
#define INTEG_SHA512_256 14

#define BUF 2048

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8
	       | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ------------------------------------------------------------------ */
/* SA kinds and pairs                                                  */
/* ------------------------------------------------------------------ */

struct kind {
	uint16_t encr, keybits, integ;
};

static const struct kind kinds[] = {
	{ENCR_3DES, 0, INTEG_SHA1_96},
	{ENCR_3DES, 0, INTEG_SHA256_128},
	{ENCR_3DES, 0, INTEG_SHA384_192},
	{ENCR_3DES, 0, INTEG_SHA512_256},
	{ENCR_AES_CBC, 128, INTEG_SHA1_96},
	{ENCR_AES_CBC, 128, INTEG_SHA256_128},
	{ENCR_AES_CBC, 128, INTEG_SHA384_192},
	{ENCR_AES_CBC, 128, INTEG_SHA512_256},
	{ENCR_AES_CBC, 192, INTEG_SHA1_96},
	{ENCR_AES_CBC, 192, INTEG_SHA256_128},
	{ENCR_AES_CBC, 192, INTEG_SHA384_192},
	{ENCR_AES_CBC, 192, INTEG_SHA512_256},
	{ENCR_AES_CBC, 256, INTEG_SHA1_96},
	{ENCR_AES_CBC, 256, INTEG_SHA256_128},
	{ENCR_AES_CBC, 256, INTEG_SHA384_192},
	{ENCR_AES_CBC, 256, INTEG_SHA512_256},
	{ENCR_AES_GCM_16, 128, 0},
	{ENCR_AES_GCM_16, 192, 0},
	{ENCR_AES_GCM_16, 256, 0},
	{ENCR_CHACHA20_POLY1305, 0, 0},
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* Both ends of one direction: same keys. */
struct pair {
	struct esp_sa *out, *in;
	struct kind k;
	bool esn;
	uint32_t spi;
	struct vpn_cipher_info ci;
	uint8_t ekey[64], ikey[64];
	size_t eklen, iklen;
};

static void pair_new(struct pair *pr, const struct kind *k, bool esn)
{
	struct esp_sa_params p;

	memset(pr, 0, sizeof(*pr));
	pr->k = *k;
	pr->esn = esn;
	pr->spi = 0xc0de0000u | (k->encr << 8) | k->integ;
	assert_int_equal(vpn_cipher_info(k->encr, k->keybits, &pr->ci), 0);
	pr->eklen = pr->ci.keylen;
	pr->iklen = k->integ ? vpn_integ_keylen(k->integ) : 0;
	vpn_random(pr->ekey, sizeof(pr->ekey));
	vpn_random(pr->ikey, sizeof(pr->ikey));
	p = (struct esp_sa_params){
		.spi = pr->spi,
		.encr = k->encr,
		.keybits = k->keybits,
		.integ = k->integ,
		.esn = esn,
		.encr_key = pr->ekey,
		.encr_keylen = pr->eklen,
		.integ_key = k->integ ? pr->ikey : NULL,
		.integ_keylen = pr->iklen,
	};
	pr->out = esp_sa_new(&p);
	pr->in = esp_sa_new(&p);
	assert_non_null(pr->out);
	assert_non_null(pr->in);
	assert_int_equal(esp_sa_spi(pr->in), pr->spi);
}

static void pair_free(struct pair *pr)
{
	esp_sa_free(pr->out);
	esp_sa_free(pr->in);
}

static size_t icvlen(const struct pair *pr)
{
	return pr->ci.aead ? pr->ci.icvlen : vpn_integ_icvlen(pr->k.integ);
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

/* Encapsulate len bytes of test data; returns the packet length. */
static size_t send_one(struct pair *pr, uint8_t *pkt, size_t len,
		       unsigned int seed)
{
	uint8_t inner[BUF];
	size_t outlen = 0;

	fill(inner, len, seed);
	assert_int_equal(
		esp_encap(pr->out, inner, len, ESP_NH_IPV4, pkt, BUF, &outlen),
		ESP_OK);
	return outlen;
}

/* ------------------------------------------------------------------ */
/* Published vectors                                                   */
/* ------------------------------------------------------------------ */

/*
 * Decapsulate a published packet (SPI | Seq | IV | ciphertext | ICV) and
 * compare with the plaintext (payload | padding | pad length | next
 * header); then encapsulate that payload with the vector's sequence
 * number and IV and compare with the packet.
 */
static void check_vector(const struct esp_sa_params *p, uint64_t seq,
			 const struct hexbuf *pkt, const struct hexbuf *plain)
{
	struct esp_sa *in = esp_sa_new(p), *out = esp_sa_new(p);
	struct esp_inner inner;
	uint8_t buf[BUF], again[BUF];
	size_t padlen, paylen, outlen = 0, head;
	uint8_t nh;

	assert_non_null(in);
	assert_non_null(out);
	head = esp_sa_head_len(in);
	padlen = plain->b[plain->n - 2];
	nh = plain->b[plain->n - 1];
	paylen = plain->n - 2 - padlen;

	/* The window must be positioned for ESN: top = seq - 1. */
	esp_test_set_replay_top(in, seq - 1);
	memcpy(buf, pkt->b, pkt->n);
	assert_int_equal(esp_decap(in, buf, pkt->n, &inner), ESP_OK);
	assert_int_equal(inner.seq, seq);
	assert_int_equal(inner.next_header, nh);
	assert_int_equal(inner.len, paylen);
	assert_ptr_equal(inner.data, buf + head);
	if (paylen)
		assert_memory_equal(inner.data, plain->b, paylen);
	/* The same packet again: a replay. */
	memcpy(buf, pkt->b, pkt->n);
	assert_int_equal(esp_decap(in, buf, pkt->n, &inner), ESP_REPLAY);

	/* Our encapsulation of the payload gives the same packet. */
	assert_int_equal(esp_test_encap(out, seq, pkt->b + 8, plain->b, paylen,
					nh, again, sizeof(again), &outlen),
			 ESP_OK);
	assert_int_equal(outlen, pkt->n);
	assert_memory_equal(again, pkt->b, pkt->n);

	esp_sa_free(in);
	esp_sa_free(out);
}

/* RFC 7634 appendix A: ESP with ChaCha20-Poly1305, SPI 0x01020304,
 * sequence number 5, IV 0x1011121314151617. */
static void test_rfc7634(void **state)
{
	struct hexbuf key = hb("808182838485868788898a8b8c8d8e8f909192939495969"
			       "798999a9b9c9d9e9f"
			       "a0a1a2a3");
	struct hexbuf plain = hb(
		"450000 "
		"54a6f200004001e778c6336405c000020508005b7a3a080000553bec10"
		"00073627 "
		"08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222"
		"3 2425262728292a2b2c2d2e2f303132333435363701020204");
	struct hexbuf pkt = hbcat("01020304 00000005 1011121314151617",
				  "24039428b97f417e3c13753a4f05087b67c352e6a7fa"
				  "b1b982d466ef407ae5c6"
				  "14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f"
				  "64c9befe2facc638e8f3"
				  "cbec163fac469b502773f6fb94e664da9165b82829f6"
				  "41e076aaa8266b7fb0f7"
				  "b11b369907e1ad43",
				  NULL);
	struct esp_sa_params p = {
		.spi = 0x01020304,
		.encr = ENCR_CHACHA20_POLY1305,
		.encr_key = key.b,
		.encr_keylen = key.n,
	};

	assert_int_equal(plain.n, 88);
	assert_int_equal(pkt.n, 8 + 8 + 88 + 16);
	check_vector(&p, 5, &pkt, &plain);
}

struct gcm_esp_case {
	uint16_t keybits;
	const char *key;    /* AES key | salt */
	const char *iv;	    /* explicit IV */
	const char *aad;    /* SPI | Seq (8) or SPI | Seq-high | Seq-low (12) */
	const char *plain;  /* payload | padding | pad length | next header */
	const char *cipher; /* ciphertext | tag */
};

/* draft-mcgrew-gcm-test-01, all test cases but 4 (SPI 0). */
static const struct gcm_esp_case gcm_cases[] = {
	/* test case 1 */
	{128, "4c80cdefbb5d10da906ac73c3613a6342e443b68", "4956ed7e3b244cfe",
	 "000043218765432100000000",
	 "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
	 "00000000045f736970045f756470037369700963796265726369747902646b00"
	 "0021000101020201",
	 "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
	 "cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
	 "61bc17d768fd9732459018148f6cbe722fd04796562dfdb4"},
	/* test case 2 */
	{128, "feffe9928665731c6d6a8f9467308308cafebabe", "facedbaddecaf888",
	 "0000a5f80000000a",
	 "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100"
	 "0001000000000000037369700963796265726369747902646b00000100010001",
	 "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c"
	 "3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1"
	 "83b70d3aa8bc6ee4c309e9d85a41ad4a"},
	/* test case 3 */
	{256,
	 "abbccddef00112233445566778899aababbccddef00112233445566778899aab"
	 "11223344",
	 "0102030405060708", "4a2cbfe300000002",
	 "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
	 "7002400020bf0000020405b40101040201020201",
	 "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
	 "748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49"
	 "15956c96"},
	/* test case 5 */
	{128, "3de09874b388e6491988d0c3607eae1f57690e43", "4e280000a2fca1a3",
	 "42f67e3f1010101010101010",
	 "4500003c99c300008001cb7c40679318010101010800085c0200430061626364"
	 "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
	 "fba2caa4853cf9f0f22cb10d86dd83b0fec75691cf1a04b00d1138ec9c357917"
	 "65acbd8701ad79845bf9fe3fba487bc91755e6662b4c8d0d1f5e22739530320a"
	 "e0d731cc978ecafaeae88f00e80d6e48"},
	/* test case 6 */
	{128, "3de09874b388e6491988d0c3607eae1f57690e43", "4e280000a2fca1a3",
	 "42f67e3f1010101010101010",
	 "4500001c42a200008001441f406793b6e00000020a00f5ff01020201",
	 "fba2ca845e5df9f0f22c3e6e86dd831e1fc65792cd1af9130e1379ed369f071f"
	 "35e034be95f112e4e7d05d35"},
	/* test case 7 */
	{192, "feffe9928665731c6d6a8f9467308308feffe9928665731ccafebabe",
	 "facedbaddecaf888", "0000a5f80000000a",
	 "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e"
	 "501016d075680001",
	 "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0"
	 "315b27452144cc7795457b9652037f5318027b5b4cd7a636"},
	/* test case 8 */
	{128, "abbccddef00112233445566778899aabdecaf888", "cafedebaceface74",
	 "000001000000000000000001",
	 "4500004933ba00007f119106c3fb1d10c2b1d326c02831ce0035dd7b800302d5"
	 "00004e20001e8c18d75b81dc91baa0476b91b924b280389d92c963bac046ec95"
	 "9b6266c04722b14923010101",
	 "18a6fd42f72cbf4ab2a2ea901f73d814e3e7f243d95412e1c349c1d2fbec168f"
	 "9190feebaf2cb01984e65863965d7472b79da345e0e780191f0d2f0e0f496c22"
	 "6f2127b27db35724e7845d68651f57e65f354f75ff17015769623436"},
	/* test case 9 */
	{256,
	 "abbccddef00112233445566778899aababbccddef00112233445566778899aab"
	 "73616c74",
	 "616e640169766563", "17405e67156f3126dd0db99b",
	 "45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb712602"
	 "50101f646d540001",
	 "f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57f"
	 "f4d3a31ce673119e451626c2415771e3b7eebca614c89b35"},
	/* test case 10 */
	{128, "3de09874b388e6491988d0c3607eae1f57690e43", "4e280000a2fca1a3",
	 "42f67e3f1010101010101010",
	 "45000049333e00007f119182c3fb1d10c2b1d326c02831ce0035cb458003025b"
	 "000001e0001e8c18d65759d52284a0352c71475c8880391c764d6e5ee0496b32"
	 "5ae270c03899493915010101",
	 "fba2cad12fc1f9f00d3cebf305410db83d7784b607323d220f24b0a97d541828"
	 "00cadb0f68d99ef0e0c0c89ae9bea8884e52d65bc1afd0740f742444747b5b39"
	 "ab533163aad4550ee5160975cdb608c5769189609763b8e18caa81e2"},
	/* test case 11 */
	{256,
	 "abbccddef00112233445566778899aababbccddef00112233445566778899aab"
	 "73616c74",
	 "616e640169766563", "17405e67156f3126dd0db99b",
	 "636973636f0172756c657301746865016e6574776501646566696e6501746865"
	 "746563686e6f6c6f67696573017468617477696c6c01646566696e65746f6d6f"
	 "72726f7701020201",
	 "d4b7ed86a1777f2ea13d6973d324c69e7b43f826fb56831226508bebd2dceb18"
	 "d0a6df10e5487df074113e14c641024e3e6773d91a62ee429b043a10e3efe6b0"
	 "12a49363412364f8c0cac587f249e56b11e24f30e44ccc76"},
	/* test case 12 */
	{128, "7d773d00c144c525ac619d18c84a3f47d9664267", "43457e9182443bc6",
	 "335467aeffffffff", "01020201",
	 "437f866bcb3f699fe9b0822bac961c4504bef270"},
	/* test case 13 */
	{128, "abbccddef00112233445566778899aabdecaf888", "cafedebaceface74",
	 "000001000000000000000001", "746f016265016f72016e6f7401746f0162650001",
	 "29c9fc69a197d038ccdd14e2ddfcaa0543332164412503524303ed3c6c5f2838"
	 "43af8c3e"},
	/* test case 14 */
	{256,
	 "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961"
	 "7475726e",
	 "333021696765746d", "796b6963ffffffffffffffff",
	 "45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364"
	 "65666768696a6b6c6d6e6f707172737401020201",
	 "f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a86"
	 "4cd3d78ca4ae68a32b42458fb57dbe821dcc63b9d0937ba2945f669368661a32"
	 "9fb4c053"},
};

/* A GCM vector as an ESP packet. */
static void check_gcm_case(const struct gcm_esp_case *c)
{
	struct hexbuf key = hb(c->key), iv = hb(c->iv), aad = hb(c->aad);
	struct hexbuf plain = hb(c->plain), ct = hb(c->cipher), pkt;
	bool esn = aad.n == 12;
	uint64_t seq;
	struct esp_sa_params p = {
		.spi = be32(aad.b),
		.encr = ENCR_AES_GCM_16,
		.keybits = c->keybits,
		.esn = esn,
		.encr_key = key.b,
		.encr_keylen = key.n,
	};

	assert_true(aad.n == 8 || aad.n == 12);
	seq = esn ? (uint64_t)be32(aad.b + 4) << 32 | be32(aad.b + 8)
		  : be32(aad.b + 4);
	/* On the wire: SPI | Seq (low half) | IV | ciphertext | tag. */
	memcpy(pkt.b, aad.b, 4);
	memcpy(pkt.b + 4, aad.b + aad.n - 4, 4);
	memcpy(pkt.b + 8, iv.b, iv.n);
	memcpy(pkt.b + 8 + iv.n, ct.b, ct.n);
	pkt.n = 8 + iv.n + ct.n;
	check_vector(&p, seq, &pkt, &plain);
}

static void test_gcm_draft(void **state)
{
	for (size_t i = 0; i < sizeof(gcm_cases) / sizeof(gcm_cases[0]); i++)
		check_gcm_case(&gcm_cases[i]);
}

/* RFC 3602 section 4, cases 5-8 (SPI | Seq | IV | ciphertext, no ICV). */
struct cbc_esp_case {
	const char *key;
	uint32_t seq;
	const char *msg;
	const char *payload;
	uint8_t next_header, padlen;
};

static const struct cbc_esp_case rfc3602_cases[] = {
	/* Case #5: 64 bytes of ICMP in transport mode */
	{"90d382b410eeba7ad938c46cec1a82bf", 1,
	 "0000432100000001e96e8c08ab465763fd098d45dd3ff893f663c25d325c18c6"
	 "a9453e194e120849a4870b66cc6b9965330013b4898dc856a4699e523a55db08"
	 "0b59ec3a8e4b7e52775b07d1db34ed9c538ab50c551b874aa269add047ad2d59"
	 "13ac19b7cfbad4a6",
	 "08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f1011121314151617"
	 "18191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637",
	 1, 14},
	/* Case #6: 28 bytes of ICMP */
	{"90d382b410eeba7ad938c46cec1a82bf", 8,
	 "000043210000000869d08df7d203329db093fc4924e5bd80f51995881ec4e0c4"
	 "488987ce742e8109689bb379d2d750c0d915dca346a89f75",
	 "0800b5e8a80a0500a69c083d0b660e00777777777777777777777777", 1, 2},
	/* Case #7: tunnel mode, an 84-byte IP packet */
	{"0123456789abcdef0123456789abcdef", 2,
	 "0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c44922"
	 "5e4f3ce5ed611b0c237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad"
	 "7a0f022b859243c647752e94a859352b8a4d4d2decd136e5c177f132ad3fbfb2"
	 "201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d",
	 "45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d"
	 "02a2040008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"
	 "2425262728292a2b2c2d2e2f3031323334353637",
	 4, 10},
	/* Case #8: tunnel mode, a 68-byte IP packet */
	{"0123456789abcdef0123456789abcdef", 5,
	 "000087650000000585d47224b5f3dd5d2101d4ea8dffab2215b92683819596a8"
	 "047232cc00f7048fe45318e11f8a0f62ede3c3fc61203bb50f980a08c9843fd3"
	 "a1b06d5c07ff9639b7eb7dfb3512e5de435e7207ed971ef3d2726d9b5ef6affc"
	 "6d17a0decbb13892",
	 "45000044090c00004001f990c0a87b03c0a87bc80800d63caa0a0200c69c083d"
	 "a3de0300ffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	 "ffffffff",
	 4, 10},
};

static void test_rfc3602(void **state)
{
	static const uint16_t integs[] = {INTEG_SHA1_96, INTEG_SHA256_128};

	for (size_t i = 0; i < 4; i++) {
		const struct cbc_esp_case *c = &rfc3602_cases[i];

		for (size_t j = 0; j < 2; j++) {
			struct hexbuf key = hb(c->key), msg = hb(c->msg);
			struct hexbuf pay = hb(c->payload), plain = pay;
			uint8_t ikey[64];
			size_t iklen = vpn_integ_keylen(integs[j]);
			struct vpn_integ *integ;
			struct iovec iov;
			struct esp_sa_params p = {
				.spi = be32(msg.b),
				.encr = ENCR_AES_CBC,
				.keybits = 128,
				.integ = integs[j],
				.encr_key = key.b,
				.encr_keylen = key.n,
				.integ_key = ikey,
				.integ_keylen = iklen,
			};

			assert_int_equal(be32(msg.b + 4), c->seq);
			/* payload | 1 2 .. padlen | padlen | next header */
			for (size_t b = 0; b < c->padlen; b++)
				plain.b[plain.n++] = (uint8_t)(b + 1);
			plain.b[plain.n++] = c->padlen;
			plain.b[plain.n++] = c->next_header;
			assert_int_equal(msg.n, 8 + 16 + plain.n);

			/* Append the ICV over the whole message. */
			for (size_t b = 0; b < iklen; b++)
				ikey[b] = (uint8_t)(0x11 * (b + 1));
			integ = vpn_integ_new(integs[j], ikey, iklen);
			assert_non_null(integ);
			iov = (struct iovec){msg.b, msg.n};
			assert_int_equal(
				vpn_integ_sign(integ, &iov, 1, msg.b + msg.n),
				0);
			msg.n += vpn_integ_icvlen(integs[j]);
			vpn_integ_free(integ);

			check_vector(&p, c->seq, &msg, &plain);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */
/* ------------------------------------------------------------------ */

static void round_trip(const struct kind *k, bool esn)
{
	static const size_t lens[] = {
		0,  1,	2,  3,	4,  5,	 13,  14,   15,	  16,	17,   20,  31,
		32, 33, 40, 63, 64, 100, 576, 1280, 1399, 1400, 1438, 1500};
	struct pair pr;
	uint8_t pkt[BUF], prev_iv[16] = {0};
	struct esp_stats st;
	uint64_t bytes = 0;

	pair_new(&pr, k, esn);
	for (size_t n = 0; n < sizeof(lens) / sizeof(lens[0]); n++) {
		size_t len = lens[n], plen, ctlen, pad;
		uint8_t want[BUF];
		struct esp_inner inner;
		uint8_t nh = n % 2 ? ESP_NH_IPV6 : ESP_NH_IPV4;
		size_t outlen = 0;

		fill(want, len, (unsigned int)n);
		assert_int_equal(
			esp_encap(pr.out, want, len, nh, pkt, BUF, &outlen),
			ESP_OK);
		plen = outlen;
		assert_int_equal(plen, esp_sa_encap_len(pr.out, len));
		assert_true(plen - len <= esp_sa_overhead_max(pr.out));
		assert_int_equal(be32(pkt), pr.spi);
		assert_int_equal(be32(pkt + 4), (uint32_t)(n + 1));
		/* Minimum padding to the block (4 for AEAD). */
		ctlen = plen - 8 - pr.ci.ivlen - icvlen(&pr);
		pad = ctlen - len - 2;
		assert_int_equal(
			ctlen % (pr.ci.blocksize > 4 ? pr.ci.blocksize : 4), 0);
		assert_true(pad < (pr.ci.blocksize > 4 ? pr.ci.blocksize : 4));
		if (pr.ci.aead) {
			/* IV = 64-bit sequence number. */
			uint8_t iv[8] = {0, 0, 0, 0, 0, 0, 0, 0};

			put32(iv + 4, (uint32_t)(n + 1));
			assert_memory_equal(pkt + 8, iv, 8);
		} else {
			/* CBC: a fresh IV each packet. */
			assert_memory_not_equal(pkt + 8, prev_iv, pr.ci.ivlen);
			memcpy(prev_iv, pkt + 8, pr.ci.ivlen);
		}

		assert_int_equal(esp_decap(pr.in, pkt, plen, &inner), ESP_OK);
		assert_int_equal(inner.len, len);
		assert_int_equal(inner.next_header, nh);
		assert_int_equal(inner.seq, n + 1);
		assert_ptr_equal(inner.data, pkt + esp_sa_head_len(pr.in));
		if (len)
			assert_memory_equal(inner.data, want, len);
		bytes += len;
	}
	esp_sa_get_stats(pr.out, &st);
	assert_int_equal(st.out_packets, sizeof(lens) / sizeof(lens[0]));
	assert_int_equal(st.out_bytes, bytes);
	assert_int_equal(esp_sa_seq_out(pr.out),
			 sizeof(lens) / sizeof(lens[0]));
	esp_sa_get_stats(pr.in, &st);
	assert_int_equal(st.in_packets, sizeof(lens) / sizeof(lens[0]));
	assert_int_equal(st.in_bytes, bytes);
	assert_int_equal(esp_sa_bytes(pr.in), bytes);
	for (int s = 0; s < ESP_STATUS_MAX; s++)
		assert_int_equal(st.drops[s], 0);
	pair_free(&pr);
}

static void test_round_trips(void **state)
{
	for (size_t i = 0; i < NKINDS; i++) {
		round_trip(&kinds[i], false);
		round_trip(&kinds[i], true);
	}
}

/* The inner packet may already sit in the output buffer. */
static void test_in_place(void **state)
{
	for (size_t i = 0; i < NKINDS; i++) {
		struct pair pr;
		uint8_t pkt[BUF], want[200];
		struct esp_inner inner;
		size_t outlen = 0, head;

		pair_new(&pr, &kinds[i], false);
		head = esp_sa_head_len(pr.out);
		fill(want, sizeof(want), 9);
		/* Where the payload goes: no copy at all. */
		memcpy(pkt + head, want, sizeof(want));
		assert_int_equal(esp_encap(pr.out, pkt + head, sizeof(want),
					   ESP_NH_IPV4, pkt, BUF, &outlen),
				 ESP_OK);
		assert_int_equal(esp_decap(pr.in, pkt, outlen, &inner), ESP_OK);
		assert_memory_equal(inner.data, want, sizeof(want));
		/* At the start of the buffer, overlapping the header. */
		memcpy(pkt, want, sizeof(want));
		assert_int_equal(esp_encap(pr.out, pkt, sizeof(want),
					   ESP_NH_IPV4, pkt, BUF, &outlen),
				 ESP_OK);
		assert_int_equal(esp_decap(pr.in, pkt, outlen, &inner), ESP_OK);
		assert_memory_equal(inner.data, want, sizeof(want));
		pair_free(&pr);
	}
}

/* ------------------------------------------------------------------ */
/* Packet structure, checked with the crypto transforms directly       */
/* ------------------------------------------------------------------ */

/* AEAD: AAD is SPI | Seq, or SPI | Seq-high | Seq-low with ESN; the ICV
 * of CBC covers SPI .. ciphertext followed by Seq-high with ESN. */
static void test_structure(void **state)
{
	for (size_t i = 0; i < NKINDS; i++) {
		for (int esn = 0; esn < 2; esn++) {
			struct pair pr;
			uint8_t pkt[BUF], plain[BUF], aad[12], icv[64];
			size_t outlen, head, ctlen, icvl;
			const uint64_t seq = 0x0000000700000009ULL;
			struct vpn_cipher *c;

			pair_new(&pr, &kinds[i], esn);
			esp_test_set_seq_out(pr.out, esn ? seq - 1 : 8);
			outlen = send_one(&pr, pkt, 77, 3);
			head = 8 + pr.ci.ivlen;
			icvl = icvlen(&pr);
			ctlen = outlen - head - icvl;
			c = vpn_cipher_new(pr.k.encr, pr.k.keybits, pr.ekey,
					   pr.eklen);
			assert_non_null(c);
			if (pr.ci.aead) {
				size_t aadlen = 8;

				memcpy(aad, pkt, 4);
				if (esn) {
					put32(aad + 4, 7);
					aadlen = 12;
				}
				memcpy(aad + aadlen - 4, pkt + 4, 4);
				assert_int_equal(
					vpn_cipher_decrypt(c, pkt + 8, aad,
							   aadlen, pkt + head,
							   ctlen, plain,
							   pkt + head + ctlen),
					0);
			} else {
				struct vpn_integ *in = vpn_integ_new(
					pr.k.integ, pr.ikey, pr.iklen);
				uint8_t hi[4];
				struct iovec iov[2] = {
					{pkt, head + ctlen},
					{hi, 4},
				};

				put32(hi, 7);
				assert_non_null(in);
				assert_int_equal(vpn_integ_sign(in, iov,
								esn ? 2 : 1,
								icv),
						 0);
				assert_memory_equal(icv, pkt + head + ctlen,
						    icvl);
				vpn_integ_free(in);
				assert_int_equal(
					vpn_cipher_decrypt(c, pkt + 8, NULL, 0,
							   pkt + head, ctlen,
							   plain, NULL),
					0);
			}
			/* payload | 1 2 .. | pad length | next header */
			assert_int_equal(plain[ctlen - 1], ESP_NH_IPV4);
			assert_int_equal(plain[ctlen - 2], ctlen - 77 - 2);
			for (size_t b = 0; b < plain[ctlen - 2]; b++)
				assert_int_equal(plain[77 + b], b + 1);
			vpn_cipher_free(c);
			pair_free(&pr);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Bad packets                                                         */
/* ------------------------------------------------------------------ */

/* Any changed byte: dropped and counted, and the window does not move
 * (the untouched packet is accepted afterwards). */
static void test_tamper(void **state)
{
	for (size_t i = 0; i < NKINDS; i++) {
		for (int esn = 0; esn < 2; esn++) {
			struct pair pr;
			uint8_t pkt[BUF], bad[BUF];
			struct esp_inner inner;
			struct esp_stats st;
			uint64_t integrity = 0, replay = 0, malformed = 0;
			size_t len;

			pair_new(&pr, &kinds[i], esn);
			len = send_one(&pr, pkt, 50, 1);
			for (size_t b = 0; b < len; b++) {
				for (int bit = 0; bit < 8; bit += 3) {
					enum esp_status s;

					memcpy(bad, pkt, len);
					bad[b] ^= (uint8_t)(1 << bit);
					s = esp_decap(pr.in, bad, len, &inner);
					if (b < 4) {
						assert_int_equal(
							s, ESP_UNKNOWN_SPI);
					} else if (b < 8 && s == ESP_REPLAY) {
						replay++;
					} else {
						assert_int_equal(s,
								 ESP_INTEGRITY);
						integrity++;
					}
				}
			}
			/* Truncated and extended. */
			for (size_t cut = 1; cut < 20 && cut < len; cut++) {
				enum esp_status s;

				memcpy(bad, pkt, len);
				s = esp_decap(pr.in, bad, len - cut, &inner);
				if (s == ESP_MALFORMED) {
					malformed++;
				} else {
					assert_int_equal(s, ESP_INTEGRITY);
					integrity++;
				}
			}
			memcpy(bad, pkt, len);
			bad[len] = 0;
			assert_int_equal(esp_decap(pr.in, bad, len + 1, &inner),
					 pr.ci.aead ? ESP_INTEGRITY
						    : ESP_MALFORMED);
			pr.ci.aead ? integrity++ : malformed++;

			esp_sa_get_stats(pr.in, &st);
			assert_int_equal(st.drops[ESP_INTEGRITY], integrity);
			assert_int_equal(st.drops[ESP_REPLAY], replay);
			assert_int_equal(st.drops[ESP_MALFORMED], malformed);
			assert_int_equal(st.drops[ESP_UNKNOWN_SPI], 0);
			assert_int_equal(st.in_packets, 0);
			assert_true(integrity > 0);

			assert_int_equal(esp_decap(pr.in, pkt, len, &inner),
					 ESP_OK);
			assert_int_equal(inner.seq, 1);
			pair_free(&pr);
		}
	}
}

/*
 * An authentic packet with a plaintext of our choosing (bad padding
 * included): sealed here with the crypto transforms, as a peer would.
 */
static size_t raw_seal(const struct pair *pr, uint64_t seq,
		       const uint8_t *plain, size_t plen, uint8_t *pkt)
{
	struct vpn_cipher *c = vpn_cipher_new(pr->k.encr, pr->k.keybits,
					      pr->ekey, pr->eklen);
	size_t head = 8 + pr->ci.ivlen, icvl = icvlen(pr);
	uint8_t hi[4];

	assert_non_null(c);
	put32(pkt, pr->spi);
	put32(pkt + 4, (uint32_t)seq);
	put32(hi, (uint32_t)(seq >> 32));
	vpn_random(pkt + 8, pr->ci.ivlen);
	if (pr->ci.aead) {
		uint8_t aad[12];
		size_t aadlen = pr->esn ? 12 : 8;

		memcpy(aad, pkt, 4);
		memcpy(aad + 4, hi, 4);
		memcpy(aad + aadlen - 4, pkt + 4, 4);
		assert_int_equal(vpn_cipher_encrypt(c, pkt + 8, aad, aadlen,
						    plain, plen, pkt + head,
						    pkt + head + plen),
				 0);
	} else {
		struct vpn_integ *in
			= vpn_integ_new(pr->k.integ, pr->ikey, pr->iklen);
		struct iovec iov[2] = {{pkt, head + plen}, {hi, 4}};

		assert_non_null(in);
		assert_int_equal(vpn_cipher_encrypt(c, pkt + 8, NULL, 0, plain,
						    plen, pkt + head, NULL),
				 0);
		assert_int_equal(vpn_integ_sign(in, iov, pr->esn ? 2 : 1,
						pkt + head + plen),
				 0);
		vpn_integ_free(in);
	}
	vpn_cipher_free(c);
	return head + plen + icvl;
}

static void test_padding(void **state)
{
	for (size_t i = 0; i < NKINDS; i++) {
		struct pair pr;
		uint8_t plain[256], pkt[BUF];
		struct esp_inner inner;
		struct esp_stats st;
		size_t blk, n, len;
		uint64_t seq = 1;

		pair_new(&pr, &kinds[i], i % 2);
		blk = pr.ci.blocksize > 4 ? pr.ci.blocksize : 4;
		n = 4 * blk; /* 4 blocks of plaintext */

		/* Independently built good packet: accepted. */
		fill(plain, n, 5);
		plain[n - 3] = 1;
		plain[n - 2] = 1;
		plain[n - 1] = ESP_NH_IPV6;
		len = raw_seal(&pr, seq++, plain, n, pkt);
		assert_int_equal(esp_decap(pr.in, pkt, len, &inner), ESP_OK);
		assert_int_equal(inner.len, n - 3);
		assert_int_equal(inner.next_header, ESP_NH_IPV6);

		/* Padding bytes not 1, 2, 3, ...: malformed. */
		plain[n - 5] = 1;
		plain[n - 4] = 3;
		plain[n - 3] = 3;
		plain[n - 2] = 3;
		len = raw_seal(&pr, seq++, plain, n, pkt);
		assert_int_equal(esp_decap(pr.in, pkt, len, &inner),
				 ESP_MALFORMED);
		/* The packet was authentic: its number is spent. */
		assert_int_equal(esp_decap(pr.in, pkt, len, &inner),
				 ESP_REPLAY);

		/* Pad length reaching past the start: malformed. */
		for (size_t pl = n - 1; pl < 256; pl += 37) {
			plain[n - 2] = (uint8_t)pl;
			len = raw_seal(&pr, seq++, plain, n, pkt);
			assert_int_equal(esp_decap(pr.in, pkt, len, &inner),
					 ESP_MALFORMED);
		}

		/* All padding, no payload; longer than needed (allowed:
		 * RFC 4303 2.4, up to 255 bytes). */
		for (size_t b = 0; b < n - 2; b++)
			plain[b] = (uint8_t)(b + 1);
		plain[n - 2] = (uint8_t)(n - 2);
		len = raw_seal(&pr, seq++, plain, n, pkt);
		assert_int_equal(esp_decap(pr.in, pkt, len, &inner), ESP_OK);
		assert_int_equal(inner.len, 0);

		/* A wrong pad byte at the very start of the padding. */
		plain[0] = 2;
		len = raw_seal(&pr, seq++, plain, n, pkt);
		assert_int_equal(esp_decap(pr.in, pkt, len, &inner),
				 ESP_MALFORMED);

		esp_sa_get_stats(pr.in, &st);
		assert_int_equal(st.in_packets, 2);
		assert_int_equal(st.drops[ESP_REPLAY], 1);
		assert_int_equal(st.drops[ESP_INTEGRITY], 0);
		assert_true(st.drops[ESP_MALFORMED] >= 3);
		pair_free(&pr);
	}
}

/* Too short for header, IV, one block or trailer, and ICV; CBC
 * ciphertext not whole blocks. Never read past len. */
static void test_short(void **state)
{
	for (size_t i = 0; i < NKINDS; i++) {
		struct pair pr;
		size_t min, blk;
		struct esp_inner inner;
		struct esp_stats st;

		pair_new(&pr, &kinds[i], false);
		blk = pr.ci.aead ? 2 : pr.ci.blocksize;
		min = 8 + pr.ci.ivlen + blk + icvlen(&pr);
		for (size_t len = 0; len < min; len++) {
			/* Exactly len bytes, on the heap: ASan sees any
			 * read past the end. */
			uint8_t *p = malloc(len ? len : 1);

			assert_non_null(p);
			memset(p, 0, len);
			if (len >= 4)
				put32(p, pr.spi);
			assert_int_equal(esp_decap(pr.in, p, len, &inner),
					 ESP_MALFORMED);
			free(p);
		}
		if (!pr.ci.aead) {
			uint8_t p[BUF] = {0};

			put32(p, pr.spi);
			for (size_t extra = 1; extra < blk; extra++)
				assert_int_equal(esp_decap(pr.in, p,
							   min + extra, &inner),
						 ESP_MALFORMED);
		}
		esp_sa_get_stats(pr.in, &st);
		assert_true(st.drops[ESP_MALFORMED] >= min);
		pair_free(&pr);
	}
}

/* ------------------------------------------------------------------ */
/* Replay through the SA                                               */
/* ------------------------------------------------------------------ */

static void test_replay_sa(void **state)
{
	const size_t n = ESP_REPLAY_WINDOW + 40;
	static uint8_t pkts[ESP_REPLAY_WINDOW + 40][160];
	static size_t lens[ESP_REPLAY_WINDOW + 40];
	struct pair pr;
	uint8_t buf[BUF];
	struct esp_inner inner;
	struct esp_stats st;

	pair_new(&pr, &kinds[16], false); /* AES-GCM-128 */
	for (size_t i = 0; i < n; i++) {
		lens[i] = send_one(&pr, buf, 60, (unsigned int)i);
		assert_true(lens[i] <= sizeof(pkts[i]));
		memcpy(pkts[i], buf, lens[i]);
	}
#define DELIVER(i)                                                             \
	(memcpy(buf, pkts[i], lens[i]), esp_decap(pr.in, buf, lens[i], &inner))
	/* Out of order within the window: all accepted, once. */
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(DELIVER(9 - i), ESP_OK);
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(DELIVER(i), ESP_REPLAY);
	/* The newest first; the oldest ones fall out of the window. */
	assert_int_equal(DELIVER(n - 1), ESP_OK); /* seq n */
	/* Window: [n - W + 1, n]; packet i has seq i + 1. */
	assert_int_equal(DELIVER(n - ESP_REPLAY_WINDOW - 1), ESP_REPLAY);
	assert_int_equal(DELIVER(n - ESP_REPLAY_WINDOW), ESP_OK);
	assert_int_equal(DELIVER(n - ESP_REPLAY_WINDOW), ESP_REPLAY);

	/* A forged packet far ahead fails the ICV and moves nothing. */
	memcpy(buf, pkts[n - 2], lens[n - 2]);
	put32(buf + 4, (uint32_t)(n + 1000000));
	assert_int_equal(esp_decap(pr.in, buf, lens[n - 2], &inner),
			 ESP_INTEGRITY);
	assert_int_equal(DELIVER(n - ESP_REPLAY_WINDOW + 1), ESP_OK);
	assert_int_equal(DELIVER(n - 2), ESP_OK);
#undef DELIVER
	esp_sa_get_stats(pr.in, &st);
	assert_int_equal(st.in_packets, 14);
	assert_int_equal(st.drops[ESP_REPLAY], 12);
	assert_int_equal(st.drops[ESP_INTEGRITY], 1);
	pair_free(&pr);
}

/* ------------------------------------------------------------------ */
/* Sequence numbers: exhaustion, ESN wrap                              */
/* ------------------------------------------------------------------ */

static void test_seq_exhausted(void **state)
{
	for (int esn = 0; esn < 2; esn++) {
		struct pair pr;
		uint8_t pkt[BUF], inner_buf[10] = {0};
		struct esp_inner inner;
		struct esp_stats st;
		uint64_t last = esn ? UINT64_MAX : UINT32_MAX;
		size_t len = 0;

		pair_new(&pr, &kinds[5], esn); /* AES-CBC-128 + SHA-256 */
		esp_test_set_seq_out(pr.out, last - 1);
		assert_int_equal(esp_sa_seq_left(pr.out), 1);
		assert_int_equal(esp_encap(pr.out, inner_buf, 10, ESP_NH_IPV4,
					   pkt, BUF, &len),
				 ESP_OK);
		assert_int_equal(esp_sa_seq_out(pr.out), last);
		assert_int_equal(esp_sa_seq_left(pr.out), 0);
		/* Never cycles. */
		for (int i = 0; i < 3; i++)
			assert_int_equal(esp_encap(pr.out, inner_buf, 10,
						   ESP_NH_IPV4, pkt + 512,
						   BUF - 512, &len),
					 ESP_SEQ_EXHAUSTED);
		assert_int_equal(esp_sa_seq_out(pr.out), last);
		esp_sa_get_stats(pr.out, &st);
		assert_int_equal(st.drops[ESP_SEQ_EXHAUSTED], 3);
		assert_int_equal(st.out_packets, 1);

		/* The last packet is good. */
		esp_test_set_replay_top(pr.in, last - 5);
		assert_int_equal(esp_decap(pr.in, pkt,
					   esp_sa_encap_len(pr.out, 10),
					   &inner),
				 ESP_OK);
		assert_int_equal(inner.seq, last);
		pair_free(&pr);
	}
}

/* With ESN, 0xffffffff is followed by 0x1_00000000 (low half 0 on the
 * wire), the high half being authenticated. */
static void test_esn_wrap(void **state)
{
	for (size_t k = 0; k < NKINDS; k += 3) {
		struct pair pr;
		static uint8_t pkts[40][256];
		uint8_t copy[256];
		size_t lens[40];
		struct esp_inner inner;
		struct esp_sa *late;
		struct esp_sa_params p;
		const uint64_t start = 0xffffffebULL;

		pair_new(&pr, &kinds[k], true);
		esp_test_set_seq_out(pr.out, start);
		esp_test_set_replay_top(pr.in, start);
		for (size_t i = 0; i < 40; i++) {
			lens[i] = send_one(&pr, pkts[i], 100, (unsigned int)i);
			assert_true(lens[i] <= sizeof(pkts[i]));
		}
		/* Sequence numbers start + 1 .. start + 40: the wrap is at
		 * index 19 (0xffffffff) -> 20 (0x1_00000000). */
		assert_int_equal(be32(pkts[19] + 4), 0xffffffffu);
		assert_int_equal(be32(pkts[20] + 4), 0);

		/* The post-wrap packet authenticates only with high half 1:
		 * a receiver a whole subspace ahead infers 2 and fails. */
		memset(&p, 0, sizeof(p));
		p = (struct esp_sa_params){
			.spi = pr.spi,
			.encr = pr.k.encr,
			.keybits = pr.k.keybits,
			.integ = pr.k.integ,
			.esn = true,
			.encr_key = pr.ekey,
			.encr_keylen = pr.eklen,
			.integ_key = pr.k.integ ? pr.ikey : NULL,
			.integ_keylen = pr.iklen,
		};
		late = esp_sa_new(&p);
		assert_non_null(late);
		esp_test_set_replay_top(late, 0x1fffffff0ULL);
		/* On a copy: a failed decap leaves the buffer undefined. */
		memcpy(copy, pkts[25], lens[25]);
		assert_int_equal(esp_decap(late, copy, lens[25], &inner),
				 ESP_INTEGRITY);
		esp_sa_free(late);

		/* In order, with a few swapped across the wrap. */
		static const int order[] = {
			0,  1,	2,  3,	4,  5,	6,  7,	8,  9,	10, 11, 12, 13,
			14, 15, 16, 17, 21, 20, 18, 19, 22, 24, 23, 25, 26, 27,
			28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39};
		for (size_t i = 0; i < 40; i++) {
			int j = order[i];

			assert_int_equal(
				esp_decap(pr.in, pkts[j], lens[j], &inner),
				ESP_OK);
			assert_int_equal(inner.seq, start + 1 + (uint64_t)j);
			assert_int_equal(inner.len, 100);
		}
		pair_free(&pr);
	}
}

/* ------------------------------------------------------------------ */
/* SA parameters, sizes, names                                         */
/* ------------------------------------------------------------------ */

static void test_sa_params(void **state)
{
	uint8_t key[64] = {1}, ikey[64] = {2};
	struct esp_sa_params good = {
		.spi = 0x1000,
		.encr = ENCR_AES_CBC,
		.keybits = 128,
		.integ = INTEG_SHA256_128,
		.encr_key = key,
		.encr_keylen = 16,
		.integ_key = ikey,
		.integ_keylen = 32,
	};
	struct esp_sa_params p;
	struct esp_sa *sa;

	sa = esp_sa_new(&good);
	assert_non_null(sa);
	esp_sa_free(sa);
	esp_sa_free(NULL);
	assert_null(esp_sa_new(NULL));

	p = good;
	p.spi = 0; /* reserved, never on the wire */
	assert_null(esp_sa_new(&p));
	p = good;
	p.encr_keylen = 24;
	assert_null(esp_sa_new(&p));
	p = good;
	p.integ_keylen = 20;
	assert_null(esp_sa_new(&p));
	p = good;
	p.integ = 0; /* CBC without integrity */
	assert_null(esp_sa_new(&p));
	p = good;
	p.integ = 5; /* AES-XCBC: not supported */
	assert_null(esp_sa_new(&p));
	p = good;
	p.encr = 13; /* AES-CTR: not supported */
	assert_null(esp_sa_new(&p));
	p = good;
	p.keybits = 0;
	assert_null(esp_sa_new(&p));
	p = good;
	p.encr_key = NULL;
	assert_null(esp_sa_new(&p));
	p = good;
	p.integ_key = NULL;
	assert_null(esp_sa_new(&p));

	/* AEAD: no integrity transform. */
	p = (struct esp_sa_params){.spi = 0x1000,
				   .encr = ENCR_AES_GCM_16,
				   .keybits = 256,
				   .encr_key = key,
				   .encr_keylen = 36};
	sa = esp_sa_new(&p);
	assert_non_null(sa);
	esp_sa_free(sa);
	p.integ = INTEG_SHA256_128;
	p.integ_key = ikey;
	p.integ_keylen = 32;
	assert_null(esp_sa_new(&p));
	p = (struct esp_sa_params){.spi = 0x1000,
				   .encr = ENCR_CHACHA20_POLY1305,
				   .keybits = 256,
				   .encr_key = key,
				   .encr_keylen = 36};
	assert_null(esp_sa_new(&p));
}

static void test_sizes(void **state)
{
	for (size_t i = 0; i < NKINDS; i++) {
		struct pair pr;
		uint8_t pkt[BUF], inner[100] = {0};
		size_t len = 0, need, max = 0;
		struct esp_stats st;

		pair_new(&pr, &kinds[i], false);
		assert_int_equal(esp_sa_head_len(pr.out), 8 + pr.ci.ivlen);
		for (size_t l = 0; l < 100; l++) {
			size_t o = esp_sa_encap_len(pr.out, l) - l;

			assert_true(o <= esp_sa_overhead_max(pr.out));
			if (o > max)
				max = o;
		}
		assert_int_equal(max, esp_sa_overhead_max(pr.out));

		/* One byte short: refused, no sequence number spent. */
		need = esp_sa_encap_len(pr.out, sizeof(inner));
		assert_int_equal(esp_encap(pr.out, inner, sizeof(inner),
					   ESP_NH_IPV4, pkt, need - 1, &len),
				 ESP_NO_SPACE);
		assert_int_equal(esp_encap(pr.out, inner, sizeof(inner),
					   ESP_NH_IPV4, pkt, 10, &len),
				 ESP_NO_SPACE);
		assert_int_equal(esp_sa_seq_out(pr.out), 0);
		assert_int_equal(esp_encap(pr.out, inner, sizeof(inner),
					   ESP_NH_IPV4, pkt, need, &len),
				 ESP_OK);
		assert_int_equal(len, need);
		assert_int_equal(esp_sa_seq_out(pr.out), 1);
		esp_sa_get_stats(pr.out, &st);
		assert_int_equal(st.drops[ESP_NO_SPACE], 2);
		pair_free(&pr);
	}
}

/* The SPI is checked: a packet for another SA is not this SA's drop. */
static void test_wrong_spi(void **state)
{
	struct pair a, b;
	uint8_t pkt[BUF];
	struct esp_inner inner;
	struct esp_stats st;
	size_t len;

	pair_new(&a, &kinds[19], false);
	pair_new(&b, &kinds[16], false);
	len = send_one(&a, pkt, 40, 1);
	assert_int_equal(esp_decap(b.in, pkt, len, &inner), ESP_UNKNOWN_SPI);
	esp_sa_get_stats(b.in, &st);
	for (int s = 0; s < ESP_STATUS_MAX; s++)
		assert_int_equal(st.drops[s], 0);
	assert_int_equal(esp_decap(a.in, pkt, len, &inner), ESP_OK);
	pair_free(&a);
	pair_free(&b);
}

static void test_status_names(void **state)
{
	for (int i = 0; i < ESP_STATUS_MAX; i++) {
		assert_string_not_equal(esp_status_name(i), "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(esp_status_name(i),
						esp_status_name(j));
	}
	assert_string_equal(esp_status_name(ESP_OK), "ok");
	assert_string_equal(esp_status_name(ESP_INTEGRITY), "integrity");
	assert_string_equal(esp_status_name(ESP_STATUS_MAX), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7634),
		cmocka_unit_test(test_gcm_draft),
		cmocka_unit_test(test_rfc3602),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_replay_sa),
		cmocka_unit_test(test_seq_exhausted),
		cmocka_unit_test(test_esn_wrap),
		cmocka_unit_test(test_sa_params),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_wrong_spi),
		cmocka_unit_test(test_status_names),
	};

	if (vpn_crypto_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
