// SPDX-License-Identifier: GPL-2.0-or-later
/* vpnd: IKEv2 message encoding and decoding (see message.h). */
#include "message.h"
