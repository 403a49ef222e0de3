// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: deleting many network interfaces at once (vpnd_link.h).
 *
 * A non-persistent TUN device goes when its last fd closes, but each
 * goes on its own: the kernel waits for RCU once per device, about 20 ms
 * here, so 1000 tunnels took 18 s to remove at shutdown. The kernel
 * deletes an interface group in one batch (RTM_DELLINK with IFLA_GROUP):
 * the interfaces are moved to a group no other interface uses, and that
 * group is deleted, 0.3 s for 1000.
 *
 * rtnetlink over a plain socket: a dump of the links (which groups are in
 * use), a batch of RTM_NEWLINK setting the group, one RTM_DELLINK.
 */
#include <zebra.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "lib/log.h"
#include "lib/memory.h"
#include "lib/privs.h"

#include "vpnd.h"
#include "vpnd_link.h"

DEFINE_MTYPE_STATIC(VPND, VPN_LINK, "VPN interface batch");

/* Where the search for an unused group starts ("vpnd"). */
#define LINK_GROUP_BASE 0x76706e64u
#define NL_BUF (64 * 1024)

struct nl {
	int fd;
	int err; /* the last errno, or netlink error */
	uint32_t seq;
	uint8_t *buf;
};

static bool nl_open(struct nl *nl)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	nl->seq = 1;
	nl->err = 0;
	nl->buf = XMALLOC(MTYPE_VPN_LINK, NL_BUF);
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd >= 0 && bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return true;
	if (nl->fd >= 0)
		close(nl->fd);
	XFREE(MTYPE_VPN_LINK, nl->buf);
	return false;
}

static void nl_close(struct nl *nl)
{
	close(nl->fd);
	XFREE(MTYPE_VPN_LINK, nl->buf);
}

/* Append a link message (ifindex, with IFLA_GROUP = group) to buf at
 * *off. */
static void nl_put_link(uint8_t *buf, size_t *off, uint16_t type,
			uint16_t flags, uint32_t seq, int ifindex,
			uint32_t group)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(buf + *off);
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct rtattr *rta;

	memset(h, 0, NLMSG_SPACE(sizeof(*ifi)) + RTA_SPACE(4));
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = seq;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	rta = (struct rtattr *)((uint8_t *)h + NLMSG_ALIGN(h->nlmsg_len));
	rta->rta_type = IFLA_GROUP;
	rta->rta_len = RTA_LENGTH(4);
	memcpy(RTA_DATA(rta), &group, 4);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_SPACE(4);
	*off += NLMSG_ALIGN(h->nlmsg_len);
}

static bool nl_send(struct nl *nl, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	ssize_t r = -1;

	frr_with_privs (&vpnd_privs) {
		r = sendto(nl->fd, nl->buf, len, 0, (struct sockaddr *)&sa,
			   sizeof(sa));
	}
	if (r != (ssize_t)len)
		nl->err = r < 0 ? errno : EMSGSIZE;
	return r == (ssize_t)len;
}

static void group_add(uint32_t *used, unsigned int *nused,
		      unsigned int maxused, const void *data)
{
	uint32_t g;

	memcpy(&g, data, sizeof(g));
	for (unsigned int i = 0; i < *nused; i++)
		if (used[i] == g)
			return;
	if (*nused < maxused)
		used[(*nused)++] = g;
}

/*
 * Read answers until `acks` acknowledgements (or errors) have come, or a
 * dump is done (acks 0). For a dump, each link's group is offered to
 * `used` unless the link is one of ours. Returns the number of errors, -1
 * when the socket fails.
 */
static int nl_recv(struct nl *nl, unsigned int acks, const int *ours,
		   unsigned int n, uint32_t *used, unsigned int *nused,
		   unsigned int maxused)
{
	int errors = 0;

	for (;;) {
		ssize_t len = recv(nl->fd, nl->buf, NL_BUF, 0);
		struct nlmsghdr *h = (struct nlmsghdr *)nl->buf;

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0) {
			nl->err = len < 0 ? errno : EPIPE;
			return -1;
		}
		for (; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			struct ifinfomsg *ifi = NLMSG_DATA(h);
			struct rtattr *rta;
			int rlen;
			bool mine = false;

			if (h->nlmsg_type == NLMSG_DONE)
				return errors;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (e->error) {
					errors++;
					nl->err = -e->error;
				}
				if (acks && --acks == 0)
					return errors;
				continue;
			}
			if (h->nlmsg_type != RTM_NEWLINK || !used)
				continue;
			for (unsigned int i = 0; i < n; i++)
				mine |= ours[i] == ifi->ifi_index;
			rlen = IFLA_PAYLOAD(h);
			for (rta = IFLA_RTA(ifi); RTA_OK(rta, rlen);
			     rta = RTA_NEXT(rta, rlen))
				if (rta->rta_type == IFLA_GROUP && !mine)
					group_add(used, nused, maxused,
						  RTA_DATA(rta));
		}
	}
}

/* A group no interface but ours is in; 0 when none can be told. */
static uint32_t unused_group(struct nl *nl, const int *ifindex,
			     unsigned int n)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg ifi;
	} req = {
		.h.nlmsg_len = sizeof(req),
		.h.nlmsg_type = RTM_GETLINK,
		.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.h.nlmsg_seq = nl->seq++,
		.ifi.ifi_family = AF_UNSPEC,
	};
	uint32_t used[256], g = LINK_GROUP_BASE;
	unsigned int nused = 0;
	bool clash = true;

	memcpy(nl->buf, &req, sizeof(req));
	if (!nl_send(nl, sizeof(req)) ||
	    nl_recv(nl, 0, ifindex, n, used, &nused, array_size(used)) < 0 ||
	    nused == array_size(used))
		return 0;
	while (clash) {
		clash = false;
		for (unsigned int i = 0; i < nused; i++)
			if (used[i] == g) {
				clash = true;
				g++;
			}
	}
	return g;
}

/* Move the interfaces into group g, in batches. */
static bool set_group(struct nl *nl, const int *ifindex, unsigned int n,
		      uint32_t g)
{
	unsigned int i = 0;

	while (i < n) {
		unsigned int acks = 0;
		size_t off = 0;

		/* batches small enough that the answers fit in the socket's
		 * receive buffer */
		for (; i < n && acks < 128; i++, acks++)
			nl_put_link(nl->buf, &off, RTM_NEWLINK, NLM_F_ACK,
				    nl->seq++, ifindex[i], g);
		if (!nl_send(nl, off) ||
		    nl_recv(nl, acks, NULL, 0, NULL, NULL, 0) != 0)
			return false;
	}
	return true;
}

int vpn_links_delete(const int *ifindex, unsigned int n)
{
	struct nl nl;
	uint32_t g;
	size_t off = 0;
	int ret = -1;

	if (n == 0)
		return 0;
	if (!nl_open(&nl))
		return -1;
	const char *step = "no unused interface group";

	g = unused_group(&nl, ifindex, n);
	if (g) {
		step = "setting the group";
		if (set_group(&nl, ifindex, n, g)) {
			step = "deleting the group";
			nl_put_link(nl.buf, &off, RTM_DELLINK, NLM_F_ACK,
				    nl.seq++, 0, g);
			if (nl_send(&nl, off) &&
			    nl_recv(&nl, 1, NULL, 0, NULL, NULL, 0) == 0)
				ret = 0;
		}
	}
	if (ret < 0)
		zlog_warn("interfaces: batch delete of %u failed (%s: %s); they go one by one",
			  n, step, safe_strerror(nl.err));
	nl_close(&nl);
	return ret;
}
