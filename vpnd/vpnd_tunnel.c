// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: tunnel interfaces (TUN) and the ESP-in-UDP datapath.
 *
 * Outbound: packets read from a connection's TUN device, in batches, are
 * encapsulated with the newest installed Child SA and sent in one
 * sendmmsg() per batch. Inbound: ESP from the shared UDP 4500 socket is
 * looked up by SPI in a hash table, checked against the replay window,
 * decrypted in place and written to the TUN device. No allocation per
 * packet: buffers are per tunnel and static.
 *
 * This runs on FRR's event loop; the per-tunnel state is self-contained so
 * that it can move to worker threads (one queue per core) later.
 */
#include <zebra.h>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include "lib/log.h"
#include "lib/memory.h"
#include "lib/privs.h"
#include "lib/thread.h"
#include "lib/typesafe.h"
#include "lib/jhash.h"

#include "vpnd.h"
#include "vpnd_ike.h"
#include "vpnd_tunnel.h"
#include "esp/esp.h"

DEFINE_MTYPE_STATIC(VPND, VPN_TUNNEL, "VPN tunnel");
DEFINE_MTYPE_STATIC(VPND, VPN_ESP_SA, "VPN ESP SA");

extern struct zebra_privs_t vpnd_privs;

#define TUN_MAX_SA 4
#define TUN_BATCH 64
#define PKT_MAX 2048 /* inner MTU is below 1500; room for ESP overhead */

PREDECL_HASH(vpn_spis);

/* One installed Child SA of a tunnel: its two ESP SAs. */
struct vpn_tsa {
	struct vpn_spis_item item;
	struct vpn_tunnel *tun;
	bool used;
	uint32_t spi_in, spi_out;
	struct ike_addr local, remote; /* UDP endpoints */
	struct esp_sa *in, *out;
	uint64_t installed_ms;
	uint16_t encr, keybits, integ;
	bool esn;
	uint32_t lifetime_s;
	uint64_t lifetime_bytes;
	bool rekey_asked; /* volume lifetime reached, rekey requested */
};

/* Sequence numbers left below which the SA is rekeyed (without ESN, 2^32
 * packets can run out before the time lifetime at high rates). */
#define SEQ_REKEY_MARGIN (1ULL << 24)

/* Volume lifetime (90%) or sequence numbers running out: rekey, once. */
static inline void tsa_check_volume(struct vpn_tsa *s)
{
	if (s->rekey_asked)
		return;
	if ((s->lifetime_bytes &&
	     esp_sa_bytes(s->in) + esp_sa_bytes(s->out) >=
		     s->lifetime_bytes / 10 * 9) ||
	    esp_sa_seq_left(s->out) < SEQ_REKEY_MARGIN) {
		s->rekey_asked = true;
		vpn_ike_rekey_child(s->spi_in);
	}
}

static int vpn_spi_cmp(const struct vpn_tsa *a, const struct vpn_tsa *b)
{
	return a->spi_in < b->spi_in ? -1 : a->spi_in > b->spi_in;
}

static uint32_t vpn_spi_hash(const struct vpn_tsa *a)
{
	return jhash_1word(a->spi_in, 0x5eed);
}

DECLARE_HASH(vpn_spis, struct vpn_tsa, item, vpn_spi_cmp, vpn_spi_hash);

struct vpn_tunnel {
	struct vpn_connection *conn;
	char ifname[IFNAMSIZ];
	int fd;
	struct thread *t_read;
	bool carrier;
	struct vpn_tsa sa[TUN_MAX_SA];
	struct vpn_tsa *out; /* newest, carries outbound traffic */
	/* drops that belong to no SA */
	uint64_t drop_no_sa;	/* outbound packet while no Child SA */
	uint64_t drop_too_big;
	/* one buffer per packet of a batch */
	uint8_t pkt[TUN_BATCH][PKT_MAX];
};

static struct thread_master *tun_master;
static struct vpn_spis_head spis;
static uint64_t drop_unknown_spi;
static uint64_t drop_malformed_outer;

/* ------------------------------------------------------------------ */
/* TUN device                                                          */
/* ------------------------------------------------------------------ */

static int ifreq_ioctl(unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = -1;

	if (fd < 0)
		return -1;
	frr_with_privs (&vpnd_privs) {
		ret = ioctl(fd, req, ifr);
	}
	close(fd);
	return ret;
}

static void tun_set_mtu(struct vpn_tunnel *t, int mtu)
{
	struct ifreq ifr = {};

	strlcpy(ifr.ifr_name, t->ifname, sizeof(ifr.ifr_name));
	ifr.ifr_mtu = mtu;
	if (ifreq_ioctl(SIOCSIFMTU, &ifr) < 0)
		zlog_warn("%s: cannot set MTU %d (%s)", t->ifname, mtu,
			  safe_strerror(errno));
}

static void tun_set_up(struct vpn_tunnel *t)
{
	struct ifreq ifr = {};

	strlcpy(ifr.ifr_name, t->ifname, sizeof(ifr.ifr_name));
	if (ifreq_ioctl(SIOCGIFFLAGS, &ifr) < 0)
		return;
	ifr.ifr_flags |= IFF_UP;
	if (ifreq_ioctl(SIOCSIFFLAGS, &ifr) < 0)
		zlog_warn("%s: cannot set the interface up (%s)", t->ifname,
			  safe_strerror(errno));
}

void vpn_tunnel_set_carrier(struct vpn_tunnel *t, bool up)
{
	int on = up;

	if (t->carrier == up)
		return;
	t->carrier = up;
	frr_with_privs (&vpnd_privs) {
		if (ioctl(t->fd, TUNSETCARRIER, &on) < 0)
			zlog_warn("%s: cannot set carrier (%s)", t->ifname,
				  safe_strerror(errno));
	}
	zlog_info("%s: carrier %s", t->ifname, up ? "up" : "down");
}

static void tun_read(struct thread *thread);

static void tun_schedule(struct vpn_tunnel *t)
{
	thread_add_read(tun_master, tun_read, t, t->fd, &t->t_read);
}

struct vpn_tunnel *vpn_tunnel_new(struct vpn_connection *conn,
				  const char *ifname)
{
	struct vpn_tunnel *t;
	struct ifreq ifr = {};
	int fd = -1;

	frr_with_privs (&vpnd_privs) {
		fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	}
	if (fd < 0) {
		zlog_err("%s: cannot open /dev/net/tun (%s)", ifname,
			 safe_strerror(errno));
		return NULL;
	}
	strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	frr_with_privs (&vpnd_privs) {
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			zlog_err("%s: cannot create the tunnel interface (%s)",
				 ifname, safe_strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		return NULL;

	t = XCALLOC(MTYPE_VPN_TUNNEL, sizeof(*t));
	t->conn = conn;
	t->fd = fd;
	strlcpy(t->ifname, ifr.ifr_name, sizeof(t->ifname));
	/* Exists with carrier down until a Child SA is installed. */
	t->carrier = true;
	vpn_tunnel_set_carrier(t, false);
	tun_set_mtu(t, 1400);
	tun_set_up(t);
	tun_schedule(t);
	zlog_info("%s: tunnel interface created for connection %s", t->ifname,
		  conn->name);
	return t;
}

const char *vpn_tunnel_ifname(const struct vpn_tunnel *t)
{
	return t->ifname;
}

static void tsa_clear(struct vpn_tsa *s)
{
	if (!s->used)
		return;
	vpn_spis_del(&spis, s);
	if (s->in)
		esp_sa_free(s->in);
	if (s->out)
		esp_sa_free(s->out);
	s->in = s->out = NULL;
	s->used = false;
}

static void tun_pick_out(struct vpn_tunnel *t)
{
	t->out = NULL;
	for (int i = 0; i < TUN_MAX_SA; i++)
		if (t->sa[i].used &&
		    (!t->out || t->sa[i].installed_ms >= t->out->installed_ms))
			t->out = &t->sa[i];
}

void vpn_tunnel_free(struct vpn_tunnel *t)
{
	thread_cancel(&t->t_read);
	for (int i = 0; i < TUN_MAX_SA; i++)
		tsa_clear(&t->sa[i]);
	close(t->fd); /* a non-persistent TUN device goes with its fd */
	zlog_info("%s: tunnel interface removed", t->ifname);
	XFREE(MTYPE_VPN_TUNNEL, t);
}

/* ------------------------------------------------------------------ */
/* Child SAs                                                           */
/* ------------------------------------------------------------------ */

uint32_t vpn_tunnel_alloc_spi(void)
{
	for (;;) {
		struct vpn_tsa key;

		vpn_random(&key.spi_in, sizeof(key.spi_in));
		if (key.spi_in < 256)
			continue;
		if (!vpn_spis_find(&spis, &key))
			return key.spi_in;
	}
}

static struct esp_sa *esp_from_child(const struct ike_child_info *ci,
				     bool inbound)
{
	struct esp_sa_params p = {
		.spi = inbound ? ci->spi_in : ci->spi_out,
		.encr = ci->encr,
		.keybits = ci->encr_keybits,
		.integ = ci->integ,
		.esn = ci->esn,
		.encr_key = inbound ? ci->encr_key_in : ci->encr_key_out,
		.encr_keylen = ci->encr_keylen,
		.integ_key = inbound ? ci->integ_key_in : ci->integ_key_out,
		.integ_keylen = ci->integ_keylen,
	};

	return esp_sa_new(&p);
}

/* Inner MTU for an SA: 1500 minus outer IP, UDP, ESP header, IV, ICV,
 * worst-case padding and the ESP trailer, rounded down to 4. */
static int sa_mtu(const struct ike_child_info *ci)
{
	struct vpn_cipher_info inf;
	int overhead;

	if (vpn_cipher_info(ci->encr, ci->encr_keybits, &inf) < 0)
		return 1400;
	overhead = (ci->remote.family == AF_INET ? 20 : 40) + 8 + 8 +
		   (int)inf.ivlen +
		   (int)(inf.aead ? inf.icvlen : vpn_integ_icvlen(ci->integ)) +
		   (int)(inf.blocksize > 4 ? inf.blocksize - 1 : 3) + 2;
	return (1500 - overhead) & ~3;
}

int vpn_tunnel_child_up(struct vpn_tunnel *t, const struct ike_child_info *ci)
{
	struct vpn_tsa *s = NULL;

	for (int i = 0; i < TUN_MAX_SA; i++)
		if (!t->sa[i].used) {
			s = &t->sa[i];
			break;
		}
	if (!s) {
		/* drop the oldest */
		s = &t->sa[0];
		for (int i = 1; i < TUN_MAX_SA; i++)
			if (t->sa[i].installed_ms < s->installed_ms)
				s = &t->sa[i];
		tsa_clear(s);
	}
	memset(s, 0, sizeof(*s));
	s->in = esp_from_child(ci, true);
	s->out = esp_from_child(ci, false);
	s->spi_in = ci->spi_in;
	if (!s->in || !s->out) {
		if (s->in)
			esp_sa_free(s->in);
		if (s->out)
			esp_sa_free(s->out);
		s->in = s->out = NULL;
		zlog_err("%s: cannot set up ESP SAs", t->ifname);
		return -1;
	}
	s->tun = t;
	s->used = true;
	s->spi_in = ci->spi_in;
	s->spi_out = ci->spi_out;
	s->local = ci->local;
	s->remote = ci->remote;
	s->installed_ms = vpn_now_ms();
	s->encr = ci->encr;
	s->keybits = ci->encr_keybits;
	s->integ = ci->integ;
	s->esn = ci->esn;
	s->lifetime_s = ci->lifetime;
	s->lifetime_bytes = ci->lifetime_bytes;
	vpn_spis_add(&spis, s);
	t->out = s; /* make-before-break: the new SA sends from now on */
	tun_set_mtu(t, sa_mtu(ci));
	return 0;
}

int vpn_tunnel_child_down(struct vpn_tunnel *t, uint32_t spi_in)
{
	for (int i = 0; i < TUN_MAX_SA; i++)
		if (t->sa[i].used && t->sa[i].spi_in == spi_in) {
			tsa_clear(&t->sa[i]);
			tun_pick_out(t);
			return 0;
		}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Datapath                                                            */
/* ------------------------------------------------------------------ */

/*
 * Outbound: packets are read at a fixed offset that leaves room for the
 * ESP header and IV in front, and encapsulated in place.
 */
#define TUN_HEADROOM 32

static void tun_flush(struct vpn_tsa *s, struct iovec *out, unsigned int n)
{
	if (n)
		vpn_udp_send_batch(&s->local, &s->remote, out, n);
}

static void tun_read(struct thread *thread)
{
	struct vpn_tunnel *t = THREAD_ARG(thread);
	struct iovec out[TUN_BATCH];
	unsigned int nout = 0;
	struct vpn_tsa *s = t->out;

	/* Read a batch, encapsulate each in place, send them together. */
	for (int n = 0; n < TUN_BATCH; n++) {
		uint8_t *inner = t->pkt[nout] + TUN_HEADROOM;
		ssize_t len = read(t->fd, inner, PKT_MAX - TUN_HEADROOM - 64);
		size_t esplen, head;
		uint8_t nh;

		if (len <= 0)
			break;
		if (!s) {
			t->drop_no_sa++;
			continue;
		}
		head = esp_sa_head_len(s->out);
		nh = (inner[0] >> 4) == 6 ? ESP_NH_IPV6 : ESP_NH_IPV4;
		if (esp_encap(s->out, inner, (size_t)len, nh, inner - head,
			      PKT_MAX - TUN_HEADROOM + head,
			      &esplen) != ESP_OK)
			continue; /* counted by the SA */
		out[nout].iov_base = inner - head;
		out[nout].iov_len = esplen;
		nout++;
	}
	if (s) {
		tun_flush(s, out, nout);
		tsa_check_volume(s);
	}
	tun_schedule(t);
}

void vpn_esp_input(const struct ike_addr *local, const struct ike_addr *remote,
		   uint8_t *buf, size_t len)
{
	struct vpn_tsa key, *s;
	struct esp_inner inner;

	key.spi_in = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
		     (uint32_t)buf[2] << 8 | buf[3];
	s = vpn_spis_find(&spis, &key);
	if (!s) {
		drop_unknown_spi++;
		return;
	}
	if (esp_decap(s->in, buf, len, &inner) != ESP_OK)
		return; /* counted by the SA, by reason */
	if (inner.next_header != ESP_NH_IPV4 &&
	    inner.next_header != ESP_NH_IPV6)
		return; /* dummy packet */
	/* The peer may move (NAT rebinding): follow authenticated ESP. */
	s->remote = *remote;
	tsa_check_volume(s);
	if (write(s->tun->fd, inner.data, inner.len) < 0)
		s->tun->drop_too_big++;
}

/* ------------------------------------------------------------------ */
/* show                                                                */
/* ------------------------------------------------------------------ */

void vpn_tunnel_show(struct vty *vty, json_object *j, struct vpn_tunnel *t)
{
	json_object *jarr = NULL;
	uint64_t now_ms = vpn_now_ms();

	if (j) {
		jarr = json_object_new_array();
		json_object_string_add(j, "interface", t->ifname);
		json_object_boolean_add(j, "carrier", t->carrier);
		json_object_int_add(j, "dropNoSa", t->drop_no_sa);
		json_object_int_add(j, "dropUnknownSpiGlobal",
				    drop_unknown_spi);
		json_object_object_add(j, "childSas", jarr);
	} else {
		vty_out(vty, "  Interface %s, carrier %s\n", t->ifname,
			t->carrier ? "up" : "down");
	}
	for (int i = 0; i < TUN_MAX_SA; i++) {
		struct vpn_tsa *s = &t->sa[i];
		struct esp_stats in, out;
		struct vpn_transform te = { VPN_TT_ENCR, s->encr, s->keybits };
		struct vpn_transform ti = { VPN_TT_INTEG, s->integ, 0 };
		long age = (long)((now_ms - s->installed_ms) / 1000);
		long left = (long)s->lifetime_s - age;

		if (!s->used)
			continue;
		esp_sa_get_stats(s->in, &in);
		esp_sa_get_stats(s->out, &out);
		in.out_packets = out.out_packets;
		in.out_bytes = out.out_bytes;
		if (jarr) {
			json_object *c = json_object_new_object();

			json_object_string_addf(c, "spiIn", "%08x", s->spi_in);
			json_object_string_addf(c, "spiOut", "%08x",
						s->spi_out);
			json_object_boolean_add(c, "active", s == t->out);
			json_object_string_add(c, "encryption",
					       vpn_transform_name(&te));
			if (s->integ)
				json_object_string_add(
					c, "integrity",
					vpn_transform_name(&ti));
			json_object_boolean_add(c, "esn", s->esn);
			json_object_int_add(c, "ageSeconds", age);
			json_object_int_add(c, "lifetimeSecondsLeft",
					    left > 0 ? left : 0);
			if (s->lifetime_bytes)
				json_object_int_add(
					c, "lifetimeBytesLeft",
					s->lifetime_bytes > in.in_bytes +
								    in.out_bytes
						? (int64_t)(s->lifetime_bytes -
							    in.in_bytes -
							    in.out_bytes)
						: 0);
			json_object_int_add(c, "packetsIn", in.in_packets);
			json_object_int_add(c, "bytesIn", in.in_bytes);
			json_object_int_add(c, "packetsOut", in.out_packets);
			json_object_int_add(c, "bytesOut", in.out_bytes);
			json_object_int_add(c, "dropReplay",
					    in.drops[ESP_REPLAY]);
			json_object_int_add(c, "dropIntegrity",
					    in.drops[ESP_INTEGRITY]);
			json_object_int_add(c, "dropMalformed",
					    in.drops[ESP_MALFORMED]);
			json_object_int_add(c, "dropOther",
					    out.drops[ESP_SEQ_EXHAUSTED] +
						    out.drops[ESP_NO_SPACE] +
						    out.drops[ESP_CRYPTO_ERROR] +
						    in.drops[ESP_CRYPTO_ERROR]);
			json_object_array_add(jarr, c);
			continue;
		}
		vty_out(vty,
			"  Child SA %08x_i %08x_o%s: %s%s%s%s, age %lds, rekey in about %lds\n",
			s->spi_in, s->spi_out, s == t->out ? " (active)" : "",
			vpn_transform_name(&te), s->integ ? "-" : "",
			s->integ ? vpn_transform_name(&ti) : "",
			s->esn ? "-esn" : "", age, left > 0 ? left : 0);
		vty_out(vty,
			"    in %" PRIu64 " packets %" PRIu64
			" bytes, out %" PRIu64 " packets %" PRIu64 " bytes\n",
			in.in_packets, in.in_bytes, in.out_packets,
			in.out_bytes);
		vty_out(vty,
			"    drops: replay %" PRIu64 ", integrity %" PRIu64
			", malformed %" PRIu64 "\n",
			in.drops[ESP_REPLAY], in.drops[ESP_INTEGRITY],
			in.drops[ESP_MALFORMED]);
	}
}

void vpn_tunnel_init(struct thread_master *master)
{
	tun_master = master;
	vpn_spis_init(&spis);
	(void)drop_malformed_outer;
}

void vpn_tunnel_terminate(void)
{
	vpn_spis_fini(&spis);
}
