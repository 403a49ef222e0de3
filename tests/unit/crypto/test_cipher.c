// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: encryption transforms (vpnd/crypto/cipher.c).
 *
 * Vectors: RFC 3602 section 4 cases 1-3 and NIST SP 800-38A F.2 (AES-CBC
 * 128/192/256), NIST 3DES MMT examples, the GCM specification test cases
 * (McGrew & Viega) and draft-mcgrew-gcm-test-01 (AES-GCM as RFC 4106
 * uses it: key | salt, 8-byte IV, ESP AAD), RFC 8439 2.8.2 and A.5
 * (ChaCha20-Poly1305), RFC 7634 appendix A and B (ChaCha20-Poly1305 in
 * ESP and IKEv2).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "crypto/crypto_test.h"
#include "../testutil.h"

#include <stdlib.h>

#define ENCR_3DES 3
#define ENCR_AES_CBC 12
#define ENCR_AES_GCM_16 20
#define ENCR_CHACHA20_POLY1305 28

/* ------------------------------------------------------------------ */
/* CBC                                                                 */
/* ------------------------------------------------------------------ */

struct cbc_case {
	uint16_t id, keybits;
	const char *key, *iv, *plain, *cipher;
	bool ascii; /* plain is ASCII text */
};

#define SP800_38A_PLAIN                                                        \
	"6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"     \
	"30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
#define SP800_38A_IV "000102030405060708090a0b0c0d0e0f"

static const struct cbc_case cbc_cases[] = {
	/* RFC 3602 section 4, case 1 */
	{ENCR_AES_CBC, 128, "06a9214036b8a15b512e03d534120006",
	 "3dafba429d9eb430b422da802c9fac41", "Single block msg",
	 "e353779c1079aeb82708942dbe77181a", true},
	/* case 2 */
	{ENCR_AES_CBC, 128, "c286696d887c9aa0611bbb3e2025a45a",
	 "562e17996d093d28ddb3ba695a2e6f58",
	 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	 "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1",
	 false},
	/* case 3 */
	{ENCR_AES_CBC, 128, "56e47a38c5598974bc46903dba290349",
	 "8ce82eefbea0da3c44699ed7db51b7d9",
	 "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	 "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
	 "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e"
	 "35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55",
	 false},
	/* NIST SP 800-38A F.2.1, F.2.3, F.2.5 */
	{ENCR_AES_CBC, 128, "2b7e151628aed2a6abf7158809cf4f3c", SP800_38A_IV,
	 SP800_38A_PLAIN,
	 "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
	 "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
	 false},
	{ENCR_AES_CBC, 192, "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
	 SP800_38A_IV, SP800_38A_PLAIN,
	 "4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a"
	 "571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd",
	 false},
	{ENCR_AES_CBC, 256,
	 "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
	 SP800_38A_IV, SP800_38A_PLAIN,
	 "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
	 "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
	 false},
	/* NIST 3DES MMT, examples 1 and 2 */
	{ENCR_3DES, 0, "627f460e08104a1043cd265d5840eaf1313edf97df2a8a8c",
	 "8e29f75ea77e5475", "326a494cd33fe756", "b22b8d66de970692", false},
	{ENCR_3DES, 0, "37ae5ebf46dff2dc0754b94f31cbb3855e7fd36dc870bfae",
	 "3d1de3cc132e3b65", "84401f78fe6c10876d8ea23094ea5309",
	 "7b1f7c7e3b1c948ebd04a75ffba7d2f5", false},
};

static void test_cbc_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(cbc_cases) / sizeof(cbc_cases[0]); i++) {
		const struct cbc_case *c = &cbc_cases[i];
		struct hexbuf key = hb(c->key), iv = hb(c->iv);
		struct hexbuf ct = hb(c->cipher), pt;
		uint8_t buf[256];
		struct vpn_cipher *ctx;

		if (c->ascii) {
			pt.n = strlen(c->plain);
			memcpy(pt.b, c->plain, pt.n);
		} else {
			pt = hb(c->plain);
		}
		ctx = vpn_cipher_new(c->id, c->keybits, key.b, key.n);
		assert_non_null(ctx);
		assert_int_equal(iv.n, vpn_cipher_get_info(ctx)->ivlen);
		/* Encrypt and decrypt twice each: the context is reused, the
		 * direction alternates. */
		for (int rep = 0; rep < 2; rep++) {
			assert_int_equal(vpn_cipher_encrypt(ctx, iv.b, NULL, 0,
							    pt.b, pt.n, buf,
							    NULL),
					 0);
			assert_memory_equal(buf, ct.b, ct.n);
			assert_int_equal(vpn_cipher_decrypt(ctx, iv.b, NULL, 0,
							    ct.b, ct.n, buf,
							    NULL),
					 0);
			assert_memory_equal(buf, pt.b, pt.n);
		}
		/* In place. */
		memcpy(buf, pt.b, pt.n);
		assert_int_equal(vpn_cipher_encrypt(ctx, iv.b, NULL, 0, buf,
						    pt.n, buf, NULL),
				 0);
		assert_memory_equal(buf, ct.b, ct.n);
		assert_int_equal(vpn_cipher_decrypt(ctx, iv.b, NULL, 0, buf,
						    ct.n, buf, NULL),
				 0);
		assert_memory_equal(buf, pt.b, pt.n);
		/* Not a whole number of blocks: refused. */
		assert_int_equal(vpn_cipher_encrypt(ctx, iv.b, NULL, 0, pt.b,
						    pt.n - 1, buf, NULL),
				 -1);
		assert_int_equal(vpn_cipher_decrypt(ctx, iv.b, NULL, 0, ct.b,
						    ct.n + 1, buf, NULL),
				 -1);
		vpn_cipher_free(ctx);
	}
}

/* ------------------------------------------------------------------ */
/* AEAD                                                                */
/* ------------------------------------------------------------------ */

struct aead_case {
	uint16_t id, keybits;
	const char *key; /* cipher key | 4-byte salt */
	const char *iv;	 /* 8 bytes */
	const char *aad;
	const char *plain;
	const char *cipher; /* ciphertext | 16-byte tag */
};

static const struct aead_case aead_cases[] = {
	/* GCM specification test case 3 (IV = salt | 8 bytes) */
	{ENCR_AES_GCM_16, 128, "feffe9928665731c6d6a8f9467308308cafebabe",
	 "facedbaddecaf888", "",
	 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	 "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	 "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	 "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985"
	 "4d5c2af327cd64a62cf35abd2ba6fab4"},
	/* GCM specification test case 4 (IV = salt | 8 bytes) */
	{ENCR_AES_GCM_16, 128, "feffe9928665731c6d6a8f9467308308cafebabe",
	 "facedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	 "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	 "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	 "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e0915bc94fbc"
	 "3221a5db94fae95ae7121a47"},
	/* GCM specification test case 9 (IV = salt | 8 bytes) */
	{ENCR_AES_GCM_16, 192,
	 "feffe9928665731c6d6a8f9467308308feffe9928665731ccafebabe",
	 "facedbaddecaf888", "",
	 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	 "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	 "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c"
	 "7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710acade256"
	 "9924a7c8587336bfb118024db8674a14"},
	/* GCM specification test case 15 (IV = salt | 8 bytes) */
	{ENCR_AES_GCM_16, 256,
	 "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
	 "cafebabe",
	 "facedbaddecaf888", "",
	 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	 "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	 "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
	 "b094dac5d93471bdec1a502270e3cc6c"},
	/* GCM specification test case 16 (IV = salt | 8 bytes) */
	{ENCR_AES_GCM_16, 256,
	 "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
	 "cafebabe",
	 "facedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	 "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	 "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f66276fc6ece"
	 "0f4e1768cddf8853bb2d551b"},
	/* draft-mcgrew-gcm-test-01 test case 1 */
	{ENCR_AES_GCM_16, 128, "4c80cdefbb5d10da906ac73c3613a6342e443b68",
	 "4956ed7e3b244cfe", "000043218765432100000000",
	 "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
	 "00000000045f736970045f756470037369700963796265726369747902646b00"
	 "0021000101020201",
	 "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
	 "cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
	 "61bc17d768fd9732459018148f6cbe722fd04796562dfdb4"},
	/* draft-mcgrew-gcm-test-01 test case 2 */
	{ENCR_AES_GCM_16, 128, "feffe9928665731c6d6a8f9467308308cafebabe",
	 "facedbaddecaf888", "0000a5f80000000a",
	 "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100"
	 "0001000000000000037369700963796265726369747902646b00000100010001",
	 "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c"
	 "3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1"
	 "83b70d3aa8bc6ee4c309e9d85a41ad4a"},
	/* draft-mcgrew-gcm-test-01 test case 3 */
	{ENCR_AES_GCM_16, 256,
	 "abbccddef00112233445566778899aababbccddef00112233445566778899aab"
	 "11223344",
	 "0102030405060708", "4a2cbfe300000002",
	 "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
	 "7002400020bf0000020405b40101040201020201",
	 "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
	 "748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49"
	 "15956c96"},
	/* draft-mcgrew-gcm-test-01 test case 4 */
	{ENCR_AES_GCM_16, 128, "0000000000000000000000000000000000000000",
	 "0000000000000000", "0000000000000001",
	 "4500003c99c500008001cb7a40679318010101010800075c0200440061626364"
	 "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
	 "4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284"
	 "456476492719ffb64de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af3"
	 "f821d496eeb096e98ad2b69e4799c71d"},
	/* draft-mcgrew-gcm-test-01 test case 5 */
	{ENCR_AES_GCM_16, 128, "3de09874b388e6491988d0c3607eae1f57690e43",
	 "4e280000a2fca1a3", "42f67e3f1010101010101010",
	 "4500003c99c300008001cb7c40679318010101010800085c0200430061626364"
	 "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
	 "fba2caa4853cf9f0f22cb10d86dd83b0fec75691cf1a04b00d1138ec9c357917"
	 "65acbd8701ad79845bf9fe3fba487bc91755e6662b4c8d0d1f5e22739530320a"
	 "e0d731cc978ecafaeae88f00e80d6e48"},
	/* draft-mcgrew-gcm-test-01 test case 6 */
	{ENCR_AES_GCM_16, 128, "3de09874b388e6491988d0c3607eae1f57690e43",
	 "4e280000a2fca1a3", "42f67e3f1010101010101010",
	 "4500001c42a200008001441f406793b6e00000020a00f5ff01020201",
	 "fba2ca845e5df9f0f22c3e6e86dd831e1fc65792cd1af9130e1379ed369f071f"
	 "35e034be95f112e4e7d05d35"},
	/* draft-mcgrew-gcm-test-01 test case 7 */
	{ENCR_AES_GCM_16, 192,
	 "feffe9928665731c6d6a8f9467308308feffe9928665731ccafebabe",
	 "facedbaddecaf888", "0000a5f80000000a",
	 "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e"
	 "501016d075680001",
	 "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0"
	 "315b27452144cc7795457b9652037f5318027b5b4cd7a636"},
	/* draft-mcgrew-gcm-test-01 test case 8 */
	{ENCR_AES_GCM_16, 128, "abbccddef00112233445566778899aabdecaf888",
	 "cafedebaceface74", "000001000000000000000001",
	 "4500004933ba00007f119106c3fb1d10c2b1d326c02831ce0035dd7b800302d5"
	 "00004e20001e8c18d75b81dc91baa0476b91b924b280389d92c963bac046ec95"
	 "9b6266c04722b14923010101",
	 "18a6fd42f72cbf4ab2a2ea901f73d814e3e7f243d95412e1c349c1d2fbec168f"
	 "9190feebaf2cb01984e65863965d7472b79da345e0e780191f0d2f0e0f496c22"
	 "6f2127b27db35724e7845d68651f57e65f354f75ff17015769623436"},
	/* draft-mcgrew-gcm-test-01 test case 9 */
	{ENCR_AES_GCM_16, 256,
	 "abbccddef00112233445566778899aababbccddef00112233445566778899aab"
	 "73616c74",
	 "616e640169766563", "17405e67156f3126dd0db99b",
	 "45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb712602"
	 "50101f646d540001",
	 "f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57f"
	 "f4d3a31ce673119e451626c2415771e3b7eebca614c89b35"},
	/* draft-mcgrew-gcm-test-01 test case 10 */
	{ENCR_AES_GCM_16, 128, "3de09874b388e6491988d0c3607eae1f57690e43",
	 "4e280000a2fca1a3", "42f67e3f1010101010101010",
	 "45000049333e00007f119182c3fb1d10c2b1d326c02831ce0035cb458003025b"
	 "000001e0001e8c18d65759d52284a0352c71475c8880391c764d6e5ee0496b32"
	 "5ae270c03899493915010101",
	 "fba2cad12fc1f9f00d3cebf305410db83d7784b607323d220f24b0a97d541828"
	 "00cadb0f68d99ef0e0c0c89ae9bea8884e52d65bc1afd0740f742444747b5b39"
	 "ab533163aad4550ee5160975cdb608c5769189609763b8e18caa81e2"},
	/* draft-mcgrew-gcm-test-01 test case 11 */
	{ENCR_AES_GCM_16, 256,
	 "abbccddef00112233445566778899aababbccddef00112233445566778899aab"
	 "73616c74",
	 "616e640169766563", "17405e67156f3126dd0db99b",
	 "636973636f0172756c657301746865016e6574776501646566696e6501746865"
	 "746563686e6f6c6f67696573017468617477696c6c01646566696e65746f6d6f"
	 "72726f7701020201",
	 "d4b7ed86a1777f2ea13d6973d324c69e7b43f826fb56831226508bebd2dceb18"
	 "d0a6df10e5487df074113e14c641024e3e6773d91a62ee429b043a10e3efe6b0"
	 "12a49363412364f8c0cac587f249e56b11e24f30e44ccc76"},
	/* draft-mcgrew-gcm-test-01 test case 12 */
	{ENCR_AES_GCM_16, 128, "7d773d00c144c525ac619d18c84a3f47d9664267",
	 "43457e9182443bc6", "335467aeffffffff", "01020201",
	 "437f866bcb3f699fe9b0822bac961c4504bef270"},
	/* draft-mcgrew-gcm-test-01 test case 13 */
	{ENCR_AES_GCM_16, 128, "abbccddef00112233445566778899aabdecaf888",
	 "cafedebaceface74", "000001000000000000000001",
	 "746f016265016f72016e6f7401746f0162650001",
	 "29c9fc69a197d038ccdd14e2ddfcaa0543332164412503524303ed3c6c5f2838"
	 "43af8c3e"},
	/* draft-mcgrew-gcm-test-01 test case 14 */
	{ENCR_AES_GCM_16, 256,
	 "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961"
	 "7475726e",
	 "333021696765746d", "796b6963ffffffffffffffff",
	 "45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364"
	 "65666768696a6b6c6d6e6f707172737401020201",
	 "f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a86"
	 "4cd3d78ca4ae68a32b42458fb57dbe821dcc63b9d0937ba2945f669368661a32"
	 "9fb4c053"},
	/* RFC 8439 section 2.8.2 */
	{ENCR_CHACHA20_POLY1305, 0,
	 "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	 "07000000",
	 "4041424344454647", "50515253c0c1c2c3c4c5c6c7",
	 "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
	 "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
	 "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
	 "637265656e20776f756c642062652069742e",
	 "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	 "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	 "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	 "3ff4def08e4b7a9de576d26586cec64b61161ae10b594f09e26a7e902ecbd060"
	 "0691"},
	/* RFC 8439 appendix A.5 */
	{ENCR_CHACHA20_POLY1305, 0,
	 "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0"
	 "00000000",
	 "0102030405060708", "f33388860000000000004e91",
	 "496e7465726e65742d4472616674732061726520647261667420646f63756d65"
	 "6e74732076616c696420666f722061206d6178696d756d206f6620736978206d"
	 "6f6e74687320616e64206d617920626520757064617465642c207265706c6163"
	 "65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65"
	 "6e747320617420616e792074696d652e20497420697320696e617070726f7072"
	 "6961746520746f2075736520496e7465726e65742d4472616674732061732072"
	 "65666572656e6365206d6174657269616c206f7220746f206369746520746865"
	 "6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67"
	 "726573732e2fe2809d",
	 "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
	 "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
	 "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
	 "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
	 "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
	 "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
	 "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
	 "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
	 "a6ad5cb4022b02709beead9d67890cbb22392336fea1851f38"},
	/* RFC 7634 appendix A (ESP) */
	{ENCR_CHACHA20_POLY1305, 0,
	 "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	 "a0a1a2a3",
	 "1011121314151617", "0102030400000005",
	 "45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10"
	 "0007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"
	 "2425262728292a2b2c2d2e2f303132333435363701020204",
	 "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6"
	 "14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3"
	 "cbec163fac469b502773f6fb94e664da9165b82829f641e076aaa8266b7fb0f7"
	 "b11b369907e1ad43"},
	/* RFC 7634 appendix B (IKEv2) */
	{ENCR_CHACHA20_POLY1305, 0,
	 "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	 "a0a1a2a3",
	 "1011121314151617",
	 "c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d72e202500000000090000004529000029",
	 "0000000c000040010000000a00",
	 "610394701f8d017f7c129248896b71bfe25236efd7cdc67066906315b2"},
};

static void test_aead_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(aead_cases) / sizeof(aead_cases[0]);
	     i++) {
		const struct aead_case *c = &aead_cases[i];
		struct hexbuf key = hb(c->key), iv = hb(c->iv);
		struct hexbuf aad = hb(c->aad), pt = hb(c->plain);
		struct hexbuf ct = hb(c->cipher);
		const struct vpn_cipher_info *info;
		uint8_t buf[512], tag[16];
		struct vpn_cipher *ctx;

		assert_int_equal(ct.n, pt.n + 16);
		ctx = vpn_cipher_new(c->id, c->keybits, key.b, key.n);
		assert_non_null(ctx);
		info = vpn_cipher_get_info(ctx);
		assert_true(info->aead);
		assert_int_equal(iv.n, info->ivlen);

		for (int rep = 0; rep < 2; rep++) {
			memset(buf, 0, sizeof(buf));
			assert_int_equal(vpn_cipher_encrypt(ctx, iv.b, aad.b,
							    aad.n, pt.b, pt.n,
							    buf, tag),
					 0);
			assert_memory_equal(buf, ct.b, pt.n);
			assert_memory_equal(tag, ct.b + pt.n, 16);
			memset(buf, 0, sizeof(buf));
			assert_int_equal(vpn_cipher_decrypt(ctx, iv.b, aad.b,
							    aad.n, ct.b, pt.n,
							    buf, ct.b + pt.n),
					 0);
			assert_memory_equal(buf, pt.b, pt.n);
		}
		/* In place. */
		memcpy(buf, pt.b, pt.n);
		assert_int_equal(vpn_cipher_encrypt(ctx, iv.b, aad.b, aad.n,
						    buf, pt.n, buf, tag),
				 0);
		assert_memory_equal(buf, ct.b, pt.n);
		assert_int_equal(vpn_cipher_decrypt(ctx, iv.b, aad.b, aad.n,
						    buf, pt.n, buf, tag),
				 0);
		assert_memory_equal(buf, pt.b, pt.n);

		/* Any change to ciphertext, tag, AAD or IV: refused. */
		for (size_t b = 0; b < ct.n; b++) {
			ct.b[b] ^= 0x04;
			assert_int_equal(vpn_cipher_decrypt(ctx, iv.b, aad.b,
							    aad.n, ct.b, pt.n,
							    buf, ct.b + pt.n),
					 -1);
			ct.b[b] ^= 0x04;
		}
		for (size_t b = 0; b < aad.n; b++) {
			aad.b[b] ^= 0x80;
			assert_int_equal(vpn_cipher_decrypt(ctx, iv.b, aad.b,
							    aad.n, ct.b, pt.n,
							    buf, ct.b + pt.n),
					 -1);
			aad.b[b] ^= 0x80;
		}
		iv.b[7] ^= 1;
		assert_int_equal(vpn_cipher_decrypt(ctx, iv.b, aad.b, aad.n,
						    ct.b, pt.n, buf,
						    ct.b + pt.n),
				 -1);
		iv.b[7] ^= 1;
		/* A different salt is a different nonce. */
		key.b[key.n - 1] ^= 1;
		vpn_cipher_free(ctx);
		ctx = vpn_cipher_new(c->id, c->keybits, key.b, key.n);
		assert_non_null(ctx);
		assert_int_equal(vpn_cipher_decrypt(ctx, iv.b, aad.b, aad.n,
						    ct.b, pt.n, buf,
						    ct.b + pt.n),
				 -1);
		vpn_cipher_free(ctx);
	}
}

/* The same vectors through libsodium's ChaCha20-Poly1305, the fallback
 * where OpenSSL does not offer it. */
static void test_aead_vectors_sodium(void **state)
{
	vpn_cipher_test_force_sodium(true);
	test_aead_vectors(state);
	vpn_cipher_test_force_sodium(false);
}

/* ChaCha20-Poly1305 runs through OpenSSL by default, and what one
 * implementation seals the other opens, for every length from 0 to 2048
 * (in steps of 7, with and without AAD); a changed byte is refused by
 * both. */
static void test_chacha_openssl_and_sodium_agree(void **state)
{
	uint8_t key[36], iv[8], aad[12], pt[2048], ct[2048], out[2048];
	uint8_t tag[16];
	struct vpn_cipher *ossl, *na;

	(void)state;
	srand(7634);
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)rand();
	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)rand();
	ossl = vpn_cipher_new(ENCR_CHACHA20_POLY1305, 0, key, sizeof(key));
	vpn_cipher_test_force_sodium(true);
	na = vpn_cipher_new(ENCR_CHACHA20_POLY1305, 0, key, sizeof(key));
	vpn_cipher_test_force_sodium(false);
	assert_non_null(ossl);
	assert_non_null(na);
	assert_false(vpn_cipher_test_is_sodium(ossl));
	assert_true(vpn_cipher_test_is_sodium(na));

	for (size_t len = 0; len <= sizeof(pt); len += 7) {
		size_t aadlen = (len / 7) % 2 ? sizeof(aad) : 0;

		for (size_t i = 0; i < sizeof(iv); i++)
			iv[i] = (uint8_t)rand();
		for (size_t i = 0; i < sizeof(aad); i++)
			aad[i] = (uint8_t)rand();
		for (int dir = 0; dir < 2; dir++) {
			struct vpn_cipher *a = dir ? na : ossl;
			struct vpn_cipher *b = dir ? ossl : na;

			assert_int_equal(vpn_cipher_encrypt(a, iv, aad, aadlen,
							    pt, len, ct, tag),
					 0);
			assert_int_equal(vpn_cipher_decrypt(b, iv, aad, aadlen,
							    ct, len, out, tag),
					 0);
			assert_memory_equal(out, pt, len);
			if (len) {
				ct[len / 2] ^= 0x10;
				assert_int_equal(
					vpn_cipher_decrypt(b, iv, aad, aadlen,
							   ct, len, out, tag),
					-1);
				assert_int_equal(
					vpn_cipher_decrypt(a, iv, aad, aadlen,
							   ct, len, out, tag),
					-1);
			}
		}
	}
	vpn_cipher_free(ossl);
	vpn_cipher_free(na);
}

/* Empty plaintext and empty AAD work (ESP never has them, IKE might). */
static void test_aead_empty(void **state)
{
	static const struct {
		uint16_t id, keybits;
	} algs[] = {{ENCR_AES_GCM_16, 128},
		    {ENCR_AES_GCM_16, 256},
		    {ENCR_CHACHA20_POLY1305, 0}};

	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
		struct vpn_cipher_info info;
		uint8_t key[36] = {1}, iv[8] = {2}, tag[16], out[1];
		struct vpn_cipher *c;

		assert_int_equal(
			vpn_cipher_info(algs[a].id, algs[a].keybits, &info), 0);
		c = vpn_cipher_new(algs[a].id, algs[a].keybits, key,
				   info.keylen);
		assert_non_null(c);
		assert_int_equal(
			vpn_cipher_encrypt(c, iv, NULL, 0, NULL, 0, out, tag),
			0);
		assert_int_equal(
			vpn_cipher_decrypt(c, iv, NULL, 0, NULL, 0, out, tag),
			0);
		tag[0] ^= 1;
		assert_int_equal(
			vpn_cipher_decrypt(c, iv, NULL, 0, NULL, 0, out, tag),
			-1);
		vpn_cipher_free(c);
	}
}

/* ------------------------------------------------------------------ */
/* Transform IDs                                                       */
/* ------------------------------------------------------------------ */

static void test_cipher_info(void **state)
{
	static const struct {
		uint16_t id, keybits;
		struct vpn_cipher_info info;
	} good[] = {
		{ENCR_3DES, 0, {false, 24, 0, 8, 8, 0}},
		{ENCR_AES_CBC, 128, {false, 16, 0, 16, 16, 0}},
		{ENCR_AES_CBC, 192, {false, 24, 0, 16, 16, 0}},
		{ENCR_AES_CBC, 256, {false, 32, 0, 16, 16, 0}},
		{ENCR_AES_GCM_16, 128, {true, 20, 4, 8, 4, 16}},
		{ENCR_AES_GCM_16, 192, {true, 28, 4, 8, 4, 16}},
		{ENCR_AES_GCM_16, 256, {true, 36, 4, 8, 4, 16}},
		{ENCR_CHACHA20_POLY1305, 0, {true, 36, 4, 8, 4, 16}},
	};
	static const struct {
		uint16_t id, keybits;
	} bad[] = {
		/* unknown or unsupported IDs: DES_IV64, DES, NULL, AES-CTR,
		 * AES-CCM, AES-GCM-8/12, NULL_AUTH_AES_GMAC, CAMELLIA ... */
		{0, 0},
		{1, 0},
		{2, 0},
		{11, 0},
		{13, 128},
		{14, 128},
		{16, 128},
		{18, 128},
		{19, 128},
		{21, 128},
		{23, 128},
		{29, 0},
		{65535, 128},
		/* bad key lengths */
		{ENCR_AES_CBC, 0},
		{ENCR_AES_CBC, 64},
		{ENCR_AES_CBC, 129},
		{ENCR_AES_CBC, 512},
		{ENCR_AES_GCM_16, 0},
		{ENCR_AES_GCM_16, 160},
		{ENCR_3DES, 192},
		{ENCR_3DES, 128},
		{ENCR_CHACHA20_POLY1305, 256},
	};
	uint8_t key[64] = {0};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct vpn_cipher_info info;
		const struct vpn_cipher_info *gi;
		struct vpn_cipher *c;

		memset(&info, 0xff, sizeof(info));
		assert_int_equal(
			vpn_cipher_info(good[i].id, good[i].keybits, &info), 0);
		assert_int_equal(info.aead, good[i].info.aead);
		assert_int_equal(info.keylen, good[i].info.keylen);
		assert_int_equal(info.saltlen, good[i].info.saltlen);
		assert_int_equal(info.ivlen, good[i].info.ivlen);
		assert_int_equal(info.blocksize, good[i].info.blocksize);
		assert_int_equal(info.icvlen, good[i].info.icvlen);
		assert_null(vpn_cipher_new(good[i].id, good[i].keybits, key,
					   info.keylen - 1));
		assert_null(vpn_cipher_new(good[i].id, good[i].keybits, key,
					   info.keylen + 1));
		c = vpn_cipher_new(good[i].id, good[i].keybits, key,
				   info.keylen);
		assert_non_null(c);
		gi = vpn_cipher_get_info(c);
		assert_int_equal(gi->keylen, info.keylen);
		assert_int_equal(gi->aead, info.aead);
		vpn_cipher_free(c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vpn_cipher_info info;

		assert_int_equal(
			vpn_cipher_info(bad[i].id, bad[i].keybits, &info), -1);
		for (size_t kl = 0; kl <= 40; kl++)
			assert_null(vpn_cipher_new(bad[i].id, bad[i].keybits,
						   key, kl));
	}
	vpn_cipher_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cbc_vectors),
		cmocka_unit_test(test_aead_vectors),
		cmocka_unit_test(test_aead_vectors_sodium),
		cmocka_unit_test(test_chacha_openssl_and_sodium_agree),
		cmocka_unit_test(test_aead_empty),
		cmocka_unit_test(test_cipher_info),
	};

	if (vpn_crypto_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
