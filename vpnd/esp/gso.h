/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: TCP and UDP segmentation of the super-packets a TUN device with
 * IFF_VNET_HDR and TUNSETOFFLOAD hands over (the kernel's TSO and USO,
 * done in user space), and checksum completion of the packets it leaves
 * partial. Each segment is an ordinary IP packet that ESP then carries on
 * its own. And TCP coalescing of received packets into super-packets for
 * the kernel (GRO).
 *
 * The virtio_net_hdr fields are in the machine's byte order (TUN's
 * default, TUNSETVNETLE/BE unset). Pure functions over caller buffers:
 * no allocation, safe on any input (a malformed packet is refused).
 */
#ifndef VPND_ESP_GSO_H
#define VPND_ESP_GSO_H

#include <stddef.h>
#include <stdint.h>

/* struct virtio_net_hdr (linux/virtio_net.h), as TUN prepends it. */
struct vpn_vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

#define VPN_VNET_HDR_LEN 10
#define VPN_VNET_F_NEEDS_CSUM 1
#define VPN_VNET_GSO_NONE 0
#define VPN_VNET_GSO_TCPV4 1
#define VPN_VNET_GSO_UDP 3 /* UFO: not offered, refused */
#define VPN_VNET_GSO_TCPV6 4
#define VPN_VNET_GSO_UDP_L4 5
#define VPN_VNET_GSO_ECN 0x80

/* The largest packet a TUN read returns after its header. */
#define VPN_GSO_MAX_PACKET 65535

/*
 * Split the packet pkt (len bytes, read after the header vh) into
 * segments: segment i is written at out + i * stride (at most stride
 * bytes) and its length put in lens[i]. A packet without GSO is one
 * segment, its checksum completed when vh asks for it. Returns the number
 * of segments, or -1 when the packet is malformed, of a kind vpnd does
 * not offer to take (UFO, ECN), or needs more than max segments or
 * segments longer than stride.
 *
 * Each segment gets the headers of the super-packet with its own IPv4
 * total length, identification (+1 per segment) and header checksum, or
 * IPv6 payload length; TCP: its sequence number, FIN and PSH only on the
 * last segment, CWR only on the first; UDP: its length; and a complete
 * TCP or UDP checksum. The kernel's hdr_len is not trusted: the headers
 * are measured from the packet.
 */
int vpn_gso_split(const struct vpn_vnet_hdr *vh, const uint8_t *pkt,
		  size_t len, uint8_t *out, size_t stride, unsigned int max,
		  uint16_t *lens);
/* The same with segments at most maxlen (<= stride) bytes long, stride
 * bytes apart. */
int vpn_gso_split_max(const struct vpn_vnet_hdr *vh, const uint8_t *pkt,
		      size_t len, uint8_t *out, size_t stride, size_t maxlen,
		      unsigned int max, uint16_t *lens);

/*
 * The other way: decrypted packets coalesced into super-packets for a TUN
 * write (GRO in user space), so that the kernel's TCP takes few large
 * packets. TCP segments of one flow (IPv4 without options, or IPv6
 * without extension headers) merge when they follow each other in
 * sequence, carry the same ACK, window, options and header fields, bear
 * ACK and nothing else but PSH on the last one, have valid checksums (a
 * merged packet's checksums are new, so a damaged segment must not hide
 * in one), no IPv4 flag but DF, and are all gso_size long but the last,
 * which may be shorter; up to 65535 bytes. Anything else goes as it came.
 */
struct vpn_gro_in {
	const uint8_t *pkt;
	uint16_t len;
};

struct vpn_gro_out {
	struct vpn_vnet_hdr vh; /* all zero for a packet as it came */
	const uint8_t *pkt;	/* the input's, or a super-packet in buf */
	uint16_t len;
	uint16_t nseg; /* input packets in it */
};

/* Coalesce n packets (in the order received) into outputs, in the order
 * of each one's first packet; a flow's packets keep their order. Merged
 * packets are built in buf (bufsize bytes; when full, packets go as they
 * came). Returns the number of outputs (at most n). */
unsigned int vpn_gro_tcp(const struct vpn_gro_in *in, unsigned int n,
			 struct vpn_gro_out *out, uint8_t *buf,
			 size_t bufsize);

/* One's-complement sum of data (RFC 1071), added to sum, not folded. */
uint32_t vpn_csum_add(uint32_t sum, const uint8_t *data, size_t len);
/* Fold a sum to 16 bits and complement it: the checksum field's value
 * (in network byte order when stored with memcpy of the big-endian
 * result). */
uint16_t vpn_csum_fold(uint32_t sum);

#endif
