// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: the table that binds yang/vpnd.yang paths to callbacks.
 */
#include <zebra.h>

#include "northbound.h"
#include "libfrr.h"

#include "vpnd_nb.h"

#define CONN VPN_XPATH "/connection"

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
			.xpath = VPN_XPATH "/ike-policy",
			.cbs = {
				.create = vpn_policy_create_cb,
				.destroy = vpn_policy_destroy_cb,
				.apply_finish = vpn_policy_apply_finish,
				.cli_show = vpn_ike_policy_cli_show,
				.cli_show_end = vpn_cli_show_sub_end,
			},
		},
		{
			.xpath = VPN_XPATH "/ike-policy/proposal",
			.cbs = {
				.create = vpn_policy_proposal_create,
				.destroy = vpn_nb_destroy_noop,
				.move = vpn_nb_move_noop,
				.cli_show = vpn_proposal_cli_show,
			},
		},
		{
			.xpath = VPN_XPATH "/ike-policy/lifetime",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_ike_lifetime_cli_show,
			},
		},
		{
			.xpath = VPN_XPATH "/ipsec-policy",
			.cbs = {
				.create = vpn_policy_create_cb,
				.destroy = vpn_policy_destroy_cb,
				.apply_finish = vpn_policy_apply_finish,
				.cli_show = vpn_ipsec_policy_cli_show,
				.cli_show_end = vpn_cli_show_sub_end,
			},
		},
		{
			.xpath = VPN_XPATH "/ipsec-policy/proposal",
			.cbs = {
				.create = vpn_policy_proposal_create,
				.destroy = vpn_nb_destroy_noop,
				.move = vpn_nb_move_noop,
				.cli_show = vpn_proposal_cli_show,
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
				.cli_show = vpn_conn_cli_show,
				.cli_show_end = vpn_cli_show_sub_end,
			},
		},
		{
			.xpath = CONN "/local-address",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.destroy = vpn_nb_destroy_noop,
				.cli_show = vpn_conn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/remote-address",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.destroy = vpn_nb_destroy_noop,
				.cli_show = vpn_conn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/local-id",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.destroy = vpn_nb_destroy_noop,
				.cli_show = vpn_conn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/remote-id",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.destroy = vpn_nb_destroy_noop,
				.cli_show = vpn_conn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/pre-shared-key",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.destroy = vpn_nb_destroy_noop,
				.cli_show = vpn_conn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/ike-policy",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_conn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/ipsec-policy",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_conn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/interface",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.destroy = vpn_nb_destroy_noop,
				.cli_show = vpn_conn_leaf_cli_show,
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
				.cli_show = vpn_conn_leaf_cli_show,
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
				.cli_show = vpn_conn_leaf_cli_show,
			},
		},
		{
			.xpath = CONN "/shutdown",
			.cbs = {
				.modify = vpn_nb_modify_noop,
				.cli_show = vpn_conn_shutdown_cli_show,
			},
		},
		{
			.xpath = NULL,
		},
	}
};
