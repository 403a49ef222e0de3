/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: everything that talks to zebra.
 */
#ifndef VPND_ZEBRA_H
#define VPND_ZEBRA_H

#include "thread.h"

void vpn_zebra_init(struct thread_master *master);
void vpn_zebra_stop(void);

#endif /* VPND_ZEBRA_H */
