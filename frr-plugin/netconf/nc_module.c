// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd NETCONF module: the FRR side. Loaded with
 *
 *   vpnd -M netconf[:ARGS]        (from FRR's module directory)
 *   vpnd -M /path/vpnd_netconf.so[:ARGS]
 *
 * ARGS is a comma-separated list of
 *   port=N                 listening port (default 830)
 *   address=ADDR           listening address (default 127.0.0.1)
 *   host-key=FILE          SSH host private key (default
 *                          /etc/frr/netconf/ssh_host_key)
 *   authorized-keys=FILE   public keys allowed in, OpenSSH format
 *                          (default /etc/frr/netconf/authorized_keys)
 *   max-sessions=N         concurrent sessions (default 10); a connection
 *                          beyond it is closed before the SSH handshake
 *   accept-threads=N       SSH handshakes in parallel (default 4; at most
 *                          max-sessions + 1 run)
 *
 * The server runs in its own pthread; every northbound operation is a job
 * run on the main pthread (nc_job_run_main), as FRR's gRPC module does.
 */
#include <zebra.h>

#include <lib/version.h>
#include <pthread.h>

#include "frr_pthread.h"
#include "hook.h"
#include "libfrr.h"
#include "log.h"
#include "module.h"
#include "thread.h"

#include "privs.h"

#include "netconf.h"

struct nc_config nc_cfg = {
	.address = "",
	.port = 830,
	.hostkey = "/etc/frr/netconf/ssh_host_key",
	.authkeys = "/etc/frr/netconf/authorized_keys",
	.max_sessions = 10,
	.accept_threads = 4,
};

static struct thread_master *main_tm;
/* The user the daemon runs as (-u, default frr); -1 until known. */
static uid_t daemon_uid = (uid_t)-1;
static struct frr_pthread *fpt;
/* The accepting threads: each takes a connection and does its SSH
 * handshake, so that a slow or stalled client delays no other login. */
static struct frr_pthread *fpt_accept[NC_ACCEPT_THREADS_MAX];
static unsigned int n_accept;
static _Atomic bool stopping;

/* ------------------------------------------------------------------ */
/* Logging                                                             */
/* ------------------------------------------------------------------ */

#define NC_LOG_FN(fn, zfn)                                                     \
	void fn(const char *fmt, ...)                                          \
	{                                                                      \
		char buf[1024];                                                \
		va_list ap;                                                    \
                                                                               \
		va_start(ap, fmt);                                             \
		vsnprintf(buf, sizeof(buf), fmt, ap);                          \
		va_end(ap);                                                    \
		zfn("netconf: %s", buf);                                       \
	}

NC_LOG_FN(nc_log_err, zlog_err)
NC_LOG_FN(nc_log_info, zlog_info)
NC_LOG_FN(nc_log_debug, zlog_debug)

/* ------------------------------------------------------------------ */
/* Jobs on the main pthread                                            */
/* ------------------------------------------------------------------ */

struct job_wait {
	struct nc_job *job;
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	bool done;
};

bool nc_stopping(void)
{
	return stopping;
}

static void job_main(struct thread *t)
{
	struct job_wait *w = THREAD_ARG(t);

	nc_ds_run(w->job);
	pthread_mutex_lock(&w->mtx);
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mtx);
}

void nc_job_run_main(struct nc_job *job)
{
	struct job_wait *w;
	bool done;

	if (stopping) {
		job->failed = true;
		nc_error_set(&job->err, 0, NULL, "the daemon is stopping");
		return;
	}
	w = calloc(1, sizeof(*w));
	w->job = job;
	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->cond, NULL);
	thread_add_event(main_tm, job_main, w, 0, NULL);

	pthread_mutex_lock(&w->mtx);
	while (!w->done && !stopping) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&w->cond, &w->mtx, &ts);
	}
	done = w->done;
	pthread_mutex_unlock(&w->mtx);
	if (!done) {
		/* The main pthread is shutting down and will never run the
		 * job: leave w to it (freed with the process). */
		job->failed = true;
		nc_error_set(&job->err, 0, NULL, "the daemon is stopping");
		return;
	}
	pthread_mutex_destroy(&w->mtx);
	pthread_cond_destroy(&w->cond);
	free(w);
}

/* ------------------------------------------------------------------ */
/* The server pthread                                                  */
/* ------------------------------------------------------------------ */

static void *nc_pthread_start(void *arg)
{
	struct frr_pthread *p = arg;

	frr_pthread_set_name(p);
	nc_srv_loop();
	return NULL;
}

static void *nc_accept_pthread_start(void *arg)
{
	struct frr_pthread *p = arg;

	frr_pthread_set_name(p);
	nc_srv_accept_loop();
	return NULL;
}

static int nc_pthread_stop(struct frr_pthread *p, void **result)
{
	stopping = true;
	pthread_join(p->thread, result);
	return 0;
}

static int nc_fini(void)
{
	if (!fpt)
		return 0;
	/* The accepting threads first: they hand sessions to the other. A
	 * thread in a handshake returns when it ends: end them now rather
	 * than at their timeouts. */
	stopping = true;
	nc_srv_abort_handshakes();
	for (unsigned int i = 0; i < n_accept; i++) {
		frr_pthread_stop(fpt_accept[i], NULL);
		frr_pthread_destroy(fpt_accept[i]);
		fpt_accept[i] = NULL;
	}
	n_accept = 0;
	frr_pthread_stop(fpt, NULL);
	frr_pthread_destroy(fpt);
	fpt = NULL;
	nc_srv_cleanup();
	return 0;
}

/*
 * More than max-sessions + 1 threads would only wait: max-sessions of them
 * in handshakes, and one to refuse the next connection at once. (With
 * fewer, a connection waits while every thread is in a handshake.)
 */
static void nc_start_accepting(void)
{
	struct frr_pthread_attr attr = {
		.start = nc_accept_pthread_start,
		.stop = nc_pthread_stop,
	};
	unsigned int n = MIN(nc_cfg.accept_threads, nc_cfg.max_sessions + 1);

	for (unsigned int i = 0; i < n; i++) {
		char name[32], os_name[16];
		struct frr_pthread *p;

		snprintf(name, sizeof(name), "NETCONF accept %u", i + 1);
		snprintf(os_name, sizeof(os_name), "nc-accept-%u", i + 1);
		p = frr_pthread_new(&attr, name, os_name);
		if (frr_pthread_run(p, NULL) < 0) {
			zlog_err("netconf: cannot start accepting pthread %u: %s",
				 i + 1, safe_strerror(errno));
			frr_pthread_destroy(p);
			continue;
		}
		fpt_accept[n_accept++] = p;
	}
	if (!n_accept)
		zlog_err("netconf: no accepting pthread: no new sessions");
}

static int nc_start(struct thread_master *tm)
{
	static bool started;
	struct frr_pthread_attr attr = {
		.start = nc_pthread_start,
		.stop = nc_pthread_stop,
	};

	if (started)
		return 0;
	started = true;

	if (nc_srv_prepare() < 0) {
		zlog_err("netconf: the NETCONF server could not start");
		return 0;
	}
	fpt = frr_pthread_new(&attr, "NETCONF", "netconf");
	if (frr_pthread_run(fpt, NULL) < 0) {
		zlog_err("netconf: cannot start the server pthread: %s",
			 safe_strerror(errno));
		frr_pthread_destroy(fpt);
		fpt = NULL;
		return 0;
	}
	nc_start_accepting();
	return 0;
}

static int nc_late_init(struct thread_master *tm)
{
	main_tm = tm;
	hook_register(frr_fini, nc_fini);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Arguments                                                           */
/* ------------------------------------------------------------------ */

/* KEY=N with N in [min, max]; else a message and -1. */
static int arg_uint(const char *key, const char *val, unsigned long min,
		    unsigned long max, unsigned long *out)
{
	char *end;

	*out = strtoul(val, &end, 10);
	if (!*val || *end || *out < min || *out > max) {
		fprintf(stderr, "netconf: %s: %lu to %lu\n", key, min, max);
		return -1;
	}
	return 0;
}

static int nc_parse_args(const char *args)
{
	char *copy, *tok, *save = NULL;
	int ret = 0;

	if (!args || !*args)
		return 0;
	copy = strdup(args);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');
		unsigned long u;
		size_t n;

		if (!val) {
			fprintf(stderr, "netconf: argument '%s' is not KEY=VALUE\n",
				tok);
			ret = -1;
			continue;
		}
		*val++ = '\0';
		n = strlen(val);
		if (!strcmp(tok, "port")) {
			if (arg_uint(tok, val, 1, 65535, &u) < 0)
				ret = -1;
			nc_cfg.port = u;
		} else if (!strcmp(tok, "max-sessions")) {
			if (arg_uint(tok, val, 1, 1000, &u) < 0)
				ret = -1;
			nc_cfg.max_sessions = u;
		} else if (!strcmp(tok, "accept-threads")) {
			if (arg_uint(tok, val, 1, NC_ACCEPT_THREADS_MAX,
				     &u) < 0)
				ret = -1;
			nc_cfg.accept_threads = u;
		} else if (!strcmp(tok, "address") &&
			   n < sizeof(nc_cfg.address)) {
			strlcpy(nc_cfg.address, val, sizeof(nc_cfg.address));
		} else if (!strcmp(tok, "host-key") &&
			   n < sizeof(nc_cfg.hostkey)) {
			strlcpy(nc_cfg.hostkey, val, sizeof(nc_cfg.hostkey));
		} else if (!strcmp(tok, "authorized-keys") &&
			   n < sizeof(nc_cfg.authkeys)) {
			strlcpy(nc_cfg.authkeys, val, sizeof(nc_cfg.authkeys));
		} else {
			fprintf(stderr,
				"netconf: unknown or too long argument '%s' (known: port, address, host-key, authorized-keys, max-sessions, accept-threads)\n",
				tok);
			ret = -1;
		}
	}
	free(copy);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Key files                                                           */
/* ------------------------------------------------------------------ */

int nc_key_file_check(int fd, const char *path, char *why, size_t len)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(why, len, "%s: %s", path, safe_strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "%s is not a regular file", path);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != daemon_uid) {
		snprintf(why, len,
			 "%s is owned by uid %u, not by root or the daemon's user (uid %d)",
			 path, (unsigned int)st.st_uid, (int)daemon_uid);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, len,
			 "%s is writable by %s (mode %04o): chmod go-w %s",
			 path,
			 (st.st_mode & S_IWGRP) && (st.st_mode & S_IWOTH)
				 ? "group and others"
			 : (st.st_mode & S_IWGRP) ? "group"
						  : "others",
			 (unsigned int)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

/* Open and check one key file at load time (as root, before privileges
 * are dropped). */
static int key_file_ok(const char *what, const char *path)
{
	char why[512];
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(why, sizeof(why), "%s: %s", path,
			 safe_strerror(errno));
		ret = -1;
	} else {
		ret = nc_key_file_check(fd, path, why, sizeof(why));
		close(fd);
	}
	if (ret < 0) {
		fprintf(stderr, "netconf: refusing to start: %s: %s\n", what,
			why);
		zlog_err("netconf: refusing to start: %s: %s", what, why);
	}
	return ret;
}

/*
 * The module cannot load: stop here. Returning an error from init is not
 * an option with FRR 8.4: frrmod_load() dlclose()s the module, then reads
 * its frr_module struct (now unmapped) and vpnd dies of SIGSEGV instead
 * of exiting with the message.
 */
static void __attribute__((noreturn)) nc_load_failed(void)
{
	fprintf(stderr, "netconf: module not loaded, vpnd stops\n");
	zlog_err("netconf: module not loaded, vpnd stops");
	exit(1);
}

static int nc_module_init(void)
{
	struct zprivs_ids_t ids;
	int bad = 0;

	if (nc_parse_args(THIS_MODULE->load_args) < 0)
		nc_load_failed();
	/* zprivs_preinit ran before modules load: the user is known. */
	zprivs_get_ids(&ids);
	daemon_uid = ids.uid_normal;
	if (key_file_ok("host-key", nc_cfg.hostkey) < 0)
		bad = -1;
	if (key_file_ok("authorized-keys", nc_cfg.authkeys) < 0)
		bad = -1;
	if (bad)
		nc_load_failed();
	hook_register(frr_late_init, nc_late_init);
	/* Serve once the configuration file has been read. */
	hook_register(frr_config_post, nc_start);
	return 0;
}

FRR_MODULE_SETUP(.name = "vpnd_netconf", .version = FRR_VERSION,
		 .description = "vpnd NETCONF server (RFC 6241 over SSH)",
		 .init = nc_module_init, );
