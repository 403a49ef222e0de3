// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: the IKE engine's host (see vpnd_ike.h): ike_ops callbacks, the
 * engine's tick, and the operations the connection manager asks for.
 */
#include <zebra.h>

#include "lib/log.h"
#include "lib/thread.h"

#include "vpnd_ike.h"
#include "vpnd_udp.h"
#include "vpnd_util.h"

#define IKE_TICK_MS 100

static struct thread_master *ike_master;
static struct ike_engine *vpn_ike;
static struct vpn_ike_events ev;
static struct thread *t_tick;

/* The IKE receiver of the UDP layer: every IKE datagram, whichever
 * socket it came on. */
static void ike_receive(const struct ike_addr *local,
			const struct ike_addr *remote, uint8_t *buf,
			size_t len)
{
	if (vpn_ike)
		ike_input(vpn_ike, local, remote, buf, len);
}

/* ------------------------------------------------------------------ */
/* ike_ops                                                             */
/* ------------------------------------------------------------------ */

static void h_send(void *host, const struct ike_addr *local,
		   const struct ike_addr *remote, const uint8_t *buf,
		   size_t len)
{
	vpn_udp_send(local, remote, buf, len, local->port == IKE_NATT_PORT);
}

static uint64_t h_now(void *host)
{
	return vpn_now_ms();
}

static uint32_t h_alloc_spi(void *host)
{
	return ev.alloc_spi();
}

static struct ike_conn *h_find_conn(void *host, const struct ike_addr *local,
				    const struct ike_addr *remote)
{
	return ev.find_conn(local, remote);
}

static void h_child_up(void *host, struct ike_sa *sa,
		       const struct ike_child_info *info)
{
	ev.child_up(sa, info);
}

static void h_child_down(void *host, struct ike_sa *sa, uint32_t spi_in,
			 uint32_t spi_out)
{
	ev.child_down(sa, spi_in);
}

static void h_sa_event(void *host, struct ike_sa *sa, const char *reason)
{
	ev.sa_event(sa, reason);
}

static void h_keepalive(void *host, const struct ike_addr *local,
			const struct ike_addr *remote)
{
	static const uint8_t ka = 0xff;

	vpn_udp_send(local, remote, &ka, 1, false);
}

static void h_log(void *host, int level, const char *msg)
{
	switch (level) {
	case LOG_ERR:
		zlog_err("%s", msg);
		break;
	case LOG_WARNING:
		zlog_warn("%s", msg);
		break;
	case LOG_NOTICE:
	case LOG_INFO:
		zlog_info("%s", msg);
		break;
	default:
		zlog_debug("%s", msg);
	}
}

static const struct ike_ops vpn_ike_ops = {
	.send = h_send,
	.now_ms = h_now,
	.alloc_spi = h_alloc_spi,
	.find_conn = h_find_conn,
	.child_up = h_child_up,
	.child_down = h_child_down,
	.sa_event = h_sa_event,
	.keepalive = h_keepalive,
	.log = h_log,
};

/* ------------------------------------------------------------------ */
/* Operations                                                          */
/* ------------------------------------------------------------------ */

void vpn_ike_initiate(struct ike_conn *ic)
{
	ike_initiate(vpn_ike, ic);
}

void vpn_ike_conn_down(struct ike_conn *ic, bool silent)
{
	ike_conn_down(vpn_ike, ic, silent);
}

void vpn_ike_conn_probe(struct ike_conn *ic)
{
	ike_conn_probe(vpn_ike, ic);
}

void vpn_ike_conn_forget(struct ike_conn *ic)
{
	if (vpn_ike)
		ike_conn_forget(vpn_ike, ic);
}

void vpn_ike_rekey_child(uint32_t spi_in)
{
	ike_rekey_child_spi(vpn_ike, spi_in);
}

struct foreach_ctx {
	struct ike_conn *only;
	ike_sa_iter_cb cb;
	void *arg;
};

static void foreach_cb(struct ike_sa *sa, void *arg)
{
	struct foreach_ctx *c = arg;

	if (!c->only || ike_sa_conn(sa) == c->only)
		c->cb(sa, c->arg);
}

void vpn_ike_foreach_sa(struct ike_conn *ic, ike_sa_iter_cb cb, void *arg)
{
	struct foreach_ctx c = { .only = ic, .cb = cb, .arg = arg };

	if (!vpn_ike)
		return;
	if (ic)
		ike_foreach_conn_sa(vpn_ike, ic, cb, arg);
	else
		ike_foreach_sa(vpn_ike, foreach_cb, &c);
}

/* Half-open responder SAs do not count: an IKE_SA_INIT costs an attacker
 * one spoofed datagram, and must not stop our own initiation. */
static void has_sa_cb(struct ike_sa *sa, void *arg)
{
	struct ike_sa_status st;

	ike_sa_get_status(sa, &st);
	if (st.state != IKE_SA_DEAD && st.state != IKE_SA_RESPONDED)
		*(bool *)arg = true;
}

bool vpn_ike_conn_has_sa(struct ike_conn *ic)
{
	bool found = false;

	vpn_ike_foreach_sa(ic, has_sa_cb, &found);
	return found;
}

void vpn_ike_set_dos(const struct ike_dos_config *cfg)
{
	if (vpn_ike)
		ike_engine_set_dos(vpn_ike, cfg);
}

/* Without an engine (not started, or stopped): the defaults, no counts. */
void vpn_ike_get_dos(struct ike_dos_config *cfg)
{
	if (vpn_ike)
		ike_engine_get_dos(vpn_ike, cfg);
	else
		ike_dos_defaults(cfg);
}

void vpn_ike_get_stats(struct ike_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (vpn_ike)
		ike_engine_get_stats(vpn_ike, st);
}

/* ------------------------------------------------------------------ */
/* Timers and start-up                                                 */
/* ------------------------------------------------------------------ */

static void tick_cb(struct thread *t)
{
	ike_tick(vpn_ike);
	thread_add_timer_msec(ike_master, tick_cb, NULL, IKE_TICK_MS, &t_tick);
}

void vpn_ike_init(struct thread_master *master,
		  const struct vpn_ike_events *events)
{
	ike_master = master;
	ev = *events;
	vpn_ike = ike_engine_new(&vpn_ike_ops, NULL);
	vpn_udp_set_ike_receiver(ike_receive);
	thread_add_timer_msec(master, tick_cb, NULL, IKE_TICK_MS, &t_tick);
}

void vpn_ike_terminate(void)
{
	thread_cancel(&t_tick);
	vpn_udp_set_ike_receiver(NULL);
	if (vpn_ike)
		ike_engine_free(vpn_ike);
	vpn_ike = NULL;
}
