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

/*
 * A JSON answer of many objects, streamed: {"KEY": {NAME: {...}, ...}} or
 * {"KEY": [{...}, ...]}. Each object is built, printed and freed in turn,
 * so that 1000 connections (2 MB of JSON) never make one tree or one
 * string of the whole answer (json-c's allocations and frees of such a
 * tree cost most of the time).
 */
struct vpn_json_stream {
	struct vty *vty;
	bool array;
	bool first;
};
void vpn_json_stream_begin(struct vpn_json_stream *js, struct vty *vty,
			   const char *key, bool array);
/* Prints j (under name, in an object) and frees it. */
void vpn_json_stream_add(struct vpn_json_stream *js, const char *name,
			 json_object *j);
void vpn_json_stream_end(struct vpn_json_stream *js);

json_object *vpn_show_conn_json(const struct vpn_conn_info *s);
void vpn_show_conn_text(struct vty *vty, const struct vpn_conn_info *s);

json_object *vpn_show_sa_json(const struct vpn_ike_sa_oper *sa);
void vpn_show_sa_text(struct vty *vty, const struct vpn_ike_sa_oper *sa);

/* 'show vpn connection summary': one line (one JSON object) per
 * connection, with a header and the totals. */
json_object *vpn_show_summary_json(const struct vpn_conn_brief *b,
				   unsigned int n);
void vpn_show_summary_text(struct vty *vty, const struct vpn_conn_brief *b,
			   unsigned int n);

/* The IKE engine's statistics and the defences in force. */
json_object *vpn_show_ike_json(const struct ike_stats *st,
			       const struct ike_dos_config *dos);
void vpn_show_ike_text(struct vty *vty, const struct ike_stats *st,
		       const struct ike_dos_config *dos);

#endif /* VPND_SHOW_H */
