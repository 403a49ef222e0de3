// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: northbound operational-state callbacks (the config false nodes of
 * yang/vpnd.yang).
 *
 * The values are read from the JSON objects that 'show vpn connection
 * json' and 'show vpn sa json' print (vpnd_vty.c, vpnd_ike.c,
 * vpnd_tunnel.c, vpnd_zebra.c build them), so NETCONF <get> and the CLI
 * always agree, and this file knows nothing of the datapath's internals.
 * Each connection's object is built once per event-loop task and freed
 * after it: one <get> reads one consistent snapshot per connection.
 */
#include <zebra.h>

#include "northbound.h"
#include "json.h"
#include "thread.h"
#include "yang.h"

#include "vpnd.h"
#include "vpnd_nb.h"
#include "vpnd_ike.h"

extern struct thread_master *master;

/* ------------------------------------------------------------------ */
/* The snapshot                                                        */
/* ------------------------------------------------------------------ */

static json_object *snap;	 /* connection name -> show object */
static json_object *snap_sas;	 /* 'show vpn sa json' */
static struct thread *t_snap_free;

static void snap_free(struct thread *t)
{
	json_object_put(snap);
	json_object_put(snap_sas);
	snap = NULL;
	snap_sas = NULL;
}

static void snap_start(void)
{
	if (snap)
		return;
	snap = json_object_new_object();
	/* Runs after the task that is reading state now. */
	thread_add_event(master, snap_free, NULL, 0, &t_snap_free);
}

static json_object *conn_snap(const struct vpn_connection *conn)
{
	json_object *j;

	snap_start();
	if (!json_object_object_get_ex(snap, conn->name, &j)) {
		j = vpn_conn_state_json((struct vpn_connection *)conn);
		json_object_object_add(snap, conn->name, j);
	}
	return j;
}

static json_object *sas_snap(void)
{
	snap_start();
	if (!snap_sas) {
		snap_sas = json_object_new_object();
		vpn_ike_show_sa(NULL, snap_sas);
	}
	return snap_sas;
}

/* "a.b.c" inside obj; NULL when absent. */
static json_object *jget(json_object *obj, const char *path)
{
	char buf[64], *tok, *save = NULL;

	strlcpy(buf, path, sizeof(buf));
	for (tok = strtok_r(buf, ".", &save); tok && obj;
	     tok = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(obj, tok, &obj))
			return NULL;
	return obj;
}

static int64_t jint(json_object *obj, const char *path)
{
	json_object *v = jget(obj, path);

	return v ? json_object_get_int64(v) : 0;
}

/* ------------------------------------------------------------------ */
/* Leaf tables: YANG path below the nearest list entry -> JSON          */
/* ------------------------------------------------------------------ */

enum conv {
	C_STR,	  /* string, absent when empty */
	C_BOOL,
	C_INT,
	C_HEX,	  /* hexadecimal string -> decimal */
	C_SUM,	  /* sum of two integers: json "a+b" */
	C_CONST,  /* the json field holds the value itself */
	C_EXISTS, /* presence container: present when json exists */
};

struct leaf_map {
	const char *yang;
	const char *json;
	enum conv conv;
	const char *requires; /* json that must exist (for C_CONST) */
};

static const struct leaf_map conn_leaves[] = {
	{ "state/oper-state", "state", C_STR },
	{ "state/state-reason", "stateReason", C_STR },
	{ "state/last-error", "lastError", C_STR },
	{ "state/carrier", "carrier", C_BOOL },
	{ "state/dpd-timeout", "dpdTimeout", C_INT },
	{ "state/ike-sa", "ikeSa", C_EXISTS },
	{ "state/ike-sa/sa-state", "ikeSa.state", C_STR },
	{ "state/ike-sa/initiator", "ikeSa.initiator", C_BOOL },
	{ "state/ike-sa/initiator-ikesa-spi", "ikeSa.spiInitiator", C_HEX },
	{ "state/ike-sa/responder-ikesa-spi", "ikeSa.spiResponder", C_HEX },
	{ "state/ike-sa/local-address", "ikeSa.localAddress", C_STR },
	{ "state/ike-sa/remote-address", "ikeSa.remoteAddress", C_STR },
	{ "state/ike-sa/encapsulation-type/espencap", "espinudp", C_CONST,
	  "ikeSa" },
	{ "state/ike-sa/encapsulation-type/sport", "ikeSa.localPort", C_INT },
	{ "state/ike-sa/encapsulation-type/dport", "ikeSa.remotePort", C_INT },
	{ "state/ike-sa/encryption-algorithm", "ikeSa.encryption", C_STR },
	{ "state/ike-sa/integrity-algorithm", "ikeSa.integrity", C_STR },
	{ "state/ike-sa/prf", "ikeSa.prf", C_STR },
	{ "state/ike-sa/dh-group", "ikeSa.dhGroup", C_STR },
	{ "state/ike-sa/current-rekey-time", "ikeSa.rekeySeconds", C_INT },
	{ "state/ike-sa/drop-no-sa", "ikeSa.dropNoSa", C_INT },
	{ "state/ike-sa/drop-unknown-spi", "ikeSa.dropUnknownSpiGlobal",
	  C_INT },
	{ "state/underlay/state", "underlay.state", C_STR },
	{ "state/underlay/pinned", "underlay.pinned", C_BOOL },
	{ NULL },
};

static const struct leaf_map child_leaves[] = {
	{ "outbound-spi", "spiOut", C_HEX },
	{ "active", "active", C_BOOL },
	{ "encryption-algorithm", "encryption", C_STR },
	{ "integrity-algorithm", "integrity", C_STR },
	{ "ext-seq-num", "esn", C_BOOL },
	{ "sa-lifetime-current/time", "ageSeconds", C_INT },
	{ "sa-lifetime-current/bytes", "bytesIn+bytesOut", C_SUM },
	{ "sa-lifetime-current/packets", "packetsIn+packetsOut", C_SUM },
	{ "lifetime-seconds-left", "lifetimeSecondsLeft", C_INT },
	{ "lifetime-bytes-left", "lifetimeBytesLeft", C_INT },
	{ "statistics/in-packets", "packetsIn", C_INT },
	{ "statistics/in-bytes", "bytesIn", C_INT },
	{ "statistics/out-packets", "packetsOut", C_INT },
	{ "statistics/out-bytes", "bytesOut", C_INT },
	{ "statistics/drop-replay", "dropReplay", C_INT },
	{ "statistics/drop-integrity", "dropIntegrity", C_INT },
	{ "statistics/drop-malformed", "dropMalformed", C_INT },
	{ "statistics/drop-other", "dropOther", C_INT },
	{ NULL },
};

static const struct leaf_map route_leaves[] = {
	{ "source", "source", C_STR },
	{ "installed", "installed", C_BOOL },
	{ NULL },
};

/* The part of a data path below the innermost list entry. */
static const char *below_entry(const char *xpath)
{
	const char *p = strrchr(xpath, ']');

	return p && p[1] == '/' ? p + 2 : xpath;
}

static struct yang_data *leaf_get(const char *xpath, json_object *obj,
				  const struct leaf_map *tbl)
{
	const char *rel = below_entry(xpath);
	char buf[64];
	json_object *v;

	for (; tbl->yang; tbl++)
		if (strcmp(tbl->yang, rel) == 0)
			break;
	if (!tbl->yang || !obj)
		return NULL;

	switch (tbl->conv) {
	case C_CONST:
		if (!jget(obj, tbl->requires))
			return NULL;
		return yang_data_new(xpath, tbl->json);
	case C_EXISTS:
		return jget(obj, tbl->json) ? yang_data_new(xpath, NULL) : NULL;
	case C_SUM: {
		char a[32], *b;

		strlcpy(a, tbl->json, sizeof(a));
		b = strchr(a, '+');
		*b++ = '\0';
		if (!jget(obj, a))
			return NULL;
		snprintf(buf, sizeof(buf), "%" PRId64,
			 jint(obj, a) + jint(obj, b));
		return yang_data_new(xpath, buf);
	}
	default:
		break;
	}

	v = jget(obj, tbl->json);
	if (!v)
		return NULL;
	switch (tbl->conv) {
	case C_STR:
		if (!json_object_get_string(v)[0])
			return NULL;
		return yang_data_new(xpath, json_object_get_string(v));
	case C_BOOL:
		return yang_data_new_bool(xpath, json_object_get_boolean(v));
	case C_INT:
		snprintf(buf, sizeof(buf), "%" PRId64,
			 json_object_get_int64(v));
		return yang_data_new(xpath, buf);
	case C_HEX:
		snprintf(buf, sizeof(buf), "%" PRIu64,
			 (uint64_t)strtoull(json_object_get_string(v), NULL,
					    16));
		return yang_data_new(xpath, buf);
	default:
		return NULL;
	}
}

/* An array of the connection's snapshot, and the index of an element. */
static json_object *conn_array(const void *conn, const char *path)
{
	json_object *a = jget(conn_snap(conn), path);

	return a && json_object_is_type(a, json_type_array) ? a : NULL;
}

static const void *array_next(json_object *a, const void *cur)
{
	size_t n, i = 0;

	if (!a)
		return NULL;
	n = json_object_array_length(a);
	if (cur) {
		while (i < n && json_object_array_get_idx(a, i) != cur)
			i++;
		i++;
	}
	return i < n ? json_object_array_get_idx(a, i) : NULL;
}

/* ------------------------------------------------------------------ */
/* /vpnd:vpn/connection                                                */
/* ------------------------------------------------------------------ */

const void *vpn_conn_get_next(struct nb_cb_get_next_args *args)
{
	const struct vpn_connection *conn = args->list_entry;

	if (!conn)
		return vpn_conns_const_first(&vpn.conns);
	return vpn_conns_const_next(&vpn.conns, conn);
}

int vpn_conn_get_keys(struct nb_cb_get_keys_args *args)
{
	const struct vpn_connection *conn = args->list_entry;

	args->keys->num = 1;
	strlcpy(args->keys->key[0], conn->name, sizeof(args->keys->key[0]));
	return NB_OK;
}

const void *vpn_conn_lookup_entry(struct nb_cb_lookup_entry_args *args)
{
	return vpn_connection_lookup(args->keys->key[0]);
}

struct yang_data *vpn_conn_state_get_elem(struct nb_cb_get_elem_args *args)
{
	return leaf_get(args->xpath, conn_snap(args->list_entry),
			conn_leaves);
}

/* .../state/underlay/nexthop */
const void *vpn_conn_nexthop_get_next(struct nb_cb_get_next_args *args)
{
	return array_next(conn_array(args->parent_list_entry,
				     "underlay.nexthops"),
			  args->list_entry);
}

struct yang_data *vpn_conn_nexthop_get_elem(struct nb_cb_get_elem_args *args)
{
	return yang_data_new(args->xpath,
			     json_object_get_string(
				     (json_object *)args->list_entry));
}

/* .../state/ike-sa/child-sa */
const void *vpn_child_sa_get_next(struct nb_cb_get_next_args *args)
{
	return array_next(conn_array(args->parent_list_entry,
				     "ikeSa.childSas"),
			  args->list_entry);
}

static void spi_key(json_object *child, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64,
		 (uint64_t)strtoull(json_object_get_string(
					    jget(child, "spiIn")),
				    NULL, 16));
}

int vpn_child_sa_get_keys(struct nb_cb_get_keys_args *args)
{
	args->keys->num = 1;
	spi_key((json_object *)args->list_entry, args->keys->key[0],
		sizeof(args->keys->key[0]));
	return NB_OK;
}

const void *vpn_child_sa_lookup_entry(struct nb_cb_lookup_entry_args *args)
{
	json_object *a = conn_array(args->parent_list_entry, "ikeSa.childSas");
	char key[32];

	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		spi_key(json_object_array_get_idx(a, i), key, sizeof(key));
		if (strcmp(key, args->keys->key[0]) == 0)
			return json_object_array_get_idx(a, i);
	}
	return NULL;
}

struct yang_data *vpn_child_sa_get_elem(struct nb_cb_get_elem_args *args)
{
	return leaf_get(args->xpath, (json_object *)args->list_entry,
			child_leaves);
}

/* .../state/route */
const void *vpn_route_state_get_next(struct nb_cb_get_next_args *args)
{
	return array_next(conn_array(args->parent_list_entry, "routes"),
			  args->list_entry);
}

int vpn_route_state_get_keys(struct nb_cb_get_keys_args *args)
{
	args->keys->num = 1;
	strlcpy(args->keys->key[0],
		json_object_get_string(
			jget((json_object *)args->list_entry, "prefix")),
		sizeof(args->keys->key[0]));
	return NB_OK;
}

const void *
vpn_route_state_lookup_entry(struct nb_cb_lookup_entry_args *args)
{
	json_object *a = conn_array(args->parent_list_entry, "routes");

	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *r = json_object_array_get_idx(a, i);

		if (strcmp(json_object_get_string(jget(r, "prefix")),
			   args->keys->key[0]) == 0)
			return r;
	}
	return NULL;
}

struct yang_data *vpn_route_state_get_elem(struct nb_cb_get_elem_args *args)
{
	return leaf_get(args->xpath, (json_object *)args->list_entry,
			route_leaves);
}

/* ------------------------------------------------------------------ */
/* /vpnd:vpn/number-ike-sas                                            */
/* ------------------------------------------------------------------ */

struct yang_data *vpn_number_ike_sas_get_elem(struct nb_cb_get_elem_args *args)
{
	json_object *a = jget(sas_snap(), "ikeSas");
	unsigned int total = 0, half = 0;
	char buf[16];

	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		const char *st = json_object_get_string(
			jget(json_object_array_get_idx(a, i), "state"));

		total++;
		if (st && (!strcmp(st, "connecting") ||
			   !strcmp(st, "authenticating") ||
			   !strcmp(st, "half-open")))
			half++;
	}
	snprintf(buf, sizeof(buf), "%u",
		 strstr(args->xpath, "half-open") ? half : total);
	return yang_data_new(args->xpath, buf);
}
