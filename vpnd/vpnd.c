// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: configuration objects (policies, connections) and built-in policies.
 */
#include <zebra.h>

#include <sodium.h>

#include "lib/memory.h"
#include "lib/log.h"

#include "vpnd.h"
#include "vpnd_conn.h"

DEFINE_MGROUP(VPND, "vpnd");
DEFINE_MTYPE_STATIC(VPND, VPN_POLICY, "VPN policy");
DEFINE_MTYPE_STATIC(VPND, VPN_CONN, "VPN connection");
DEFINE_MTYPE_STATIC(VPND, VPN_TS, "VPN traffic selectors");

struct vpn_globals vpn;

#define DOS(y, j, f) { y, j, offsetof(struct ike_dos_config, f) }
const struct vpn_dos_field vpn_dos_fields[] = {
	DOS("cookie-threshold", "cookieThreshold", cookie_threshold),
	DOS("cookie-threshold-per-address", "cookieThresholdPerAddress",
	    cookie_threshold_ip),
	DOS("block-threshold", "blockThreshold", block_threshold),
	DOS("half-open-limit", "halfOpenLimit", half_open_limit),
	DOS("peer-sa-limit", "peerSaLimit", peer_sa_limit),
	DOS("cookie-secret-lifetime", "cookieSecretLifetime",
	    cookie_lifetime_s),
	DOS("max-packet", "maxPacket", max_packet),
};
const unsigned int vpn_dos_nfields = array_size(vpn_dos_fields);
/* A field added to struct ike_dos_config needs its line above (and its
 * leaf in yang/vpnd.yang). */
_Static_assert(sizeof(vpn_dos_fields) / sizeof(vpn_dos_fields[0]) *
			       sizeof(unsigned int) ==
		       sizeof(struct ike_dos_config),
	       "vpn_dos_fields must name every field of struct ike_dos_config");

/*
 * Built-in policies. Cloud defaults come from ../shared/reference
 * (cloud-gateways.md sections 1 and 6): Azure's route-based default
 * Main Mode and Quick Mode initiator offers in preference order, AWS's
 * default of every allowed algorithm and group.
 */
struct builtin_def {
	const char *name;
	uint32_t lifetime_s;
	uint32_t lifetime_kb;
	const char *proposals[VPN_POLICY_MAX_PROPOSALS];
};

#define AWS_GROUPS                                                             \
	"modp1024-modp2048-modp3072-modp4096-ecp256-ecp384-ecp521"

static const struct builtin_def ike_builtins[] = {
	{
		.name = "default",
		.lifetime_s = 28800,
		.proposals = {
			"aes256gcm16-aes128gcm16-chacha20poly1305-prfsha256-prfsha384-prfsha512-x25519-ecp256-ecp384-modp2048",
			"aes256-aes128-sha256-sha384-sha512-x25519-ecp256-ecp384-modp2048",
		},
	},
	{
		.name = "azure-default",
		.lifetime_s = 28800,
		.proposals = {
			"aes256-sha1-modp1024",
			"aes256-sha256-modp1024",
			"aes128-sha1-modp1024",
			"aes128-sha256-modp1024",
			"3des-sha1-modp1024",
			"3des-sha256-modp1024",
		},
	},
	{
		.name = "aws-default",
		.lifetime_s = 28800,
		.proposals = {
			"aes128-aes256-sha1-sha256-sha384-sha512-" AWS_GROUPS,
			"aes128gcm16-aes256gcm16-prfsha1-prfsha256-prfsha384-prfsha512-" AWS_GROUPS,
		},
	},
};

static const struct builtin_def esp_builtins[] = {
	{
		.name = "default",
		.lifetime_s = 27000,
		.lifetime_kb = 102400000,
		.proposals = {
			"aes256gcm16-aes128gcm16-chacha20poly1305",
			"aes256-aes128-sha256-sha384-sha512",
		},
	},
	{
		.name = "azure-default",
		.lifetime_s = 27000,
		.lifetime_kb = 102400000,
		.proposals = {
			"aes256gcm16",
			"aes256-sha1",
			"3des-sha1",
			"aes256-sha256",
			"aes128-sha1",
			"3des-sha256",
		},
	},
	{
		.name = "aws-default",
		.lifetime_s = 3600,
		.lifetime_kb = 0,
		.proposals = {
			"aes128-aes256-sha1-sha256-sha384-sha512-" AWS_GROUPS,
			"aes128gcm16-aes256gcm16-" AWS_GROUPS,
		},
	},
};

#define NBUILTINS (sizeof(ike_builtins) / sizeof(ike_builtins[0]))

static struct vpn_policy builtin_ike[NBUILTINS];
static struct vpn_policy builtin_esp[NBUILTINS];

static void builtins_load(const struct builtin_def *defs,
			  struct vpn_policy *out, enum vpn_proposal_kind kind)
{
	for (size_t i = 0; i < NBUILTINS; i++) {
		struct vpn_policy *pol = &out[i];

		memset(pol, 0, sizeof(*pol));
		strlcpy(pol->name, defs[i].name, sizeof(pol->name));
		pol->kind = kind;
		pol->builtin = true;
		pol->lifetime_s = defs[i].lifetime_s;
		pol->lifetime_kb = defs[i].lifetime_kb;
		for (size_t j = 0; j < VPN_POLICY_MAX_PROPOSALS; j++) {
			char err[512];

			if (!defs[i].proposals[j])
				break;
			/* The table is ours: a bad entry is a build bug. */
			if (vpn_proposal_parse(defs[i].proposals[j], kind,
					       &pol->proposals[pol->nproposals],
					       err, sizeof(err)) < 0) {
				zlog_err("built-in policy %s: %s", pol->name,
					 err);
				assert(0);
			}
			pol->nproposals++;
		}
	}
}

const struct vpn_policy *vpn_policy_builtins(enum vpn_proposal_kind kind,
					     size_t *count)
{
	*count = NBUILTINS;
	return kind == VPN_PROPOSAL_IKE ? builtin_ike : builtin_esp;
}

const struct vpn_policy *vpn_policy_builtin(enum vpn_proposal_kind kind,
					    const char *name)
{
	size_t n;
	const struct vpn_policy *tbl = vpn_policy_builtins(kind, &n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(tbl[i].name, name) == 0)
			return &tbl[i];
	return NULL;
}

struct vpn_policies_head *vpn_policy_head(enum vpn_proposal_kind kind)
{
	return kind == VPN_PROPOSAL_IKE ? &vpn.ike_policies
					: &vpn.ipsec_policies;
}

struct vpn_policy *vpn_policy_lookup(enum vpn_proposal_kind kind,
				     const char *name)
{
	struct vpn_policy key;

	strlcpy(key.name, name, sizeof(key.name));
	return vpn_policies_find(vpn_policy_head(kind), &key);
}

const struct vpn_policy *vpn_policy_resolve(enum vpn_proposal_kind kind,
					    const char *name)
{
	const struct vpn_policy *pol = vpn_policy_lookup(kind, name);

	return pol ? pol : vpn_policy_builtin(kind, name);
}

struct vpn_policy *vpn_policy_create(enum vpn_proposal_kind kind,
				     const char *name)
{
	struct vpn_policy *pol = XCALLOC(MTYPE_VPN_POLICY, sizeof(*pol));

	strlcpy(pol->name, name, sizeof(pol->name));
	pol->kind = kind;
	vpn_policies_add(vpn_policy_head(kind), pol);
	return pol;
}

void vpn_policy_changed(const struct vpn_policy *pol)
{
	struct vpn_connection *conn;

	frr_each (vpn_conns, &vpn.conns, conn) {
		const char *name = pol->kind == VPN_PROPOSAL_IKE
					   ? conn->ike_policy
					   : conn->ipsec_policy;

		if (strcmp(name, pol->name) == 0)
			vpn_connection_update(conn);
	}
}

void vpn_policy_delete(struct vpn_policy *pol)
{
	vpn_policies_del(vpn_policy_head(pol->kind), pol);
	XFREE(MTYPE_VPN_POLICY, pol);
}

struct vpn_connection *vpn_connection_lookup(const char *name)
{
	struct vpn_connection key;

	strlcpy(key.name, name, sizeof(key.name));
	return vpn_conns_find(&vpn.conns, &key);
}

struct vpn_connection *vpn_connection_create(const char *name)
{
	struct vpn_connection *conn = XCALLOC(MTYPE_VPN_CONN, sizeof(*conn));

	strlcpy(conn->name, name, sizeof(conn->name));
	strlcpy(conn->ike_policy, VPN_POLICY_DEFAULT, sizeof(conn->ike_policy));
	strlcpy(conn->ipsec_policy, VPN_POLICY_DEFAULT,
		sizeof(conn->ipsec_policy));
	conn->state = VPN_STATE_INCOMPLETE;
	vpn_conns_add(&vpn.conns, conn);
	return conn;
}

void vpn_connection_delete(struct vpn_connection *conn)
{
	vpn_conn_delete(conn);
	vpn_conns_del(&vpn.conns, conn);
	XFREE(MTYPE_VPN_TS, conn->ts);
	XFREE(MTYPE_VPN_TS, conn->routes);
	XFREE(MTYPE_VPN_TS, conn->accept);
	sodium_memzero(conn, sizeof(*conn));
	XFREE(MTYPE_VPN_CONN, conn);
}

/* Replace *dst (n elements of size) with a copy of src. */
static void array_set(void **dst, unsigned int *n, const void *src,
		      unsigned int count, size_t size)
{
	XFREE(MTYPE_VPN_TS, *dst);
	*n = count;
	if (count) {
		*dst = XCALLOC(MTYPE_VPN_TS, count * size);
		memcpy(*dst, src, count * size);
	}
}

void vpn_connection_set_ts(struct vpn_connection *conn,
			   const struct vpn_ts *ts, unsigned int nts)
{
	array_set((void **)&conn->ts, &conn->nts, ts, nts, sizeof(*ts));
}

void vpn_connection_set_routes(struct vpn_connection *conn,
			       const struct prefix *routes, unsigned int n)
{
	array_set((void **)&conn->routes, &conn->nroutes, routes, n,
		  sizeof(*routes));
}

void vpn_connection_set_accept(struct vpn_connection *conn,
			       const struct prefix *accept, unsigned int n)
{
	array_set((void **)&conn->accept, &conn->naccept, accept, n,
		  sizeof(*accept));
}

void vpn_connection_set_psk(struct vpn_connection *conn, const char *psk)
{
	sodium_memzero(conn->psk, sizeof(conn->psk));
	if (psk)
		strlcpy(conn->psk, psk, sizeof(conn->psk));
}

/* Why a complete connection still cannot negotiate (NULL: it can). */
static const char *conn_unusable(const struct vpn_connection *conn,
				 const struct vpn_policy **ike,
				 const struct vpn_policy **esp)
{
	uint8_t type, id[VPN_ID_MAX];
	size_t len;

	*ike = vpn_policy_resolve(VPN_PROPOSAL_IKE, conn->ike_policy);
	*esp = vpn_policy_resolve(VPN_PROPOSAL_ESP, conn->ipsec_policy);
	if (!*ike || (*ike)->nproposals == 0)
		return "ike-policy has no proposals";
	if (!*esp || (*esp)->nproposals == 0)
		return "ipsec-policy has no proposals";
	if (conn->local_id[0] && ike_id_parse(conn->local_id, &type, id, &len) < 0)
		return "bad local-id";
	if (conn->remote_id[0] &&
	    ike_id_parse(conn->remote_id, &type, id, &len) < 0)
		return "bad remote-id";
	return NULL;
}

/* Why the connection is incomplete (NULL: it is not). */
static const char *conn_incomplete(const struct vpn_connection *conn)
{
	if (!conn->has_remote)
		return "no remote-address";
	if (!conn->psk[0])
		return "no pre-shared-key";
	if (!conn->ifname[0])
		return "no interface";
	return NULL;
}

void vpn_connection_update(struct vpn_connection *conn)
{
	const struct vpn_policy *ike = NULL, *esp = NULL;

	conn->state_reason = NULL;
	if (conn->shutdown) {
		conn->state = VPN_STATE_SHUTDOWN;
		vpn_conn_update(conn, NULL, NULL);
		return;
	}
	conn->state_reason = conn_incomplete(conn);
	if (!conn->state_reason)
		conn->state_reason = conn_unusable(conn, &ike, &esp);
	if (conn->state_reason) {
		conn->state = VPN_STATE_INCOMPLETE;
		vpn_conn_update(conn, NULL, NULL);
		return;
	}
	conn->state = VPN_STATE_IDLE;
	vpn_conn_update(conn, ike, esp);
}

void vpn_set_dos(const struct ike_dos_config *cfg)
{
	vpn.dos = *cfg;
	vpn_conn_set_dos(&vpn.dos);
}

const char *vpn_conn_state_str(enum vpn_conn_state state)
{
	static const char *const names[] = {
		[VPN_STATE_SHUTDOWN] = "shutdown",
		[VPN_STATE_INCOMPLETE] = "incomplete",
		[VPN_STATE_IDLE] = "idle",
		[VPN_STATE_CONNECTING] = "connecting",
		[VPN_STATE_ESTABLISHED] = "established",
	};

	return (size_t)state < array_size(names) ? names[state] : "unknown";
}

const char *vpn_conn_mode_str(enum vpn_conn_mode mode)
{
	static const char *const names[] = {
		[VPN_MODE_DEFAULT] = "default",
		[VPN_MODE_INITIATOR_ONLY] = "initiator-only",
		[VPN_MODE_RESPONDER_ONLY] = "responder-only",
	};

	return (size_t)mode < array_size(names) ? names[mode] : "unknown";
}

void vpn_init(void)
{
	vpn_policies_init(&vpn.ike_policies);
	vpn_policies_init(&vpn.ipsec_policies);
	vpn_conns_init(&vpn.conns);
	builtins_load(ike_builtins, builtin_ike, VPN_PROPOSAL_IKE);
	builtins_load(esp_builtins, builtin_esp, VPN_PROPOSAL_ESP);
	ike_dos_defaults(&vpn.dos);
}

void vpn_clear(void)
{
	struct vpn_connection *conn;
	struct vpn_policy *pol;
	struct ike_dos_config dos;

	while ((conn = vpn_conns_first(&vpn.conns)))
		vpn_connection_delete(conn);
	while ((pol = vpn_policies_first(&vpn.ike_policies)))
		vpn_policy_delete(pol);
	while ((pol = vpn_policies_first(&vpn.ipsec_policies)))
		vpn_policy_delete(pol);
	/* Without 'vpn' the engine keeps defending itself, with the
	 * defaults. */
	ike_dos_defaults(&dos);
	vpn_set_dos(&dos);
	vpn.configured = false;
}

void vpn_terminate(void)
{
	vpn_clear();
	vpn_conns_fini(&vpn.conns);
	vpn_policies_fini(&vpn.ike_policies);
	vpn_policies_fini(&vpn.ipsec_policies);
}
