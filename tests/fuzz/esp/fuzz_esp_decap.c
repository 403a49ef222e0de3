// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: ESP decapsulation (vpnd/esp/esp.c, replay.c and the
 * crypto wrappers).
 *
 * One inbound SA of each kind (3DES and AES-CBC with each HMAC, AES-GCM
 * 128/192/256, ChaCha20-Poly1305; with and without ESN) with fixed keys.
 * Input: byte 0 picks the SA, byte 1 the mode (low 2 bits) and where the
 * replay window stands (the other bits pick a top: 0, past 2^32 with ESN,
 * just below the wrap ...), the rest is the data.
 *
 *   mode 0  the data as an ESP packet, as received;
 *   mode 1  the same with the SA's SPI written over the first 4 bytes, so
 *           that the replay check and the ICV are reached;
 *   mode 2  the data as [seq 4 bytes][plaintext], sealed here with the
 *           SA's keys (valid ICV) around a plaintext of the fuzzer's
 *           choosing, the sequence number near the window top: the
 *           padding and trailer checks see anything; delivered twice, the
 *           second copy must be refused;
 *   mode 3  the data as an inner packet, encapsulated by the matching
 *           outbound SA (its counter at the window top); unchanged it
 *           must come back identical, with a bit flipped (position from
 *           byte 1) it must be refused.
 *
 * Every packet is decapsulated from a heap buffer of exactly its length,
 * so that the sanitizers see any read past the end. The SA state is reset
 * for each input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "esp/esp.h"
#include "esp/esp_test.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

#define PKT_MAX 4096

struct kind {
	uint16_t encr, keybits, integ;
};

static const struct kind kinds[] = {
	{3, 0, 2},    {12, 128, 12}, {12, 192, 13}, {12, 256, 14}, {12, 128, 2},
	{20, 128, 0}, {20, 192, 0},  {20, 256, 0},  {28, 0, 0},
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))
#define NSA (2 * NKINDS)

struct fsa {
	struct esp_sa *in, *out;
	struct vpn_cipher *cipher; /* for mode 2 */
	struct vpn_integ *integ;
	struct vpn_cipher_info ci;
	uint32_t spi;
	bool esn;
	size_t icvlen;
};

static struct fsa sas[NSA];

/* Where the replay window stands (and the outbound counter, mode 3). */
static const uint64_t tops[] = {
	0,
	1,
	5000,
	0xfffff000,
	0xffffffff,
	0x100000000ULL,
	0x100000010ULL,
	0x7fffffff00001000ULL,
};

#define NTOPS (sizeof(tops) / sizeof(tops[0]))

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void setup(void)
{
	static bool done;
	uint8_t ekey[64], ikey[64];

	if (done)
		return;
	done = true;
	CHECK(vpn_crypto_init() == 0);
	for (size_t i = 0; i < sizeof(ekey); i++) {
		ekey[i] = (uint8_t)(0x40 + i);
		ikey[i] = (uint8_t)(0x90 ^ i);
	}
	for (size_t i = 0; i < NSA; i++) {
		const struct kind *k = &kinds[i % NKINDS];
		struct fsa *f = &sas[i];
		struct esp_sa_params p;

		CHECK(vpn_cipher_info(k->encr, k->keybits, &f->ci) == 0);
		f->spi = 0x1000 + (uint32_t)i;
		f->esn = i >= NKINDS;
		p = (struct esp_sa_params){
			.spi = f->spi,
			.encr = k->encr,
			.keybits = k->keybits,
			.integ = k->integ,
			.esn = f->esn,
			.encr_key = ekey,
			.encr_keylen = f->ci.keylen,
			.integ_key = ikey,
			.integ_keylen
			= k->integ ? vpn_integ_keylen(k->integ) : 0,
		};
		f->in = esp_sa_new(&p);
		f->out = esp_sa_new(&p);
		f->cipher = vpn_cipher_new(k->encr, k->keybits, ekey,
					   f->ci.keylen);
		CHECK(f->in && f->out && f->cipher);
		if (k->integ) {
			f->integ = vpn_integ_new(k->integ, ikey,
						 vpn_integ_keylen(k->integ));
			CHECK(f->integ);
			f->icvlen = vpn_integ_icvlen(k->integ);
		} else {
			f->icvlen = f->ci.icvlen;
		}
	}
}

/* Decapsulate from an exact-size heap copy. */
static enum esp_status decap_copy(struct fsa *f, const uint8_t *pkt, size_t len,
				  uint8_t *inner_out, size_t *inner_len,
				  uint8_t *nh)
{
	uint8_t *buf = malloc(len ? len : 1);
	struct esp_inner inner;
	enum esp_status st;

	CHECK(buf);
	if (len)
		memcpy(buf, pkt, len);
	st = esp_decap(f->in, buf, len, &inner);
	if (st == ESP_OK) {
		CHECK(inner.data >= buf && inner.data + inner.len <= buf + len);
		CHECK(inner.len + esp_sa_head_len(f->in) + 2 <= len);
		if (inner_out) {
			memcpy(inner_out, inner.data, inner.len);
			*inner_len = inner.len;
			*nh = inner.next_header;
		}
	}
	free(buf);
	return st;
}

/* Mode 2: an authentic packet around an arbitrary plaintext, with a
 * sequence number around the window top; delivered twice. */
static void sealed(struct fsa *f, uint64_t top, const uint8_t *data,
		   size_t size)
{
	static uint8_t pkt[PKT_MAX];
	size_t head = ESP_HDR_LEN + f->ci.ivlen, plen, len;
	uint64_t seq;
	uint8_t hi[4];

	if (size < 4)
		return;
	seq = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16
	      | (uint32_t)data[2] << 8 | data[3];
	seq = top + seq % 8192 - (top >= 4096 ? 4096 : top);
	if (!f->esn)
		seq = (uint32_t)seq;
	data += 4;
	size -= 4;
	plen = size;
	if (plen > PKT_MAX - head - 64)
		plen = PKT_MAX - head - 64;
	if (!f->ci.aead)
		plen -= plen % f->ci.blocksize;
	put32(pkt, f->spi);
	put32(pkt + 4, (uint32_t)seq);
	put32(hi, (uint32_t)(seq >> 32));
	memset(pkt + 8, 0xa5, f->ci.ivlen);
	if (f->ci.aead) {
		uint8_t aad[12];
		size_t aadlen = f->esn ? 12 : 8;

		memcpy(aad, pkt, 4);
		memcpy(aad + 4, hi, 4);
		memcpy(aad + aadlen - 4, pkt + 4, 4);
		CHECK(vpn_cipher_encrypt(f->cipher, pkt + 8, aad, aadlen, data,
					 plen, pkt + head, pkt + head + plen)
		      == 0);
	} else {
		struct iovec iov[2] = {{pkt, head + plen}, {hi, 4}};

		CHECK(vpn_cipher_encrypt(f->cipher, pkt + 8, NULL, 0, data,
					 plen, pkt + head, NULL)
		      == 0);
		CHECK(vpn_integ_sign(f->integ, iov, f->esn ? 2 : 1,
				     pkt + head + plen)
		      == 0);
	}
	len = head + plen + f->icvlen;
	decap_copy(f, pkt, len, NULL, NULL, NULL);
	/* Whatever the first did, the same packet again never passes. */
	CHECK(decap_copy(f, pkt, len, NULL, NULL, NULL) != ESP_OK);
}

/* Mode 3: encapsulate, maybe flip one bit, decapsulate. The sender's
 * counter stands at the receiver's window top. */
static void round_trip(struct fsa *f, uint8_t sel, const uint8_t *data,
		       size_t size)
{
	static uint8_t pkt[PKT_MAX], back[PKT_MAX];
	size_t len = 0, blen = 0;
	uint8_t nh = 0;
	enum esp_status st;
	unsigned int flip = sel >> 5;

	if (size > 2000)
		size = 2000;
	st = esp_encap(f->out, data, size, ESP_NH_IPV6, pkt, sizeof(pkt), &len);
	if (st == ESP_SEQ_EXHAUSTED)
		return; /* counter at the end of its space */
	CHECK(st == ESP_OK);
	CHECK(len == esp_sa_encap_len(f->out, size));
	if (flip)
		pkt[(flip * 37u + size) % len] ^= (uint8_t)(1u << (flip % 8));
	st = decap_copy(f, pkt, len, back, &blen, &nh);
	if (!flip) {
		CHECK(st == ESP_OK);
		CHECK(blen == size && nh == ESP_NH_IPV6);
		CHECK(size == 0 || memcmp(back, data, size) == 0);
	} else {
		/* Everything is authenticated, the SPI is checked. */
		CHECK(st != ESP_OK);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[PKT_MAX];
	struct fsa *f;
	uint8_t mode;
	uint64_t top;

	setup();
	if (size < 2)
		return 0;
	f = &sas[data[0] % NSA];
	mode = data[1];
	data += 2;
	size -= 2;
	if (size > PKT_MAX)
		size = PKT_MAX;

	/* Without ESN a top past 2^32 - 1 leaves the window empty. */
	top = tops[(mode >> 2) % NTOPS];
	esp_test_set_replay_top(f->in, top);
	esp_test_set_seq_out(f->out, f->esn ? top : (uint32_t)top);

	switch (mode % 4) {
	case 0:
		decap_copy(f, data, size, NULL, NULL, NULL);
		break;
	case 1:
		memcpy(pkt, data, size);
		if (size >= 4)
			put32(pkt, f->spi);
		decap_copy(f, pkt, size, NULL, NULL, NULL);
		break;
	case 2:
		sealed(f, top, data, size);
		break;
	case 3:
		round_trip(f, mode, data, size);
		break;
	}
	return 0;
}
