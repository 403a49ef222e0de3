/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: CLI nodes and commands.
 */
#ifndef VPND_VTY_H
#define VPND_VTY_H

#include "command.h"

/*
 * FRR 8.4.4's enum node_type has no vpnd nodes; libfrr keeps nodes in a
 * vector indexed by number, so ours live just past the end of the enum.
 * (The vtysh that knows vpnd is built with matching entries, see
 * frr-plugin/.)
 */
#ifndef VPN_NODE
#define VPN_NODE ((enum node_type)(NODE_TYPE_MAX + 1))
#define VPN_IKE_POLICY_NODE ((enum node_type)(NODE_TYPE_MAX + 2))
#define VPN_IPSEC_POLICY_NODE ((enum node_type)(NODE_TYPE_MAX + 3))
#define VPN_CONNECTION_NODE ((enum node_type)(NODE_TYPE_MAX + 4))
#endif

void vpn_vty_init(void);

#endif /* VPND_VTY_H */
