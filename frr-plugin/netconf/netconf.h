/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd NETCONF module: what the server thread (nc_server.c) and FRR's main
 * pthread (nc_datastore.c) share.
 *
 * The server thread owns libnetconf2 and its own libyang context: it
 * speaks SSH and NETCONF, parses requests and builds replies. Everything
 * that touches the northbound (FRR's libyang context, running_config,
 * the candidate, commits, locks, operational state) runs on the main
 * pthread as a job (nc_job_run_main), exactly like the CLI. The two sides
 * exchange plain data: XML text and edit instructions with data paths.
 */
#ifndef VPND_NETCONF_H
#define VPND_NETCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct nc_embedded_module {
	const char *name;
	const char *revision;
	const char *text;
};
/* The IETF modules NETCONF needs, compiled in (embed_yang.py). */
extern const struct nc_embedded_module nc_embedded_modules[];

/* Module arguments (-M netconf:ARGS). */
struct nc_config {
	char address[64];
	uint16_t port;
	char hostkey[256];
	char authkeys[256];
	uint16_t max_sessions; /* concurrent sessions, handshakes included */
	uint16_t accept_threads; /* handshakes in parallel */
};
#define NC_ACCEPT_THREADS_MAX 64
extern struct nc_config nc_cfg;

enum nc_ds {
	NC_DS_NONE,
	NC_DS_RUNNING,
	NC_DS_CANDIDATE,
	NC_DS_CONFIG, /* an inline <config> document */
};

/* One step of an edit, in document order. */
enum nc_instr_op {
	NCI_MERGE,  /* create when missing; a leaf takes the value */
	NCI_CREATE, /* data-exists when present, else as merge */
	NCI_DELETE, /* data-missing when absent, else delete */
	NCI_REMOVE, /* delete when present */
	NCI_EXISTS, /* data-missing when absent ('none' on the way down) */
	NCI_CLEAR,  /* delete all configuration (replace the datastore) */
};

struct nc_instr {
	enum nc_instr_op op;
	char *xpath; /* data path; a leaf-list entry's without [.='v'] */
	char *value; /* leaf and leaf-list values */
	bool leaflist;
};

struct nc_edit {
	struct nc_instr *v;
	size_t n, cap;
};

void nc_edit_add(struct nc_edit *e, enum nc_instr_op op, const char *xpath,
		 const char *value, bool leaflist);
struct nc_edit *nc_edit_dup(const struct nc_edit *e);
void nc_edit_free(struct nc_edit *e);

/* An <rpc-error>: tag and type are libnetconf2's NC_ERR, NC_ERR_TYPE. */
struct nc_error {
	int tag;
	int type;
	char path[1024];
	char msg[1024];
	char apptag[128];
	bool has_sid;
	uint32_t sid; /* lock-denied: the holder (0: another client) */
};

enum nc_job_type {
	J_GET_CONFIG,
	J_GET,
	J_EDIT,
	J_COPY,
	J_DELETE,
	J_COMMIT,
	J_DISCARD,
	J_VALIDATE,
	J_LOCK,
	J_UNLOCK,
	J_SESSION_END,
};

/* with-defaults retrieval modes. */
enum nc_wd {
	NC_WDM_EXPLICIT,
	NC_WDM_ALL,
	NC_WDM_TRIM,
	NC_WDM_ALL_TAGGED, /* printed as report-all, tagged by nc_server.c */
};

struct nc_job {
	enum nc_job_type type;
	uint32_t sid;
	enum nc_ds target;
	enum nc_ds source;
	struct nc_edit *edit; /* J_EDIT; J_COPY/J_VALIDATE from <config> */
	bool test_only;	      /* edit-config test-option test-only */
	enum nc_wd wd;

	/* Results. */
	bool failed;
	struct nc_error err;
	char *xml; /* J_GET_CONFIG, J_GET: malloc'd, may be NULL (empty) */
};

/*
 * libyang 2.1 error paths read 'Data location "/a:b/c", line number 4.':
 * keep the path alone.
 */
static inline void nc_ly_errpath(char *dst, size_t len, const char *src)
{
	const char *q = src ? strchr(src, '"') : NULL;
	size_t n;

	if (!src) {
		dst[0] = '\0';
		return;
	}
	if (!q || !strchr(q + 1, '"')) {
		snprintf(dst, len, "%s", src);
		return;
	}
	n = strchr(q + 1, '"') - (q + 1);
	snprintf(dst, len, "%.*s", (int)n, q + 1);
}

/* FRR's main pthread (nc_datastore.c). */
void nc_ds_run(struct nc_job *job);

/* Fill an error. */
void nc_error_set(struct nc_error *err, int tag, const char *path,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * The host key and the authorized-keys file: a regular file, owned by root
 * or the daemon's user, not writable by group or others. Checked with
 * fstat on fd (already open), so the file checked is the file read.
 * 0, or -1 with the reason in why.
 */
int nc_key_file_check(int fd, const char *path, char *why, size_t len);

/* Run a job on FRR's main pthread and wait for it (nc_module.c). */
void nc_job_run_main(struct nc_job *job);
/* The daemon is stopping: the server thread must return. */
bool nc_stopping(void);

/* The server thread (nc_server.c). */
int nc_srv_prepare(void); /* main pthread, before the thread starts */
void nc_srv_loop(void);	  /* the thread's body; returns when stopping */
/* An accepting thread's body (several run it): TCP accept, the session
 * limit, the SSH handshake and hello; finished sessions go to the polling
 * thread. */
void nc_srv_accept_loop(void);
/* Stopping: end the handshakes in progress (main pthread, before the
 * accepting threads are joined). */
void nc_srv_abort_handshakes(void);
void nc_srv_cleanup(void);

/* Logging from either thread. */
void nc_log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void nc_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void nc_log_debug(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif /* VPND_NETCONF_H */
