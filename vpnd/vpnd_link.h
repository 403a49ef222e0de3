// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: network interfaces deleted in one batch (rtnetlink), where
 * closing a TUN device's fd deletes it alone and slowly.
 */
#ifndef VPND_LINK_H
#define VPND_LINK_H

/* Delete the interfaces with these ifindexes at once: they are moved to
 * an interface group nothing else is in, and the group is deleted. 0 on
 * success; -1 when it could not be done (the caller's fds still delete
 * them one by one). Main thread; needs CAP_NET_ADMIN (raised here). */
int vpn_links_delete(const int *ifindex, unsigned int n);

#endif
