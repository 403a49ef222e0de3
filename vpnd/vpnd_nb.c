// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: the table that binds yang/vpnd.yang paths to callbacks.
 */
#include <zebra.h>

#include "northbound.h"
#include "libfrr.h"

#include "vpnd_nb.h"

#define CONN VPN_XPATH "/connection"
#define IKE VPN_XPATH "/ike"

/* clang-format off */
const struct frr_yang_module_info vpnd_info = {
	.name = "vpnd",
	.nodes = {
		{
			.xpath = VPN_XPATH,
			.cbs = {
				.create = vpn_create,
				.destroy = vpn_destroy,
				.cli_show = vpn_cli_show,
				.cli_show_end = vpn_cli_show_end,
			},
		},
		{
			.xpath = IKE,
			.cbs = {
				.apply_finish = vpn_ike_apply_finish,
			},
		},
		{
			.xpath = IKE "/cookie-threshold",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_ike_dos_cli_show,
			},
		},
		{
			.xpath = IKE "/cookie-threshold-per-address",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_ike_dos_cli_show,
			},
		},
		{
			.xpath = IKE "/block-threshold",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_ike_dos_cli_show,
			},
		},
		{
			.xpath = IKE "/half-open-limit",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_ike_dos_cli_show,
			},
		},
		{
			.xpath = IKE "/peer-sa-limit",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_ike_dos_cli_show,
			},
		},
		{
			.xpath = IKE "/cookie-secret-lifetime",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_ike_dos_cli_show,
			},
		},
		{
			.xpath = IKE "/max-packet",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_ike_dos_cli_show,
			},
		},
		{
			.xpath = VPN_XPATH "/ike-policy",
			.cbs = {
				.create = vpn_policy_create_cb,
				.destroy = vpn_policy_destroy_cb,
				.apply_finish = vpn_policy_apply_finish,
				.cli_show = vpn_list_cli_show,
				.cli_show_end = vpn_cli_show_sub_end,
			},
		},
		{
			.xpath = VPN_XPATH "/ike-policy/proposal",
			.cbs = {
				.create = vpn_policy_proposal_create,
				.destroy = vpn_nb_destroy_noop,
				.move = vpn_nb_move_noop,
				.cli_show = vpn_leaf_cli_show,
			},
		},
		{
			.xpath = VPN_XPATH "/ike-policy/lifetime",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_leaf_cli_show,
			},
		},
		{
			.xpath = VPN_XPATH "/ipsec-policy",
			.cbs = {
				.create = vpn_policy_create_cb,
				.destroy = vpn_policy_destroy_cb,
				.apply_finish = vpn_policy_apply_finish,
				.cli_show = vpn_list_cli_show,
				.cli_show_end = vpn_cli_show_sub_end,
			},
		},
		{
			.xpath = VPN_XPATH "/ipsec-policy/proposal",
			.cbs = {
				.create = vpn_policy_proposal_create,
				.destroy = vpn_nb_destroy_noop,
				.move = vpn_nb_move_noop,
				.cli_show = vpn_leaf_cli_show,
			},
		},
		{
			.xpath = VPN_XPATH "/ipsec-policy/lifetime",
			.cbs = {
				.cli_show = vpn_ipsec_lifetime_cli_show,
			},
		},
		{
			.xpath = VPN_XPATH "/ipsec-policy/lifetime/seconds",
			.cbs = {
				.modify = vpn_nb_modify_noop,
			},
		},
		{
			.xpath = VPN_XPATH "/ipsec-policy/lifetime/kilobytes",
			.cbs = {
				.modify = vpn_nb_modify_noop,
			},
		},
		{
			.xpath = CONN,
			.cbs = {
				.create = vpn_conn_create,
				.destroy = vpn_conn_destroy,
				.apply_finish = vpn_conn_apply_finish,
				.cli_show = vpn_list_cli_show,
				.cli_show_end = vpn_cli_show_sub_end,
				.get_next = vpn_conn_get_next,
				.get_keys = vpn_conn_get_keys,
				.lookup_entry = vpn_conn_lookup_entry,
			},
		},
		{
			.xpath = CONN "/local-address",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.destroy = vpn_nb_destroy_noop,
				.cli_show = vpn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/remote-address",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.destroy = vpn_nb_destroy_noop,
				.cli_show = vpn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/local-id",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.destroy = vpn_nb_destroy_noop,
				.cli_show = vpn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/remote-id",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.destroy = vpn_nb_destroy_noop,
				.cli_show = vpn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/pre-shared-key",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.destroy = vpn_nb_destroy_noop,
				.cli_show = vpn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/ike-policy",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/ipsec-policy",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/interface",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.destroy = vpn_nb_destroy_noop,
				.cli_show = vpn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/traffic-selector",
			.cbs = {
				.create = vpn_nb_create_noop,
				.destroy = vpn_nb_destroy_noop,
				.cli_show = vpn_conn_ts_cli_show,
			},
		},
		{
			.xpath = CONN "/route",
			.cbs = {
				.create = vpn_nb_create_noop,
				.destroy = vpn_nb_destroy_noop,
				.cli_show = vpn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/accept-prefix",
			.cbs = {
				.create = vpn_nb_create_noop,
				.destroy = vpn_nb_destroy_noop,
				.cli_show = vpn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/dpd",
			.cbs = {
				.cli_show = vpn_conn_dpd_cli_show,
			},
		},
		{
			.xpath = CONN "/dpd/interval",
			.cbs = {
				.modify = vpn_nb_modify_noop,
			},
		},
		{
			.xpath = CONN "/dpd/timeout",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.destroy = vpn_nb_destroy_noop,
			},
		},
		{
			.xpath = CONN "/connection-mode",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/shutdown",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_conn_shutdown_cli_show,
			},
		},
		/* Operational state (vpnd_nb_state.c). */
		{
			.xpath = CONN "/state/oper-state",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/state-reason",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/last-error",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/carrier",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/dpd-timeout",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/sa-state",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/initiator",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/initiator-ikesa-spi",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/responder-ikesa-spi",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/local-address",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/remote-address",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/encapsulation-type/espencap",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/encapsulation-type/sport",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/encapsulation-type/dport",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/encryption-algorithm",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/integrity-algorithm",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/prf",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/dh-group",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/current-rekey-time",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/drop-no-sa",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/drop-unknown-spi",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/underlay/state",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/underlay/pinned",
			.cbs = {
				.get_elem = vpn_conn_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa",
			.cbs = {
				.get_next = vpn_child_sa_get_next,
				.get_keys = vpn_child_sa_get_keys,
				.lookup_entry = vpn_child_sa_lookup_entry,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/inbound-spi",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/outbound-spi",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/active",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/encryption-algorithm",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/integrity-algorithm",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/ext-seq-num",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/sa-lifetime-current/time",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/sa-lifetime-current/bytes",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/sa-lifetime-current/packets",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/lifetime-seconds-left",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/lifetime-bytes-left",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/statistics/in-packets",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/statistics/in-bytes",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/statistics/out-packets",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/statistics/out-bytes",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/statistics/drop-replay",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/statistics/drop-integrity",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/statistics/drop-malformed",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/ike-sa/child-sa/statistics/drop-other",
			.cbs = {
				.get_elem = vpn_child_sa_get_elem,
			},
		},
		{
			.xpath = CONN "/state/underlay/nexthop",
			.cbs = {
				.get_next = vpn_conn_nexthop_get_next,
				.get_elem = vpn_conn_nexthop_get_elem,
			},
		},
		{
			.xpath = CONN "/state/route",
			.cbs = {
				.get_next = vpn_route_state_get_next,
				.get_keys = vpn_route_state_get_keys,
				.lookup_entry = vpn_route_state_lookup_entry,
			},
		},
		{
			.xpath = CONN "/state/route/prefix",
			.cbs = {
				.get_elem = vpn_route_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/route/source",
			.cbs = {
				.get_elem = vpn_route_state_get_elem,
			},
		},
		{
			.xpath = CONN "/state/route/installed",
			.cbs = {
				.get_elem = vpn_route_state_get_elem,
			},
		},
		{
			.xpath = VPN_XPATH "/number-ike-sas/total",
			.cbs = {
				.get_elem = vpn_number_ike_sas_get_elem,
			},
		},
		{
			.xpath = VPN_XPATH "/number-ike-sas/half-open",
			.cbs = {
				.get_elem = vpn_number_ike_sas_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/ike-sas",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/half-open",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/datagrams-received",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/drop-too-large",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/drop-malformed",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/drop-unknown-spi",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/drop-unexpected",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/drop-integrity",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/drop-no-connection",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/cookies-sent",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/cookies-invalid",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/drop-blocked",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/drop-half-open-limit",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/drop-peer-sa-limit",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/half-open-expired",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/no-proposal-chosen",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/invalid-ke-sent",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/retransmits-answered",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = IKE "/statistics/log-suppressed",
			.cbs = {
				.get_elem = vpn_ike_stats_get_elem,
			},
		},
		{
			.xpath = NULL,
		},
	}
};
