// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: a tunnel's Child SAs and its connected socket, main thread:
 * the SPI table of all tunnels (vpn_tunnel_alloc_spi, lookups for
 * vpn_esp_input), installing and removing SAs (child_up/child_down,
 * make-before-break: the newest SA sends, except that an SA we got as
 * the responder of a rekey waits in standby until the peer uses it, the
 * old one goes, or TUN_STANDBY_MS pass), the tunnel's UDP socket that
 * follows the SA's endpoints and the peer after a NAT move
 * (tun_peer_moved), and the rekey request upwards (tun_rekey, through
 * the callback given to vpn_tunnel_init()).
 *
 * Publication (QSBR, vpnd_dp.h): the workers see an immutable tun_state
 * built here from the main thread's view, published with one atomic
 * exchange; the previous state, and any SA or socket left out of the new
 * one, is freed only after vpn_dp_sync().
 *
 * Calls: down to the ESP engine, vpnd_dp and vpnd_udp; tsa_check_volume()
 * runs on the workers (vpnd_tunnel_tx.c, vpnd_tunnel_rx.c) and posts
 * tun_rekey to the main thread; the RX worker posts tun_peer_moved.
 */
#include <zebra.h>

#include <netinet/udp.h>

#include "lib/jhash.h"
#include "lib/log.h"
#include "lib/memory.h"
#include "lib/thread.h"

#include "vpnd_tunnel_int.h"
#include "vpnd_udp.h"
#include "vpnd_util.h"
#include "crypto/crypto.h"

DEFINE_MTYPE_STATIC(VPND, VPN_ESP_SA, "VPN ESP SA");
DEFINE_MTYPE(VPND, VPN_TUN_STATE, "VPN tunnel datapath state");

static int vpn_spi_cmp(const struct vpn_tsa *a, const struct vpn_tsa *b)
{
	return a->spi_in < b->spi_in ? -1 : a->spi_in > b->spi_in;
}

static uint32_t vpn_spi_hash(const struct vpn_tsa *a)
{
	return jhash_1word(a->spi_in, 0x5eed);
}

DECLARE_HASH(vpn_spis, struct vpn_tsa, item, vpn_spi_cmp, vpn_spi_hash);

/* How long an SA we got as the responder of a rekey waits for the peer
 * (its first packet on it, or its DELETE of the old SA) before it sends
 * anyway (RFC 7296 2.8: the initiator sends on it once it has the
 * response; its DELETE follows at once). */
#define TUN_STANDBY_MS 5000

/* How long a Child SA deleted while another one carries the tunnel still
 * accepts packets: ESP sent just before the DELETE may wait in the
 * tunnel's socket behind a full queue while the main thread has already
 * handled the DELETE (the datapath and IKE are read by different
 * threads). */
#define TUN_GRACE_MS 1000

static struct vpn_spis_head spis; /* main thread only */
static struct thread_master *tun_master;
static vpn_tunnel_rekey_fn tun_rekey_fn; /* upward: IKE rekeys */
/* The RX worker's handler of a tunnel socket (vpnd_tunnel_rx.c), given
 * by vpnd_tunnel.c: this file calls nothing above it. */
static void (*sock_rx_handler)(struct vpn_dp_ep *ep, struct vpn_dp_worker *w);

/* Publish the main thread's view; the previous state is returned, to
 * be freed after vpn_dp_sync(). */
static struct tun_state *tun_publish(struct vpn_tunnel *t)
{
	struct tun_state *st = XCALLOC(MTYPE_VPN_TUN_STATE, sizeof(*st));

	for (int i = 0; i < VPN_TUNNEL_MAX_SA; i++)
		if (t->sa[i])
			st->sa[st->nsa++] = t->sa[i];
	st->out = t->out;
	st->sock = t->sock;
	return atomic_exchange_explicit(&t->state, st, memory_order_acq_rel);
}

static void tsa_free(struct vpn_tsa *s)
{
	if (!s)
		return;
	esp_sa_free(s->in); /* wipes the keys */
	esp_sa_free(s->out);
	vpn_memzero(s, sizeof(*s));
	XFREE(MTYPE_VPN_ESP_SA, s);
}

static struct tun_sock *sock_new(struct vpn_tunnel *t,
				 const struct ike_addr *local,
				 const struct ike_addr *remote)
{
	struct tun_sock *ts = XCALLOC(MTYPE_VPN_TUN_STATE, sizeof(*ts));

	ts->ep.handler = sock_rx_handler;
	ts->tun = t;
	ts->local = *local;
	ts->remote = *remote;
	ts->fd = vpn_udp_open_connected(local, remote);
	if (ts->fd >= 0) {
		int on = 1;

		/* joined packets (GRO) come with their size (RX worker) */
		setsockopt(ts->fd, SOL_UDP, UDP_GRO, &on, sizeof(on));
	}
	if (ts->fd >= 0 && vpn_dp_watch(t->rxw, ts->fd, &ts->ep) < 0) {
		close(ts->fd);
		ts->fd = -1;
	}
	if (ts->fd < 0)
		zlog_warn("%s: no socket of its own; ESP goes through the shared socket",
			  t->ifname);
	return ts;
}

/* Stop the RX worker watching ts (before the sync that frees it). */
void tun_sock_unwatch(struct vpn_tunnel *t, struct tun_sock *ts)
{
	if (ts && ts->fd >= 0)
		vpn_dp_unwatch(t->rxw, ts->fd);
}

static void sock_free(struct tun_sock *ts)
{
	if (!ts)
		return;
	if (ts->fd >= 0)
		close(ts->fd);
	XFREE(MTYPE_VPN_TUN_STATE, ts);
}

/* Publish the main thread's view; once no worker can hold what it
 * replaced (vpn_dp_sync()), free the previous state, and the SA and the
 * socket left out of the new one. */
static void tun_commit(struct vpn_tunnel *t, struct vpn_tsa *gone,
		       struct tun_sock *oldsock)
{
	struct tun_state *old = tun_publish(t);

	tun_sock_unwatch(t, oldsock);
	if (old || gone || oldsock)
		vpn_dp_sync();
	XFREE(MTYPE_VPN_TUN_STATE, old);
	tsa_free(gone);
	sock_free(oldsock);
}

void tun_sa_release(struct vpn_tunnel *t)
{
	struct tun_state *old = atomic_exchange(&t->state, NULL);

	thread_cancel(&t->t_standby);
	thread_cancel(&t->t_grace);
	vpn_dp_sync(); /* no worker uses the tunnel now */
	XFREE(MTYPE_VPN_TUN_STATE, old);
	for (int i = 0; i < VPN_TUNNEL_MAX_SA; i++)
		if (t->sa[i]) {
			vpn_spis_del(&spis, t->sa[i]);
			tsa_free(t->sa[i]);
			t->sa[i] = NULL;
		}
	t->out = NULL;
	sock_free(t->sock);
	t->sock = NULL;
}

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

struct vpn_tsa *tun_sa_find(uint32_t spi_in)
{
	struct vpn_tsa key = { .spi_in = spi_in };

	return vpn_spis_find(&spis, &key);
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

/* The SA that sends: the newest not in standby, else the newest. */
static struct vpn_tsa *tun_pick_out(const struct vpn_tunnel *t)
{
	struct vpn_tsa *best = NULL;

	for (int i = 0; i < VPN_TUNNEL_MAX_SA; i++) {
		struct vpn_tsa *s = t->sa[i];
		bool sb, bsb;

		if (!s || s->dying_until_ms)
			continue;
		if (!best) {
			best = s;
			continue;
		}
		sb = atomic_load(&s->standby);
		bsb = atomic_load(&best->standby);
		if ((bsb && !sb) ||
		    (sb == bsb && s->installed_ms >= best->installed_ms))
			best = s;
	}
	return best;
}

/* A standby SA waited long enough: every SA may send. */
static void tun_standby_expired(struct thread *thread)
{
	struct vpn_tunnel *t = THREAD_ARG(thread);

	for (int i = 0; i < VPN_TUNNEL_MAX_SA; i++)
		if (t->sa[i] && atomic_exchange(&t->sa[i]->standby, false))
			zlog_info("%s: Child SA %08x sends now (no sign from the peer in %d ms)",
				  t->ifname, t->sa[i]->spi_in, TUN_STANDBY_MS);
	if (t->out != tun_pick_out(t)) {
		t->out = tun_pick_out(t);
		tun_commit(t, NULL, NULL);
	}
}

void tun_sa_promote(uint32_t spi_in, const struct ike_addr *local,
		    const struct ike_addr *remote, uint8_t *data, size_t len)
{
	struct vpn_tsa *s = tun_sa_find(spi_in);
	struct vpn_tunnel *t;

	if (!s)
		return;
	t = s->tun;
	atomic_store(&s->standby, false);
	if (t->out != tun_pick_out(t)) {
		t->out = tun_pick_out(t);
		tun_commit(t, NULL, NULL);
	}
}

/* The SA of a Child SA, not installed yet; NULL when the ESP engine
 * refuses it. */
static struct vpn_tsa *tsa_new(struct vpn_tunnel *t,
			       const struct ike_child_info *ci)
{
	struct vpn_tsa *s = XCALLOC(MTYPE_VPN_ESP_SA, sizeof(*s));

	s->in = esp_from_child(ci, true);
	s->out = esp_from_child(ci, false);
	if (!s->in || !s->out) {
		tsa_free(s);
		return NULL;
	}
	s->tun = t;
	s->spi_in = ci->spi_in;
	s->spi_out = ci->spi_out;
	s->installed_ms = vpn_now_ms();
	s->encr = ci->encr;
	s->keybits = ci->encr_keybits;
	s->integ = ci->integ;
	s->esn = ci->esn;
	s->lifetime_s = ci->lifetime;
	s->lifetime_bytes = ci->lifetime_bytes;
	esp_policy_set(&s->policy, ci->local_ts, ci->n_local_ts, ci->remote_ts,
		       ci->n_remote_ts);
	return s;
}

/* Install a Child SA: the newest sends (make-before-break). */
int tun_sa_install(struct vpn_tunnel *t, const struct ike_child_info *ci)
{
	struct vpn_tsa *s = tsa_new(t, ci), *victim = NULL;
	struct tun_sock *oldsock = NULL;
	int slot = -1;

	if (!s) {
		zlog_err("%s: cannot set up ESP SAs", t->ifname);
		return -1;
	}
	for (int i = 0; i < VPN_TUNNEL_MAX_SA && slot < 0; i++)
		if (!t->sa[i])
			slot = i;
	if (slot < 0) {
		/* drop the oldest */
		slot = 0;
		for (int i = 1; i < VPN_TUNNEL_MAX_SA; i++)
			if (t->sa[i]->installed_ms <
			    t->sa[slot]->installed_ms)
				slot = i;
		victim = t->sa[slot];
		vpn_spis_del(&spis, victim);
	}
	/* Make-before-break: the new SA sends from now on; as the
	 * responder of a rekey, once the peer has it (RFC 7296 2.8). */
	if (ci->rekey_responder && t->out && t->out != victim) {
		atomic_store(&s->standby, true);
		thread_cancel(&t->t_standby);
		thread_add_timer_msec(tun_master, tun_standby_expired, t,
				      TUN_STANDBY_MS, &t->t_standby);
	}
	t->sa[slot] = s;
	vpn_spis_add(&spis, s);
	t->out = tun_pick_out(t);

	/* The SA's endpoints: the tunnel's socket follows them. */
	if (!t->sock || !ike_addr_eq(&t->sock->local, &ci->local) ||
	    !ike_addr_eq(&t->sock->remote, &ci->remote)) {
		oldsock = t->sock;
		t->sock = sock_new(t, &ci->local, &ci->remote);
	}
	tun_commit(t, victim, oldsock);
	return 0;
}

/* The sending SA goes (the peer's DELETE after its rekey): a standby SA
 * it was kept for sends now. */
static void out_gone(struct vpn_tunnel *t)
{
	for (int k = 0; k < VPN_TUNNEL_MAX_SA; k++)
		if (t->sa[k])
			atomic_store(&t->sa[k]->standby, false);
	t->out = tun_pick_out(t);
}

/* Remove the SA in slot i now. */
static void tsa_remove(struct vpn_tunnel *t, int i)
{
	struct vpn_tsa *s = t->sa[i];

	t->sa[i] = NULL;
	vpn_spis_del(&spis, s);
	if (t->out == s)
		out_gone(t);
	tun_commit(t, s, NULL); /* no worker holds s any more: wipe it */
}

static void tun_grace_expired(struct thread *thread)
{
	struct vpn_tunnel *t = THREAD_ARG(thread);
	uint64_t now = vpn_now_ms(), next = 0;

	for (int i = 0; i < VPN_TUNNEL_MAX_SA; i++) {
		struct vpn_tsa *s = t->sa[i];

		if (!s || !s->dying_until_ms)
			continue;
		if (s->dying_until_ms <= now)
			tsa_remove(t, i);
		else if (!next || s->dying_until_ms < next)
			next = s->dying_until_ms;
	}
	if (next)
		thread_add_timer_msec(tun_master, tun_grace_expired, t,
				      next - now, &t->t_grace);
}

int vpn_tunnel_child_down(struct vpn_tunnel *t, uint32_t spi_in)
{
	int slot = -1;
	bool others = false;

	for (int i = 0; i < VPN_TUNNEL_MAX_SA; i++) {
		if (!t->sa[i] || t->sa[i]->dying_until_ms)
			continue;
		if (t->sa[i]->spi_in == spi_in)
			slot = i;
		else
			others = true;
	}
	if (slot < 0)
		return -1;
	if (!others) { /* the tunnel goes down: nothing to wait for */
		tsa_remove(t, slot);
		return 0;
	}
	/* Another SA carries the tunnel: this one sends no more, and takes
	 * what is already on its way for a while. */
	t->sa[slot]->dying_until_ms = vpn_now_ms() + TUN_GRACE_MS;
	atomic_store(&t->sa[slot]->standby, false);
	if (t->out == t->sa[slot]) {
		out_gone(t);
		tun_commit(t, NULL, NULL);
	}
	if (!t->t_grace)
		thread_add_timer_msec(tun_master, tun_grace_expired, t,
				      TUN_GRACE_MS, &t->t_grace);
	return 0;
}

/* Main thread, posted by the RX worker: authenticated ESP of the SA
 * spi_in came from a new address or port. Reconnect the socket. */
void tun_peer_moved(uint32_t spi_in, const struct ike_addr *local,
		    const struct ike_addr *remote, uint8_t *data, size_t len)
{
	struct vpn_tsa *s = tun_sa_find(spi_in);
	struct vpn_tunnel *t;
	struct tun_sock *oldsock;
	char buf[INET6_ADDRSTRLEN];

	if (!s)
		return;
	t = s->tun;
	if (t->sock && ike_addr_eq(&t->sock->remote, remote))
		return;
	zlog_info("%s: peer moved to %s port %u, following it", t->ifname,
		  vpn_addr_str(remote, buf, sizeof(buf)), remote->port);
	oldsock = t->sock;
	t->sock = sock_new(t, oldsock ? &oldsock->local : local, remote);
	tun_commit(t, NULL, oldsock);
}

/* Main thread, posted by a worker: rekey before the volume lifetime or
 * the sequence numbers run out. */
static void tun_rekey(uint32_t spi_in, const struct ike_addr *local,
		      const struct ike_addr *remote, uint8_t *data, size_t len)
{
	if (tun_rekey_fn)
		tun_rekey_fn(spi_in);
}

/* Volume lifetime (90%) or sequence numbers running out: rekey, once.
 * tx: called by the TX worker (which may read the outbound SA). */
void tsa_check_volume(struct vpn_tsa *s, bool tx)
{
	if (atomic_load_explicit(&s->rekey_asked, memory_order_relaxed))
		return;
	if ((s->lifetime_bytes &&
	     ctr_get(&s->rx_bytes) + ctr_get(&s->tx_bytes) >=
		     s->lifetime_bytes / 10 * 9) ||
	    (tx && esp_sa_seq_left(s->out) < SEQ_REKEY_MARGIN)) {
		if (atomic_exchange(&s->rekey_asked, true))
			return;
		if (vpn_dp_post(tun_rekey, s->spi_in, NULL, NULL, NULL, 0) < 0)
			atomic_store(&s->rekey_asked, false); /* next time */
	}
}

void tun_sa_init(struct thread_master *master, vpn_tunnel_rekey_fn rekey,
		 void (*rx)(struct vpn_dp_ep *ep, struct vpn_dp_worker *w))
{
	tun_master = master;
	tun_rekey_fn = rekey;
	sock_rx_handler = rx;
	vpn_spis_init(&spis);
}

void tun_sa_fini(void)
{
	vpn_spis_fini(&spis);
}
