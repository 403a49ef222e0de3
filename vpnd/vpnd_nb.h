/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: northbound (YANG) callbacks.
 */
#ifndef VPND_NB_H
#define VPND_NB_H

#include "northbound.h"

extern const struct frr_yang_module_info vpnd_info;

#define VPN_XPATH "/vpnd:vpn"

/* Config callbacks (vpnd_nb_config.c). */
int vpn_create(struct nb_cb_create_args *args);
int vpn_destroy(struct nb_cb_destroy_args *args);
void vpn_ike_apply_finish(struct nb_cb_apply_finish_args *args);

int vpn_policy_create_cb(struct nb_cb_create_args *args);
int vpn_policy_destroy_cb(struct nb_cb_destroy_args *args);
void vpn_policy_apply_finish(struct nb_cb_apply_finish_args *args);
int vpn_policy_proposal_create(struct nb_cb_create_args *args);

int vpn_conn_create(struct nb_cb_create_args *args);
int vpn_conn_destroy(struct nb_cb_destroy_args *args);
void vpn_conn_apply_finish(struct nb_cb_apply_finish_args *args);

/*
 * Leaves whose value is read back by their list's apply_finish callback:
 * nothing to do per leaf.
 */
int vpn_nb_create_noop(struct nb_cb_create_args *args);
int vpn_nb_modify_noop(struct nb_cb_modify_args *args);
int vpn_nb_destroy_noop(struct nb_cb_destroy_args *args);
int vpn_nb_move_noop(struct nb_cb_move_args *args);

/* Operational state (vpnd_nb_state.c), read through vpnd_state.h. */
const void *vpn_conn_get_next(struct nb_cb_get_next_args *args);
int vpn_conn_get_keys(struct nb_cb_get_keys_args *args);
const void *vpn_conn_lookup_entry(struct nb_cb_lookup_entry_args *args);
struct yang_data *vpn_conn_state_get_elem(struct nb_cb_get_elem_args *args);
const void *vpn_conn_nexthop_get_next(struct nb_cb_get_next_args *args);
struct yang_data *vpn_conn_nexthop_get_elem(struct nb_cb_get_elem_args *args);
const void *vpn_child_sa_get_next(struct nb_cb_get_next_args *args);
int vpn_child_sa_get_keys(struct nb_cb_get_keys_args *args);
const void *vpn_child_sa_lookup_entry(struct nb_cb_lookup_entry_args *args);
struct yang_data *vpn_child_sa_get_elem(struct nb_cb_get_elem_args *args);
const void *vpn_route_state_get_next(struct nb_cb_get_next_args *args);
int vpn_route_state_get_keys(struct nb_cb_get_keys_args *args);
const void *vpn_route_state_lookup_entry(struct nb_cb_lookup_entry_args *args);
struct yang_data *vpn_route_state_get_elem(struct nb_cb_get_elem_args *args);
struct yang_data *
vpn_number_ike_sas_get_elem(struct nb_cb_get_elem_args *args);
struct yang_data *vpn_ike_stats_get_elem(struct nb_cb_get_elem_args *args);

/* CLI show callbacks (vpnd_vty.c). */
void vpn_cli_show(struct vty *vty, const struct lyd_node *dnode,
		  bool show_defaults);
void vpn_cli_show_end(struct vty *vty, const struct lyd_node *dnode);
void vpn_cli_show_sub_end(struct vty *vty, const struct lyd_node *dnode);
void vpn_ike_dos_cli_show(struct vty *vty, const struct lyd_node *dnode,
			  bool show_defaults);
void vpn_ipsec_lifetime_cli_show(struct vty *vty, const struct lyd_node *dnode,
				 bool show_defaults);
void vpn_list_cli_show(struct vty *vty, const struct lyd_node *dnode,
		       bool show_defaults);
void vpn_leaf_cli_show(struct vty *vty, const struct lyd_node *dnode,
		       bool show_defaults);
void vpn_conn_ts_cli_show(struct vty *vty, const struct lyd_node *dnode,
			  bool show_defaults);
void vpn_conn_dpd_cli_show(struct vty *vty, const struct lyd_node *dnode,
			   bool show_defaults);
void vpn_conn_shutdown_cli_show(struct vty *vty, const struct lyd_node *dnode,
				bool show_defaults);

#endif /* VPND_NB_H */
