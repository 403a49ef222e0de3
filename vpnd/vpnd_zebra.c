// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: zebra client.
 *
 * zebra's route types are compiled into Debian's zebra, so vpnd registers
 * under the existing NHRP type (the other tunnel-overlay protocol, never
 * run beside vpnd here): its routes show as "N" in 'show ip route' and
 * bgpd can 'redistribute nhrp'.
 */
#include <zebra.h>

#include "lib/zclient.h"
#include "lib/log.h"
#include "lib/privs.h"

#include "vpnd_zebra.h"

extern struct zebra_privs_t vpnd_privs;

static struct zclient *zclient;

static void vpn_zebra_connected(struct zclient *zc)
{
	zlog_info("connected to zebra");
	zclient_send_reg_requests(zc, VRF_DEFAULT);
}

static zclient_handler *const vpn_handlers[] = {};

void vpn_zebra_init(struct thread_master *master)
{
	zclient = zclient_new(master, &zclient_options_default, vpn_handlers,
			      array_size(vpn_handlers));
	zclient->zebra_connected = vpn_zebra_connected;
	zclient_init(zclient, ZEBRA_ROUTE_NHRP, 0, &vpnd_privs);
}

void vpn_zebra_stop(void)
{
	if (!zclient)
		return;
	zclient_stop(zclient);
	zclient_free(zclient);
	zclient = NULL;
}
