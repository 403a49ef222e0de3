// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: daemon start-up, reading the configuration file, signals and
 * shutdown.
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
#include "buffer.h"
#include "lib_errors.h"
#include "northbound_cli.h"

#include "vpnd.h"
#include "vpnd_nb.h"
#include "vpnd_vty.h"
#include "vpnd_conn.h"
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
#define OPTION_NO_TUN_OFFLOAD 1102

static struct option longopts[] = {
	{ "dp-threads", required_argument, NULL, OPTION_DP_THREADS },
	{ "dp-split", no_argument, NULL, OPTION_DP_SPLIT },
	{ "no-tun-offload", no_argument, NULL, OPTION_NO_TUN_OFFLOAD },
	{ 0 }
};

struct thread_master *master;

static struct frr_daemon_info vpnd_di;
static struct thread *t_config_read;

/* ------------------------------------------------------------------ */
/* Reading the configuration file                                      */
/* ------------------------------------------------------------------ */

/*
 * FRR 8.4 reads a daemon's configuration file (at start-up and on SIGHUP,
 * lib/vty.c vty_read_file) with one northbound transaction per command:
 * each validates and compares the whole configuration, so reading n
 * connections takes time that grows with n * n (n * n * n while the
 * model counted, for each connection, the connections using its
 * interface). vpnd reads the file itself, as libfrr does, but with the
 * CLI's pending-commit batching on (vty->pending_allowed, what
 * XFRR_start_configuration turns on for vtysh -b): each command only
 * edits the candidate configuration, and the file is committed as one
 * transaction at its end.
 *
 * Errors, as in FRR's batched loads:
 * - a command the CLI refuses (an unknown command, a value outside its
 *   range or the model's type, a bad proposal, a duplicate name...) is
 *   its line's error: logged with the line number and the reason, and
 *   the other lines are read;
 * - an error found when the transaction is validated (a rule between
 *   nodes: an interface used twice, a policy that does not exist, address
 *   families, dpd timeout and interval...) refuses the whole transaction,
 *   as FRR's CLI does with a batch from vtysh -b (nb_cli_classic_commit):
 *   nothing of it is applied and the running configuration stays as it
 *   was. vpnd logs the error with the line(s) it comes from, found from
 *   the data paths the error names.
 * A command that is not a YANG one (hostname, log...) commits what was
 * read before it first, as everywhere in FRR's CLI.
 */

/* A command of the pending transaction, to find the line of an error. */
struct cfg_cmd {
	unsigned int line;
	char *text;   /* the line as read, any key masked */
	char *xpaths; /* the data paths it edited, one per line */
};

struct cfg_read {
	struct vty *vty;
	const char *path;
	struct cfg_cmd *cmds; /* of the pending transaction */
	size_t ncmds, acmds;
	unsigned int lines, cmd_errors, commits, failed;
};

#define CFG_MAX_BLAME 4

/* The line without its end, a pre-shared key masked: for the log. */
static void cfg_text(char *buf, size_t len, const char *line)
{
	const char *p = line + strspn(line, " \t");
	static const char key[] = "pre-shared-key";

	if (strncmp(p, key, sizeof(key) - 1) == 0 &&
	    isspace((unsigned char)p[sizeof(key) - 1]))
		snprintf(buf, len, "%s <hidden>", key);
	else
		strlcpy(buf, p, len);
	buf[strcspn(buf, "\r\n")] = '\0';
}

/* The data paths the command just executed edited, as the northbound
 * resolves them (nb_cli_apply_changes: relative to the node's path). A
 * leaf-list entry's path has no value: the change's value pointed into
 * the command's arguments, freed by now. */
static char *cfg_cmd_xpaths(struct vty *vty)
{
	size_t len = 0, cap = 256;
	char *out = XCALLOC(MTYPE_TMP, cap);

	for (size_t i = 0; i < vty->num_cfg_changes; i++) {
		const struct vty_cfg_change *c = &vty->cfg_changes[i];
		char xpath[XPATH_MAXLEN * 2] = "";

		if (c->xpath[0] == '.' && vty->xpath_index > 0)
			snprintf(xpath, sizeof(xpath), "%s%s", VTY_CURR_XPATH,
				 c->xpath + 1);
		else
			strlcpy(xpath, c->xpath, sizeof(xpath));
		while (len + strlen(xpath) + 2 > cap) {
			cap *= 2;
			out = XREALLOC(MTYPE_TMP, out, cap);
		}
		len += snprintf(out + len, cap - len, "%s\n", xpath);
	}
	return out;
}

static void cfg_record(struct cfg_read *rd, unsigned int line,
		       const char *text)
{
	struct cfg_cmd *c;

	if (rd->ncmds == rd->acmds) {
		rd->acmds = rd->acmds ? rd->acmds * 2 : 256;
		rd->cmds = XREALLOC(MTYPE_TMP, rd->cmds,
				    rd->acmds * sizeof(*rd->cmds));
	}
	c = &rd->cmds[rd->ncmds++];
	c->line = line;
	c->text = XSTRDUP(MTYPE_TMP, text);
	c->xpaths = cfg_cmd_xpaths(rd->vty);
}

static void cfg_forget(struct cfg_read *rd)
{
	for (size_t i = 0; i < rd->ncmds; i++) {
		XFREE(MTYPE_TMP, rd->cmds[i].text);
		XFREE(MTYPE_TMP, rd->cmds[i].xpaths);
	}
	rd->ncmds = 0;
}

/* How well a path a command edited (x) matches a path an error names
 * (p): the same node, then the deepest of its ancestors, then a node
 * inside it. 0: not at all. */
static int cfg_path_score(const char *x, size_t lx, const char *p)
{
	size_t lp = strlen(p);

	if (lx == lp && strncmp(x, p, lx) == 0)
		return 3 << 16;
	if (lx < lp && strncmp(x, p, lx) == 0 && strchr("/[", p[lx]))
		return (2 << 16) + (int)lx;
	if (lp < lx && strncmp(x, p, lp) == 0 && strchr("/[", x[lp]))
		return 1 << 16;
	return 0;
}

/* The command of the transaction that best matches path p (the last one
 * on a tie), with its score. A leaf-list entry's value ("[.='V']" in p)
 * picks, among the commands that edited that leaf-list, the one whose
 * line has V. */
static const struct cfg_cmd *cfg_blame_path(const struct cfg_read *rd,
					    const char *p, int *score)
{
	const struct cfg_cmd *best = NULL;
	const char *v = strstr(p, "[.='");
	char val[128] = "";

	if (v)
		snprintf(val, sizeof(val), "%.*s", (int)strcspn(v + 4, "'"),
			 v + 4);
	*score = 0;
	for (size_t i = 0; i < rd->ncmds; i++) {
		const char *x = rd->cmds[i].xpaths, *end;

		for (; *x; x = end + 1) {
			int s;

			end = strchr(x, '\n');
			s = cfg_path_score(x, end - x, p);
			if (s && val[0] && strstr(rd->cmds[i].text, val))
				s++;
			if (s && s >= *score) {
				*score = s;
				best = &rd->cmds[i];
			}
		}
	}
	return best;
}

/*
 * The data paths an error message names: libyang's "YANG path: P" and its
 * quoted "/module:..." paths. A unique statement's error names the two
 * list entries: the leaf it names is appended to them.
 */
static size_t cfg_error_paths(const char *msg, char (*paths)[XPATH_MAXLEN],
			      size_t max)
{
	static const char ypath[] = "YANG path: ", uniq[] = "leaf(s) \"";
	char leaf[64] = "";
	const char *p, *u = strstr(msg, uniq);
	size_t n = 0;

	if (u) {
		u += sizeof(uniq) - 1;
		snprintf(leaf, sizeof(leaf), "/%.*s", (int)strcspn(u, " \""),
			 u);
	}
	for (p = msg; n < max && (p = strstr(p, ypath)); p += sizeof(ypath) - 1)
		snprintf(paths[n++], XPATH_MAXLEN, "%.*s",
			 (int)strcspn(p + sizeof(ypath) - 1, "\n"),
			 p + sizeof(ypath) - 1);
	for (p = msg; n < max && (p = strstr(p, "\"/")); p++) {
		size_t len = strcspn(p + 1, "\"");

		if (!strchr(p + 1, ':') || len >= XPATH_MAXLEN - sizeof(leaf))
			continue;
		snprintf(paths[n++], XPATH_MAXLEN, "%.*s%s", (int)len, p + 1,
			 leaf);
	}
	return n;
}

/* The lines an error comes from (at most max, best matches only). */
static size_t cfg_blame(const struct cfg_read *rd, const char *msg,
			const struct cfg_cmd **out, size_t max)
{
	char paths[8][XPATH_MAXLEN];
	const struct cfg_cmd *cmd[8];
	int score[8], top = 0;
	size_t n = cfg_error_paths(msg, paths, array_size(paths)), nout = 0;

	for (size_t i = 0; i < n; i++) {
		cmd[i] = cfg_blame_path(rd, paths[i], &score[i]);
		top = MAX(top, score[i] >> 16);
	}
	for (size_t i = 0; i < n && nout < max; i++) {
		bool dup = false;

		if (!cmd[i] || score[i] >> 16 != top)
			continue;
		for (size_t j = 0; j < nout; j++)
			dup = dup || out[j] == cmd[i];
		if (!dup)
			out[nout++] = cmd[i];
	}
	return nout;
}

/* One line for the log: the message's lines joined, spaces squeezed. */
static void cfg_one_line(char *buf, size_t len, const char *msg)
{
	size_t o = 0;

	for (const char *p = msg; *p && o + 1 < len; p++) {
		if (isspace((unsigned char)*p)) {
			if (o > 0 && buf[o - 1] != ' ')
				buf[o++] = ' ';
			continue;
		}
		buf[o++] = *p;
	}
	while (o > 0 && buf[o - 1] == ' ')
		o--;
	buf[o] = '\0';
}

/* The pending transaction was refused: say why, and which lines. */
static void cfg_failed(struct cfg_read *rd, const char *errmsg)
{
	const struct cfg_cmd *blamed[CFG_MAX_BLAME];
	size_t n = cfg_blame(rd, errmsg, blamed, array_size(blamed));
	char msg[BUFSIZ];

	rd->failed++;
	cfg_one_line(msg, sizeof(msg), errmsg);
	for (size_t i = 0; i < n; i++)
		flog_err(EC_LIB_VTY,
			 "Configuration failed on config line %u: %s: %s",
			 blamed[i]->line, blamed[i]->text, msg);
	if (!n)
		flog_err(EC_LIB_VTY, "Configuration failed: %s", msg);
	if (rd->ncmds)
		flog_err(EC_LIB_VTY,
			 "%s: the %zu commands of lines %u to %u were one transaction, which validation refused: none of them is applied (the running configuration is unchanged)",
			 rd->path, rd->ncmds, rd->cmds[0].line,
			 rd->cmds[rd->ncmds - 1].line);
}

/* Commit the commands read so far as one transaction. */
static void cfg_commit(struct cfg_read *rd)
{
	struct vty *vty = rd->vty;
	struct nb_context ctx = { .client = NB_CLIENT_CLI, .user = vty };
	char errmsg[BUFSIZ] = "";
	int ret;

	if (!vty->candidate_config ||
	    (!vty->pending_commit &&
	     frr_get_cli_mode() != FRR_CLI_TRANSACTIONAL)) {
		cfg_forget(rd);
		return;
	}
	ret = nb_candidate_commit(&ctx, vty->candidate_config, true,
				  "Read configuration file", NULL, errmsg,
				  sizeof(errmsg));
	vty->pending_commit = 0;
	XFREE(MTYPE_TMP, vty->pending_cmds_buf);
	vty->pending_cmds_buflen = 0;
	vty->pending_cmds_bufpos = 0;
	if (ret == NB_OK || ret == NB_ERR_NO_CHANGES) {
		rd->commits += ret == NB_OK;
		if (errmsg[0])
			zlog_warn("%s: %s", rd->path, errmsg);
	} else {
		dprintf(vty->wfd, "%% Configuration failed.\n\n%s\n", errmsg);
		cfg_failed(rd, errmsg);
		/* As FRR's CLI after a refused commit. */
		nb_config_replace(vty->candidate_config, running_config, true);
	}
	cfg_forget(rd);
}

static const char *cfg_ret_str(int ret)
{
	switch (ret) {
	case CMD_ERR_AMBIGUOUS:
		return "Ambiguous command";
	case CMD_ERR_NO_MATCH:
		return "No such command";
	case CMD_WARNING:
		return "Command returned Warning";
	case CMD_WARNING_CONFIG_FAILED:
		return "Command returned Warning Config Failed";
	case CMD_ERR_INCOMPLETE:
		return "Command returned Incomplete";
	case CMD_ERR_EXEED_ARGC_MAX:
		return "Command exceeded maximum number of Arguments";
	default:
		return "Command returned unhandled error message";
	}
}

/* One line of the file: run it; log its error with the line number. */
static void cfg_line(struct cfg_read *rd, unsigned int num)
{
	struct vty *vty = rd->vty;
	char text[256], reason[512] = "";
	bool was_pending;
	char *out;
	int ret;

	cfg_text(text, sizeof(text), vty->buf);
	if (strcmp(text, "end") == 0)
		cfg_commit(rd); /* before 'end' commits it FRR's way */
	was_pending = vty->pending_commit;
	ret = command_config_read_one_line(vty, NULL, num, 0);
	out = buffer_getstr(vty->obuf);
	buffer_reset(vty->obuf);
	if (was_pending && !vty->pending_commit) {
		/* A command that is not a YANG one committed the batch, with
		 * FRR's report: its error, then every command of the batch
		 * (not for the log: keys). */
		static const char desc[] = "Error description: ";
		char *err = strstr(out, "% Configuration failed"), *p;

		if (err) {
			err = XSTRDUP(MTYPE_TMP, err);
			p = strstr(err, "The following commands");
			if (p)
				*p = '\0';
			p = strstr(err, desc);
			cfg_failed(rd, p ? p + sizeof(desc) - 1 : err);
			XFREE(MTYPE_TMP, err);
		}
		cfg_forget(rd);
	}
	cfg_one_line(reason, sizeof(reason), out);
	if (ret != CMD_SUCCESS && ret != CMD_ERR_NOTHING_TODO) {
		rd->cmd_errors++;
		flog_err(EC_LIB_VTY, "%s on config line %u: %s%s%s",
			 cfg_ret_str(ret), num, text, reason[0] ? ": " : "",
			 reason);
		reason[0] = '\0';
	} else if (vty->pending_commit && vty->num_cfg_changes)
		cfg_record(rd, num, text);
	/* FRR's CLI keeps the text of each command of the batch, for its
	 * report of a refused batch, appending with strlcat: each command
	 * costs the length of all the others before it (n * n for the file).
	 * This reader reports the lines itself. */
	if (vty->pending_cmds_buf) {
		vty->pending_cmds_buf[0] = '\0';
		vty->pending_cmds_bufpos = 0;
	}
	/* e.g. FRR's "% Failed to edit configuration." (a success) */
	if (reason[0] == '%' && !strstr(reason, "% Configuration failed"))
		flog_warn(EC_LIB_VTY, "config line %u: %s: %s", num, text,
			  reason);
	if (out[0])
		(void)write(vty->wfd, out, strlen(out));
	XFREE(MTYPE_TMP, out);
}

static FILE *cfg_open(const char *path)
{
	char sav[MAXPATHLEN + sizeof(CONF_BACKUP_EXT)];
	FILE *fp = fopen(path, "r");

	if (fp)
		return fp;
	flog_warn(EC_LIB_BACKUP_CONFIG,
		  "%s: failed to open configuration file %s: %s, checking backup",
		  __func__, path, safe_strerror(errno));
	snprintf(sav, sizeof(sav), "%s%s", path, CONF_BACKUP_EXT);
	fp = fopen(sav, "r");
	if (fp)
		flog_warn(EC_LIB_BACKUP_CONFIG,
			  "using backup configuration file %s!", sav);
	else
		flog_err(EC_LIB_VTY, "can't open configuration file [%s]",
			 path);
	return fp;
}

/*
 * Read the configuration file into config (NULL: a copy of the running
 * configuration, as on SIGHUP), as lib/vty.c vty_read_config does: the
 * file given with -f (relative to the working directory), else the
 * default one, else its backup (".sav"); but as one transaction.
 */
static bool vpn_config_read(struct nb_config *config, const char *file)
{
	char cwd[MAXPATHLEN / 2], path[MAXPATHLEN];
	struct cfg_read rd = { .path = path };
	struct timeval t0;
	FILE *fp;

	if (!file) {
		host_config_set(config_default);
		strlcpy(path, config_default, sizeof(path));
	} else if (file[0] != '/' && getcwd(cwd, sizeof(cwd)))
		snprintf(path, sizeof(path), "%s/%s", cwd, file);
	else
		strlcpy(path, file, sizeof(path));
	fp = cfg_open(path);
	if (!fp)
		return false;

	monotime(&t0);
	rd.vty = vty_new();
	rd.vty->wfd = STDERR_FILENO;
	rd.vty->type = VTY_FILE;
	rd.vty->node = CONFIG_NODE;
	rd.vty->config = true;
	rd.vty->pending_allowed = true;
	if (config)
		rd.vty->candidate_config = config;
	else {
		rd.vty->private_config = true;
		rd.vty->candidate_config = nb_config_new(NULL);
	}
	while (fgets(rd.vty->buf, VTY_BUFSIZ, fp))
		cfg_line(&rd, ++rd.lines);
	cfg_commit(&rd);
	XFREE(MTYPE_TMP, rd.cmds);
	vty_close(rd.vty);
	fclose(fp);
	host_config_set(path);

	zlog_info("configuration file %s read: %u lines, %u refused, %u transaction(s) committed, %u refused; took %ld ms",
		  path, rd.lines, rd.cmd_errors, rd.commits, rd.failed,
		  (long)(monotime_since(&t0, NULL) / 1000));
	return true;
}

/*
 * Run the functions registered on one of libfrr's start-up hooks (the
 * NETCONF module starts its server on frr_config_post), in libfrr's
 * order: hook_call() exists only in the file that defines the hook.
 */
static void run_frr_hook(struct hook *hook)
{
	for (struct hookent *he = hook->entries; he; he = he->next) {
		if (he->has_arg)
			((int (*)(void *, struct thread_master *))he->hookfn)(
				he->hookarg, master);
		else
			((int (*)(struct thread_master *))he->hookfn)(master);
	}
}

/* Start-up: what lib/libfrr.c frr_config_read_in does, with vpnd's reader
 * (frr_config_fork does not schedule libfrr's: FRR_NO_SPLIT_CONFIG). */
static void config_read_in(struct thread *t)
{
	run_frr_hook(&_hook_frr_config_pre);
	vpn_config_read(vty_shared_candidate_config, vpnd_di.config_file);
	run_frr_hook(&_hook_frr_config_post);
}

static void sighup(void)
{
	zlog_info("SIGHUP received, re-reading %s",
		  vpnd_di.config_file ? vpnd_di.config_file : config_default);
	/* Into a copy of the running configuration: what the file has is
	 * merged into it, as FRR's daemons do. */
	vpn_config_read(NULL, vpnd_di.config_file);
}

static void sigint(void)
{
	zlog_notice("Terminating on signal");
	vpn_conn_terminate();
	vpn_terminate();
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
		    "      --dp-split     A tunnel's receive side on another worker than its send side\n"
		    "      --no-tun-offload  Tunnel devices without TUN offloads (one packet per read)\n");

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
		case OPTION_NO_TUN_OFFLOAD:
			vpn_dp_set_tun_offload(false);
			break;
		default:
			frr_help_exit(1);
		}
	}

	if (vpn_crypto_init() < 0) {
		fprintf(stderr, "vpnd: libsodium failed to initialise\n");
		exit(1);
	}

	/* vpnd reads its configuration file itself, as one transaction
	 * (config_read_in); -f and -C keep working (parsed above). */
	vpnd_di.flags |= FRR_NO_SPLIT_CONFIG;

	master = frr_init();

	vrf_init(NULL, NULL, NULL, NULL);
	vpn_init();
	vpn_conn_init(master);
	vpn_vty_init();

	if (vpnd_di.dryrun) {
		/* -C: what frr_config_fork does for it */
		run_frr_hook(&_hook_frr_late_init);
		config_read_in(NULL);
		exit(0);
	}
	frr_config_fork();
	thread_add_event(master, config_read_in, NULL, 0, &t_config_read);
	frr_run(master);

	/* Not reached. */
	return 0;
}
