// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: daemon start-up, signals and shutdown.
 */
#include <zebra.h>

#include <lib/version.h>
#include <sodium.h>

#include "getopt.h"
#include "thread.h"
#include "command.h"
#include "log.h"
#include "memory.h"
#include "privs.h"
#include "sigevent.h"
#include "libfrr.h"
#include "vrf.h"
#include "if.h"

#include "vpnd.h"
#include "vpnd_nb.h"
#include "vpnd_vty.h"
#include "vpnd_zebra.h"
#include "vpnd_ike.h"
#include "vpnd_tunnel.h"
#include "vpnd_dp.h"
#include "crypto/crypto.h"

#define VPND_VTY_PORT 2630

static zebra_capabilities_t vpnd_caps[] = {
	ZCAP_NET_ADMIN,	  /* TUN devices, interface flags */
	ZCAP_BIND,	  /* UDP 500 and 4500 */
	ZCAP_NET_RAW,	  /* SO_BINDTODEVICE on the underlay */
	ZCAP_DAC_OVERRIDE, /* open /dev/net/tun (root-only) */
};

struct zebra_privs_t vpnd_privs = {
#if defined(FRR_USER) && defined(FRR_GROUP)
	.user = FRR_USER,
	.group = FRR_GROUP,
#endif
#if defined(VTY_GROUP)
	.vty_group = VTY_GROUP,
#endif
	.caps_p = vpnd_caps,
	.cap_num_p = array_size(vpnd_caps),
	.cap_num_i = 0,
};

#define OPTION_DP_THREADS 1100
#define OPTION_DP_SPLIT 1101

static struct option longopts[] = {
	{ "dp-threads", required_argument, NULL, OPTION_DP_THREADS },
	{ "dp-split", no_argument, NULL, OPTION_DP_SPLIT },
	{ 0 }
};

struct thread_master *master;

static struct frr_daemon_info vpnd_di;

static void sighup(void)
{
	zlog_info("SIGHUP received, re-reading %s", vpnd_di.config_file);
	vty_read_config(NULL, vpnd_di.config_file, config_default);
}

static void sigint(void)
{
	zlog_notice("Terminating on signal");
	vpn_zebra_stop();
	vpn_ike_terminate();
	vpn_terminate();
	vpn_tunnel_terminate();
	frr_fini();
	exit(0);
}

static void sigusr1(void)
{
	zlog_rotate();
}

static struct frr_signal_t vpnd_signals[] = {
	{ .signal = SIGHUP, .handler = &sighup },
	{ .signal = SIGUSR1, .handler = &sigusr1 },
	{ .signal = SIGINT, .handler = &sigint },
	{ .signal = SIGTERM, .handler = &sigint },
};

/*
 * frr-interface and frr-vrf as in every FRR daemon: they also give the
 * data tree its always-present root containers, which the northbound's
 * candidate editing relies on (vpnd's own top node is a presence
 * container).
 */
static const struct frr_yang_module_info *const vpnd_yang_modules[] = {
	&frr_interface_info,
	&frr_vrf_info,
	&vpnd_info,
};

/* clang-format off */
FRR_DAEMON_INFO(vpnd, VPND,
	.vty_port = VPND_VTY_PORT,
	.proghelp = "Route-based IKEv2/IPsec VPN gateway.",
	.signals = vpnd_signals,
	.n_signals = array_size(vpnd_signals),
	.privs = &vpnd_privs,
	.yang_modules = vpnd_yang_modules,
	.n_yang_modules = array_size(vpnd_yang_modules),
);
/* clang-format on */

int main(int argc, char **argv, char **envp)
{
	frr_preinit(&vpnd_di, argc, argv);
	frr_opt_add("", longopts,
		    "      --dp-threads   Datapath worker threads (1-"
		    "64; default: online CPUs, at most 8)\n"
		    "      --dp-split     A tunnel's receive side on another worker than its send side\n");

	while (1) {
		int opt = frr_getopt(argc, argv, NULL);

		if (opt == EOF)
			break;
		switch (opt) {
		case 0:
			break;
		case OPTION_DP_THREADS: {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (*optarg == '\0' || *end || n < 1 ||
			    n > VPN_DP_MAX_THREADS) {
				fprintf(stderr,
					"vpnd: --dp-threads takes a number from 1 to %d\n",
					VPN_DP_MAX_THREADS);
				exit(1);
			}
			vpn_dp_set_threads((unsigned int)n);
			break;
		}
		case OPTION_DP_SPLIT:
			vpn_dp_set_split(true);
			break;
		default:
			frr_help_exit(1);
		}
	}

	if (vpn_crypto_init() < 0) {
		fprintf(stderr, "vpnd: libsodium failed to initialise\n");
		exit(1);
	}

	master = frr_init();

	vrf_init(NULL, NULL, NULL, NULL);
	vpn_init();
	vpn_tunnel_init(master, vpn_ike_rekey_child);
	vpn_ike_init(master);
	vpn_zebra_init(master);
	vpn_vty_init();

	frr_config_fork();
	frr_run(master);

	/* Not reached. */
	return 0;
}
