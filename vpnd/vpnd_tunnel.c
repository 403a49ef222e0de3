// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: tunnel interfaces (TUN) and the tunnel object, main thread:
 * opening /dev/net/tun (TUNSETIFF), MTU, up, carrier; creating a tunnel
 * (which datapath workers carry it) and freeing it; the operational
 * state read for show; vpn_tunnel_init(), which registers the ESP
 * receiver with the UDP layer.
 *
 * The rest of the tunnel is in (see vpnd_tunnel_int.h for the shared
 * structs and who writes what):
 *   vpnd_tunnel_sa.c  Child SAs, the SPI table, publication, the socket
 *   vpnd_tunnel_tx.c  send path (TX worker)
 *   vpnd_tunnel_rx.c  receive path (RX worker), ESP from the shared socket
 *
 * Calls: down to vpnd_dp, vpnd_udp and the other tunnel files; nothing
 * above (vpnd_ike, vpnd) is called, the rekey callback aside.
 */
#include <zebra.h>

#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "lib/log.h"
#include "lib/memory.h"
#include "lib/privs.h"
#include "lib/thread.h"

#include "vpnd_link.h"
#include "vpnd_tunnel_int.h"
#include "vpnd_udp.h"
#include "vpnd_util.h"

/* TUN UDP segmentation offload (Linux 6.2; Debian 12's headers lack it) */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/* TUNSETIFF: make the device without carrier (Linux 6.0) */
#ifdef IFF_NO_CARRIER
#define TUN_NO_CARRIER IFF_NO_CARRIER
#else
#define TUN_NO_CARRIER 0x0040
#endif

DEFINE_MTYPE_STATIC(VPND, VPN_TUNNEL, "VPN tunnel");

static struct thread_master *tun_master;
static unsigned int tun_count;	/* tunnels made: spreads them on workers */

/* Shutdown: tunnels freed after vpn_tunnel_terminate_begin() leave their
 * TUN fd here, and vpn_tunnel_terminate() deletes their interfaces in one
 * batch (vpnd_link.c) before it closes the fds: one by one, closing took
 * 18 s for 1000. */
static bool tun_stopping;
static int *parked_fd, *parked_ifindex;
static unsigned int nparked, maxparked;

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

/* Only when it changes: every MTU change makes the kernel walk its whole
 * IPv6 routing table (rt6_mtu_change), one route per tunnel at least, and
 * zebra hear of it; Child SAs of a connection mostly share one MTU. */
static void tun_set_mtu(struct vpn_tunnel *t, int mtu)
{
	struct ifreq ifr = {};

	if (t->mtu == mtu)
		return;
	t->mtu = mtu;

	strlcpy(ifr.ifr_name, t->ifname, sizeof(ifr.ifr_name));
	ifr.ifr_mtu = mtu;
	if (ifreq_ioctl(SIOCSIFMTU, &ifr) < 0)
		zlog_warn("%s: cannot set MTU %d (%s)", t->ifname, mtu,
			  safe_strerror(errno));
}

/* A TUN device says 10 Gb/s; a tunnel's speed is unknown: 0, what zebra
 * assumes for a new interface. zebra 8.4 reads the speed 15 s after it
 * learns an interface (and at every up), and a change is announced to
 * every daemon it serves as a new interface; with 1000 tunnels that is
 * 1000 such messages, which bgpd reads one per turn of its event loop
 * while it brings the sessions up. `bandwidth` in zebra's interface
 * configuration still sets what the routing protocols use. */
static void tun_set_speed_unknown(struct vpn_tunnel *t)
{
	struct ethtool_cmd cmd = { .cmd = ETHTOOL_GSET };
	struct ifreq ifr = {};

	strlcpy(ifr.ifr_name, t->ifname, sizeof(ifr.ifr_name));
	ifr.ifr_data = (void *)&cmd;
	if (ifreq_ioctl(SIOCETHTOOL, &ifr) < 0)
		return;
	cmd.cmd = ETHTOOL_SSET;
	ethtool_cmd_speed_set(&cmd, 0);
	if (ifreq_ioctl(SIOCETHTOOL, &ifr) < 0)
		zlog_debug("%s: cannot set the speed (%s)", t->ifname,
			   safe_strerror(errno));
}

/* TUN offloads: checksums and TCP segmentation at least (the kernel
 * then hands over TCP packets of up to 64 KiB, with their checksums
 * left partial), UDP segmentation where the kernel has it (6.2). Without
 * any, the device still carries the virtio_net_hdr, with nothing to do. */
static void tun_set_offloads(struct vpn_tunnel *t)
{
	static const unsigned int tries[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		TUN_F_CSUM,
	};

	for (size_t i = 0; i < array_size(tries); i++) {
		if (ioctl(t->fd, TUNSETOFFLOAD, tries[i]) == 0) {
			t->offloads = tries[i];
			if (i)
				zlog_info("%s: the kernel takes fewer TUN offloads (%#x of %#x)",
					  t->ifname, tries[i], tries[0]);
			return;
		}
	}
	zlog_warn("%s: no TUN offloads (%s): one packet per read",
		  t->ifname, safe_strerror(errno));
}

const char *vpn_tunnel_offloads_str(const struct vpn_tunnel_oper *o)
{
	static const struct {
		unsigned int flag;
		const char *name;
	} names[] = {{TUN_F_CSUM, "csum"}, {TUN_F_TSO4, "tso4"},
		     {TUN_F_TSO6, "tso6"}, {TUN_F_USO4, "uso4"},
		     {TUN_F_USO6, "uso6"}};
	static char buf[64];
	size_t n = 0;

	if (!o->vnet || !o->offloads)
		return "none";
	buf[0] = '\0';
	for (size_t i = 0; i < array_size(names); i++)
		if (o->offloads & names[i].flag)
			n += snprintf(buf + n, sizeof(buf) - n, "%s%s",
				      n ? " " : "", names[i].name);
	return buf;
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

struct vpn_tunnel *vpn_tunnel_new(const char *conn_name, const char *ifname,
				  int mtu)
{
	struct vpn_tunnel *t;
	struct ifreq ifr = {};
	unsigned int n;
	int fd = -1;
	bool no_carrier = true;
	/* the kernel's TSO/USO, cut again here (esp/gso.h) */
	short vnet = vpn_dp_tun_offload() ? IFF_VNET_HDR : 0;

	if (vpn_dp_start(tun_master) < 0) {
		zlog_err("%s: no datapath worker thread", ifname);
		return NULL;
	}
	frr_with_privs (&vpnd_privs) {
		fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	}
	if (fd < 0) {
		zlog_err("%s: cannot open /dev/net/tun (%s)", ifname,
			 safe_strerror(errno));
		return NULL;
	}
	/* Made without carrier (Linux 6.0+): zebra sets an interface it has
	 * configuration for up as soon as it appears, and a device made
	 * with carrier would be operative for that moment, until
	 * TUNSETCARRIER (an interface up and down for zebra and every
	 * daemon it serves, connected routes installed and removed). */
	strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | TUN_NO_CARRIER | vnet;
	frr_with_privs (&vpnd_privs) {
		int r = ioctl(fd, TUNSETIFF, &ifr);

		if (r < 0 && errno == EINVAL) { /* an older kernel */
			no_carrier = false;
			ifr.ifr_flags = IFF_TUN | IFF_NO_PI | vnet;
			r = ioctl(fd, TUNSETIFF, &ifr);
		}
		if (r < 0) {
			zlog_err("%s: cannot create the tunnel interface (%s)",
				 ifname, safe_strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		return NULL;

	t = XCALLOC(MTYPE_VPN_TUNNEL, sizeof(*t));
	t->fd = fd;
	t->vnet = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
	strlcpy(t->ifname, ifr.ifr_name, sizeof(t->ifname));
	t->ifindex = if_nametoindex(t->ifname);
	atomic_init(&t->state, NULL);
	/* Tunnels take turns on the workers; with --dp-split, a tunnel's RX
	 * runs on the worker after its TX's. */
	n = tun_count++;
	t->txw = vpn_dp_worker(n);
	t->rxw = vpn_dp_worker(vpn_dp_split() ? n + 1 : n);
	t->tun_ep.handler = tun_tx;
	/* Exists with carrier down until a Child SA is installed. */
	t->carrier = !no_carrier;
	vpn_tunnel_set_carrier(t, false);
	tun_set_mtu(t, mtu);
	tun_set_speed_unknown(t);
	tun_set_up(t);
	if (t->vnet)
		tun_set_offloads(t);
	if (vpn_dp_watch(t->txw, t->fd, &t->tun_ep) < 0) {
		close(t->fd);
		XFREE(MTYPE_VPN_TUNNEL, t);
		return NULL;
	}
	zlog_info("%s: tunnel interface created for connection %s (datapath workers: tx %u, rx %u)",
		  t->ifname, conn_name, vpn_dp_worker_index(t->txw),
		  vpn_dp_worker_index(t->rxw));
	return t;
}

const char *vpn_tunnel_ifname(const struct vpn_tunnel *t)
{
	return t->ifname;
}

void vpn_tunnel_free(struct vpn_tunnel *t)
{
	vpn_dp_unwatch(t->txw, t->fd);
	tun_sock_unwatch(t, t->sock);
	tun_handoff_unwatch(t);
	tun_sa_release(t); /* after vpn_dp_sync(): no worker uses it now */
	tun_handoff_free(t);
	if (tun_stopping && t->ifindex > 0 && nparked < maxparked) {
		parked_fd[nparked] = t->fd;
		parked_ifindex[nparked++] = (int)t->ifindex;
	} else {
		close(t->fd); /* a non-persistent TUN device goes with it */
		zlog_info("%s: tunnel interface removed", t->ifname);
	}
	XFREE(MTYPE_VPN_TUNNEL, t);
}

/* ------------------------------------------------------------------ */
/* Operational state (main thread)                                     */
/* ------------------------------------------------------------------ */

/* Inner MTU for an SA: 1500 minus outer IP, UDP, ESP header, IV, ICV,
 * worst-case padding and the ESP trailer, rounded down to 4. */
static int mtu_for(int family, uint16_t encr, uint16_t keybits,
		   uint16_t integ)
{
	struct vpn_cipher_info inf;
	int overhead;

	if (vpn_cipher_info(encr, keybits, &inf) < 0)
		return 1400;
	overhead = (family == AF_INET ? 20 : 40) + 8 + 8 + (int)inf.ivlen +
		   (int)(inf.aead ? inf.icvlen : vpn_integ_icvlen(integ)) +
		   (int)(inf.blocksize > 4 ? inf.blocksize - 1 : 3) + 2;
	return (1500 - overhead) & ~3;
}

static int sa_mtu(const struct ike_child_info *ci)
{
	return mtu_for(ci->remote.family, ci->encr, ci->encr_keybits,
		       ci->integ);
}

int vpn_tunnel_expected_mtu(int family, const struct vpn_proposal *esp,
			    unsigned int nesp)
{
	const struct vpn_transform *encr = NULL, *integ = NULL;

	if (!nesp)
		return 1400;
	for (unsigned int i = 0; i < esp->ntransforms; i++) {
		const struct vpn_transform *tr = &esp->transforms[i];

		if (tr->type == VPN_TT_ENCR && !encr)
			encr = tr;
		else if (tr->type == VPN_TT_INTEG && !integ)
			integ = tr;
	}
	if (!encr)
		return 1400;
	return mtu_for(family, encr->id, encr->keylen, integ ? integ->id : 0);
}

int vpn_tunnel_child_up(struct vpn_tunnel *t, const struct ike_child_info *ci)
{
	if (tun_sa_install(t, ci) < 0)
		return -1;
	tun_set_mtu(t, sa_mtu(ci));
	return 0;
}

void vpn_tunnel_get_oper(const struct vpn_tunnel *t,
			 struct vpn_tunnel_oper *o)
{
	memset(o, 0, sizeof(*o));
	o->ifname = t->ifname;
	o->carrier = t->carrier;
	o->drop_no_sa = ctr_get(&t->drop_no_sa);
	o->drop_tun_write = ctr_get(&t->drop_tun_write);
	o->drop_tun_read = ctr_get(&t->drop_tun_read);
	o->tso_reads = ctr_get(&t->tso_reads);
	o->gro_writes = ctr_get(&t->gro_writes);
	o->vnet = t->vnet;
	o->offloads = t->offloads;
	o->drop_handoff = ctr_get(&t->drop_handoff);
	o->drop_unknown_spi = atomic_load(&tun_drop_unknown_spi);
	o->tx_worker = vpn_dp_worker_index(t->txw);
	o->rx_worker = vpn_dp_worker_index(t->rxw);
	if (t->sock) {
		o->has_esp = true;
		o->esp_local = t->sock->local;
		o->esp_remote = t->sock->remote;
		o->esp_own_socket = t->sock->fd >= 0;
	}
}

static void child_oper(const struct vpn_tunnel *t, const struct vpn_tsa *s,
		       uint64_t now_ms, struct vpn_child_oper *c)
{
	uint64_t used;
	long age, left;

	memset(c, 0, sizeof(*c));
	c->spi_in = s->spi_in;
	c->spi_out = s->spi_out;
	c->active = s == t->out;
	c->encr = s->encr;
	c->encr_keybits = s->keybits;
	c->integ = s->integ;
	c->esn = s->esn;
	age = (long)((now_ms - s->installed_ms) / 1000);
	left = (long)s->lifetime_s - age;
	c->age_s = (uint64_t)age;
	c->lifetime_s_left = left > 0 ? (uint64_t)left : 0;
	c->packets_in = ctr_get(&s->rx_packets);
	c->bytes_in = ctr_get(&s->rx_bytes);
	c->packets_out = ctr_get(&s->tx_packets);
	c->bytes_out = ctr_get(&s->tx_bytes);
	used = c->bytes_in + c->bytes_out;
	c->lifetime_bytes = s->lifetime_bytes;
	c->lifetime_bytes_left =
		s->lifetime_bytes > used ? s->lifetime_bytes - used : 0;
	c->drop_replay = ctr_get(&s->rx_drop[ESP_REPLAY]);
	c->drop_integrity = ctr_get(&s->rx_drop[ESP_INTEGRITY]);
	c->drop_malformed = ctr_get(&s->rx_drop[ESP_MALFORMED]);
	c->drop_policy = ctr_get(&s->rx_drop_policy);
	c->drop_other = ctr_get(&s->tx_drop[ESP_SEQ_EXHAUSTED]) +
			ctr_get(&s->tx_drop[ESP_NO_SPACE]) +
			ctr_get(&s->tx_drop[ESP_CRYPTO_ERROR]) +
			ctr_get(&s->rx_drop[ESP_CRYPTO_ERROR]);
}

unsigned int vpn_tunnel_get_children(const struct vpn_tunnel *t,
				     struct vpn_child_oper *out,
				     unsigned int max)
{
	uint64_t now_ms = vpn_now_ms();
	unsigned int n = 0;

	/* not those deleted and in their grace time: the IKE SA has no
	 * such Child SA any more */
	for (int i = 0; i < VPN_TUNNEL_MAX_SA && n < max; i++)
		if (t->sa[i] && !t->sa[i]->dying_until_ms)
			child_oper(t, t->sa[i], now_ms, &out[n++]);
	return n;
}

void vpn_tunnel_init(struct thread_master *master, vpn_tunnel_rekey_fn rekey)
{
	tun_master = master;
	tun_sa_init(master, rekey, tun_sock_rx);
	vpn_udp_set_esp_receiver(vpn_esp_input);
}

void vpn_tunnel_terminate_begin(void)
{
	tun_stopping = true;
	maxparked = tun_count; /* every tunnel ever made: enough */
	parked_fd = XCALLOC(MTYPE_VPN_TUNNEL, (maxparked + 1) * sizeof(int));
	parked_ifindex =
		XCALLOC(MTYPE_VPN_TUNNEL, (maxparked + 1) * sizeof(int));
}

void vpn_tunnel_terminate(void)
{
	vpn_dp_stop();
	tun_sa_fini();
	if (nparked && vpn_links_delete(parked_ifindex, nparked) == 0)
		zlog_info("%u tunnel interfaces removed", nparked);
	for (unsigned int i = 0; i < nparked; i++)
		close(parked_fd[i]);
	nparked = maxparked = 0;
	XFREE(MTYPE_VPN_TUNNEL, parked_fd);
	XFREE(MTYPE_VPN_TUNNEL, parked_ifindex);
	tun_stopping = false;
}
