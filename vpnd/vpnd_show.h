/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: the show commands' output, from the state structs of
 * vpnd_state.h: one function for text and one for JSON per object. The
 * JSON keys are stable (README.md lists them).
 */
#ifndef VPND_SHOW_H
#define VPND_SHOW_H

#include "json.h"
#include "vty.h"

#include "vpnd_state.h"

json_object *vpn_show_conn_json(const struct vpn_conn_info *s);
void vpn_show_conn_text(struct vty *vty, const struct vpn_conn_info *s);

json_object *vpn_show_sa_json(const struct vpn_ike_sa_oper *sa);
void vpn_show_sa_text(struct vty *vty, const struct vpn_ike_sa_oper *sa);

/* The IKE engine's statistics and the defences in force. */
json_object *vpn_show_ike_json(const struct ike_stats *st,
			       const struct ike_dos_config *dos);
void vpn_show_ike_text(struct vty *vty, const struct ike_stats *st,
		       const struct ike_dos_config *dos);

#endif /* VPND_SHOW_H */
