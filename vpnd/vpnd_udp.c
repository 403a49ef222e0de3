// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: the UDP socket layer (see vpnd_udp.h).
 *
 * One socket per port and family, shared by all connections: port 500
 * for IKE_SA_INIT, port 4500 for everything after it (IKE behind the
 * non-ESP marker, ESP in UDP, NAT keepalives). Each is read on the main
 * thread in batches (recvmmsg) and every datagram dispatched by content.
 */
#include <zebra.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/privs.h"
#include "lib/sockopt.h"

#include "vpnd_udp.h"
#include "vpnd_util.h"

#define UDP_BUFSIZE (4 * 1024 * 1024) /* the datapath shares 4500 */
#define UDP_READ_ROUNDS 4	      /* batches per wake-up */

struct vpn_sock {
	int fd;
	int family;
	uint16_t port;
	struct thread *t_read;
};

/* Room for one IP_PKTINFO or IPV6_PKTINFO control message. */
union pktinfo_cbuf {
	char v4[CMSG_SPACE(sizeof(struct in_pktinfo))];
	char v6[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};

static struct thread_master *udp_master;
static vpn_udp_rx_fn ike_receiver, esp_receiver;
static struct vpn_sock socks[4] = {
	{ -1, AF_INET, IKE_PORT },
	{ -1, AF_INET, IKE_NATT_PORT },
	{ -1, AF_INET6, IKE_PORT },
	{ -1, AF_INET6, IKE_NATT_PORT },
};

void vpn_udp_set_ike_receiver(vpn_udp_rx_fn fn)
{
	ike_receiver = fn;
}

void vpn_udp_set_esp_receiver(vpn_udp_rx_fn fn)
{
	esp_receiver = fn;
}

void vpn_udp_ike_input(const struct ike_addr *local,
		       const struct ike_addr *remote, uint8_t *buf, size_t len)
{
	if (ike_receiver)
		ike_receiver(local, remote, buf, len);
}

int vpn_udp_source_for(const struct ike_addr *remote, struct ike_addr *local)
{
	struct sockaddr_storage ss, me;
	struct ike_addr to = *remote;
	socklen_t len, mlen = sizeof(me);
	int fd = socket(remote->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = -1;

	if (fd < 0)
		return -1;
	to.port = IKE_PORT;
	len = vpn_sockaddr_from(&ss, &to);
	if (connect(fd, (struct sockaddr *)&ss, len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&me, &mlen) == 0) {
		vpn_addr_from_sockaddr(local, &me);
		ret = 0;
	}
	close(fd);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

static struct vpn_sock *sock_for(uint8_t family, uint16_t port)
{
	for (size_t i = 0; i < array_size(socks); i++)
		if (socks[i].family == family && socks[i].port == port &&
		    socks[i].fd >= 0)
			return &socks[i];
	return NULL;
}

/* Control message choosing the source address: the connection's own. */
static void pktinfo_set(struct msghdr *msg, union pktinfo_cbuf *cbuf,
			const struct ike_addr *local)
{
	bool v4 = local->family == AF_INET;
	size_t len = v4 ? sizeof(struct in_pktinfo)
			: sizeof(struct in6_pktinfo);
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(*cbuf));
	msg->msg_control = cbuf;
	msg->msg_controllen = CMSG_SPACE(len);
	cm = CMSG_FIRSTHDR(msg);
	cm->cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
	cm->cmsg_type = v4 ? IP_PKTINFO : IPV6_PKTINFO;
	cm->cmsg_len = CMSG_LEN(len);
	if (v4)
		memcpy(&((struct in_pktinfo *)CMSG_DATA(cm))->ipi_spec_dst,
		       local->addr, 4);
	else
		memcpy(&((struct in6_pktinfo *)CMSG_DATA(cm))->ipi6_addr,
		       local->addr, 16);
}

int vpn_udp_send(const struct ike_addr *local, const struct ike_addr *remote,
		 const uint8_t *buf, size_t len, bool marker)
{
	struct vpn_sock *s = sock_for(remote->family, local->port);
	static const uint8_t zero[4];
	struct sockaddr_storage to;
	struct iovec iov[2];
	struct msghdr msg = {};
	union pktinfo_cbuf cbuf;
	int n = 0;

	if (!s)
		return -1;
	if (marker)
		iov[n++] = (struct iovec){ (void *)zero, 4 };
	iov[n++] = (struct iovec){ (void *)buf, len };
	msg.msg_name = &to;
	msg.msg_namelen = vpn_sockaddr_from(&to, remote);
	msg.msg_iov = iov;
	msg.msg_iovlen = n;
	pktinfo_set(&msg, &cbuf, local);
	return sendmsg(s->fd, &msg, MSG_DONTWAIT) < 0 ? -1 : 0;
}

int vpn_udp_send_batch(const struct ike_addr *local,
		       const struct ike_addr *remote, struct iovec *pkts,
		       unsigned int n)
{
	struct vpn_sock *s = sock_for(remote->family, local->port);
	struct mmsghdr msgs[VPN_UDP_BATCH];
	struct sockaddr_storage to;
	socklen_t tolen;
	union pktinfo_cbuf cbuf;
	struct msghdr proto = {};
	unsigned int done = 0;

	if (!s || n == 0)
		return -1;
	tolen = vpn_sockaddr_from(&to, remote);
	pktinfo_set(&proto, &cbuf, local);
	if (n > VPN_UDP_BATCH)
		n = VPN_UDP_BATCH;
	for (unsigned int i = 0; i < n; i++) {
		msgs[i].msg_hdr = proto;
		msgs[i].msg_hdr.msg_name = &to;
		msgs[i].msg_hdr.msg_namelen = tolen;
		msgs[i].msg_hdr.msg_iov = &pkts[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_len = 0;
	}
	while (done < n) {
		int r = sendmmsg(s->fd, msgs + done, n - done, MSG_DONTWAIT);

		if (r <= 0)
			return -1; /* socket full: the rest is dropped */
		done += (unsigned int)r;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sockets                                                             */
/* ------------------------------------------------------------------ */

/* A non-blocking UDP socket bound to `at` (with privileges: ports 500 and
 * 4500), large buffers, address reuse; -1 on failure (errno set). */
static int udp_socket_bound(const struct ike_addr *at, bool reuseport)
{
	struct sockaddr_storage ss;
	int on = 1, ret = -1, err;
	int fd = socket(at->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
	if (at->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	setsockopt_so_recvbuf(fd, UDP_BUFSIZE);
	setsockopt_so_sendbuf(fd, UDP_BUFSIZE);
	frr_with_privs (&vpnd_privs) {
		ret = bind(fd, (struct sockaddr *)&ss,
			   vpn_sockaddr_from(&ss, at));
	}
	if (ret < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* A socket of one tunnel: bound to local (port included) beside the
 * shared socket, connected to remote, so that the kernel gives it that
 * peer's datagrams (a connected socket outranks the shared one). */
int vpn_udp_open_connected(const struct ike_addr *local,
			   const struct ike_addr *remote)
{
	struct sockaddr_storage ss;
	int fd = udp_socket_bound(local, true);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&ss,
			       vpn_sockaddr_from(&ss, remote)) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		zlog_warn("vpnd: cannot open a connected UDP socket (%s)",
			  safe_strerror(errno));
	return fd;
}

/* One datagram from a shared socket: by port and content. */
static void sock_dispatch(struct vpn_sock *s, struct msghdr *msg,
			  uint8_t *buf, size_t n)
{
	struct ike_addr local = { .family = s->family, .port = s->port },
			remote;

	vpn_addr_from_sockaddr(&remote, msg->msg_name);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm;
	     cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO)
			memcpy(local.addr,
			       &((struct in_pktinfo *)CMSG_DATA(cm))->ipi_addr,
			       4);
		else if (cm->cmsg_level == IPPROTO_IPV6 &&
			 cm->cmsg_type == IPV6_PKTINFO)
			memcpy(local.addr,
			       &((struct in6_pktinfo *)CMSG_DATA(cm))
					->ipi6_addr,
			       16);
	}
	if (s->port != IKE_NATT_PORT) {
		vpn_udp_ike_input(&local, &remote, buf, n);
		return;
	}
	if (n == 1 && buf[0] == 0xff)
		return; /* NAT keepalive */
	if (n >= 4 && !buf[0] && !buf[1] && !buf[2] && !buf[3])
		vpn_udp_ike_input(&local, &remote, buf + 4, n - 4);
	else if (n >= 8 && esp_receiver)
		esp_receiver(&local, &remote, buf, n);
}

static void sock_read(struct thread *t);

static void sock_schedule(struct vpn_sock *s)
{
	thread_add_read(udp_master, sock_read, s, s->fd, &s->t_read);
}

/* Receive batches of datagrams (recvmmsg) per wake-up. */
static void sock_read(struct thread *t)
{
	struct vpn_sock *s = THREAD_ARG(t);
	/* Every slot takes any datagram: a truncated one is lost, and IKE
	 * messages up to the engine's max-packet (10000 bytes by default,
	 * configurable up to 64 KiB) must arrive whole. Pages are touched
	 * only as far as datagrams fill them. */
	static uint8_t bufs[VPN_UDP_BATCH][65536];
	static struct sockaddr_storage from[VPN_UDP_BATCH];
	static union pktinfo_cbuf cbuf[VPN_UDP_BATCH];
	struct mmsghdr msgs[VPN_UDP_BATCH];
	struct iovec iov[VPN_UDP_BATCH];

	for (int round = 0; round < UDP_READ_ROUNDS; round++) {
		int n;

		for (int i = 0; i < VPN_UDP_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			msgs[i].msg_hdr = (struct msghdr){
				.msg_name = &from[i],
				.msg_namelen = sizeof(from[i]),
				.msg_iov = &iov[i],
				.msg_iovlen = 1,
				.msg_control = &cbuf[i],
				.msg_controllen = sizeof(cbuf[i]),
			};
		}
		n = recvmmsg(s->fd, msgs, VPN_UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue;
			sock_dispatch(s, &msgs[i].msg_hdr, iov[i].iov_base,
				      msgs[i].msg_len);
		}
		if (n < VPN_UDP_BATCH)
			break;
	}
	sock_schedule(s);
}

static void sock_open(struct vpn_sock *s)
{
	struct ike_addr any = { .family = s->family, .port = s->port };
	int on = 1;

	s->fd = udp_socket_bound(&any, false);
	if (s->fd < 0) {
		zlog_warn("vpnd: cannot open UDP port %u for %s (%s)", s->port,
			  s->family == AF_INET ? "IPv4" : "IPv6",
			  safe_strerror(errno));
		return;
	}
	if (s->family == AF_INET)
		setsockopt(s->fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
	else
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
			   sizeof(on));
	sock_schedule(s);
}

void vpn_udp_init(struct thread_master *master)
{
	udp_master = master;
	for (size_t i = 0; i < array_size(socks); i++)
		sock_open(&socks[i]);
}

void vpn_udp_terminate(void)
{
	for (size_t i = 0; i < array_size(socks); i++) {
		thread_cancel(&socks[i].t_read);
		if (socks[i].fd >= 0)
			close(socks[i].fd);
		socks[i].fd = -1;
	}
	ike_receiver = esp_receiver = NULL;
}
