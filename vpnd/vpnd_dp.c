// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: datapath worker threads, see vpnd_dp.h.
 *
 * A worker is a loop around epoll_wait(). Before each wait it records the
 * grace-period counter it has seen (its quiescent point): it holds no
 * pointer to shared objects there, and an fd removed from its epoll set
 * before that point cannot be reported after it (EPOLL_CTL_DEL takes the
 * item off the ready list under the epoll lock). vpn_dp_sync() advances
 * the counter, wakes the workers through their eventfd and waits until
 * each has recorded the new value.
 */
#include <zebra.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "lib/log.h"
#include "lib/memory.h"
#include "lib/thread.h"

#include "vpnd.h"
#include "vpnd_dp.h"

DEFINE_MTYPE_STATIC(VPND, VPN_DP_WORKER, "VPN datapath worker");

struct vpn_dp_worker {
	unsigned int idx;
	pthread_t thread;
	bool running;
	int epfd;
	int kick; /* eventfd: vpn_dp_sync() and vpn_dp_stop() wake it */
	atomic_uint_fast64_t qs; /* grace period seen at the last wait */
	atomic_bool stop;
	struct vpn_dp_scratch scratch;
};

static unsigned int dp_nthreads; /* 0: default */
static bool dp_split;
static unsigned int dp_nworkers;
static struct vpn_dp_worker **dp_workers;
static atomic_uint_fast64_t dp_gp = 1;

/* Worker -> main queue. */
struct dp_msg {
	struct dp_msg *next;
	vpn_dp_main_fn fn;
	uint32_t spi;
	struct ike_addr local, remote;
	bool pooled;
	size_t len;
	uint8_t data[];
};

#define DP_POST_MAX 1024 /* messages queued at most */

/* Messages up to DP_POOL_DATA bytes come from a pool made at start: the
 * workers do not allocate (larger IKE messages are malloc'ed). */
#define DP_POOL_SIZE 256
#define DP_POOL_DATA VPN_DP_PKT
#define DP_POOL_STRIDE (sizeof(struct dp_msg) + DP_POOL_DATA)
static uint8_t *pool_mem;
static struct dp_msg *pool_free; /* under post_mtx */

static pthread_mutex_t post_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct dp_msg *post_head, **post_tail = &post_head;
static unsigned int post_len;
static bool post_signalled;
static int post_efd = -1;
static struct thread *t_post;
static struct thread_master *dp_master;

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

void vpn_dp_set_threads(unsigned int n)
{
	dp_nthreads = MIN(n, VPN_DP_MAX_THREADS);
}

void vpn_dp_set_split(bool on)
{
	dp_split = on;
}

bool vpn_dp_split(void)
{
	return dp_split;
}

static bool dp_tun_offload = true;

void vpn_dp_set_tun_offload(bool on)
{
	dp_tun_offload = on;
}

bool vpn_dp_tun_offload(void)
{
	return dp_tun_offload;
}

unsigned int vpn_dp_threads(void)
{
	long cpus;

	if (dp_nworkers)
		return dp_nworkers;
	if (dp_nthreads)
		return dp_nthreads;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		cpus = 1;
	return MIN((unsigned int)cpus, VPN_DP_DEFAULT_MAX);
}

/* ------------------------------------------------------------------ */
/* Workers                                                             */
/* ------------------------------------------------------------------ */

static void *worker_main(void *arg)
{
	struct vpn_dp_worker *w = arg;
	struct epoll_event ev[VPN_DP_BATCH];
	char name[16];

	/* Named by itself, before anything else (tests count what threads
	 * of this name allocate). */
	snprintf(name, sizeof(name), "vpnd-dp%u", w->idx);
	pthread_setname_np(pthread_self(), name);

	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		int n;

		/* Quiescent point: nothing from the last batch is kept. */
		atomic_store(&w->qs, atomic_load(&dp_gp));
		n = epoll_wait(w->epfd, ev, VPN_DP_BATCH, -1);
		for (int i = 0; i < n; i++) {
			struct vpn_dp_ep *ep = ev[i].data.ptr;

			if (!ep) {
				uint64_t v;

				if (read(w->kick, &v, sizeof(v)) < 0) {
					/* counter already read: nothing */
				}
				continue;
			}
			ep->handler(ep, w);
		}
	}
	atomic_store(&w->qs, UINT64_MAX);
	return NULL;
}

static void worker_kick(struct vpn_dp_worker *w)
{
	uint64_t one = 1;

	if (write(w->kick, &one, sizeof(one)) < 0) {
		/* counter full: the worker is awake anyway */
	}
}

static struct vpn_dp_worker *worker_new(unsigned int idx)
{
	struct vpn_dp_worker *w = XCALLOC(MTYPE_VPN_DP_WORKER, sizeof(*w));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	w->idx = idx;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	atomic_init(&w->qs, 0);
	atomic_init(&w->stop, false);
	if (w->epfd < 0 || w->kick < 0 ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->kick, &ev) < 0) {
		zlog_err("vpnd: datapath worker %u: %s", idx,
			 safe_strerror(errno));
		goto fail;
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		zlog_err("vpnd: cannot start datapath worker %u", idx);
		goto fail;
	}
	w->running = true;
	return w;
fail:
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->kick >= 0)
		close(w->kick);
	XFREE(MTYPE_VPN_DP_WORKER, w);
	return NULL;
}

static void post_read(struct thread *t);

int vpn_dp_start(struct thread_master *master)
{
	unsigned int n = vpn_dp_threads();
	sigset_t all, old;

	if (dp_nworkers)
		return 0;
	dp_master = master;
	post_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (post_efd < 0) {
		zlog_err("vpnd: eventfd: %s", safe_strerror(errno));
		return -1;
	}
	thread_add_read(dp_master, post_read, NULL, post_efd, &t_post);
	pool_mem = XCALLOC(MTYPE_VPN_DP_WORKER, DP_POOL_SIZE * DP_POOL_STRIDE);
	for (unsigned int i = 0; i < DP_POOL_SIZE; i++) {
		struct dp_msg *m = (struct dp_msg *)(pool_mem +
						     i * DP_POOL_STRIDE);

		m->next = pool_free;
		pool_free = m;
	}

	/* Signals go to the main thread (FRR's handlers). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	dp_workers = XCALLOC(MTYPE_VPN_DP_WORKER, n * sizeof(*dp_workers));
	for (unsigned int i = 0; i < n; i++) {
		struct vpn_dp_worker *w = worker_new(dp_nworkers);

		if (!w)
			break;
		dp_workers[dp_nworkers++] = w;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!dp_nworkers) {
		XFREE(MTYPE_VPN_DP_WORKER, dp_workers);
		return -1;
	}
	zlog_info("vpnd: %u datapath worker thread%s", dp_nworkers,
		  dp_nworkers == 1 ? "" : "s");
	return 0;
}

void vpn_dp_stop(void)
{
	struct dp_msg *m;

	for (unsigned int i = 0; i < dp_nworkers; i++) {
		atomic_store(&dp_workers[i]->stop, true);
		worker_kick(dp_workers[i]);
	}
	for (unsigned int i = 0; i < dp_nworkers; i++) {
		struct vpn_dp_worker *w = dp_workers[i];

		pthread_join(w->thread, NULL);
		close(w->epfd);
		close(w->kick);
		XFREE(MTYPE_VPN_DP_WORKER, w);
	}
	XFREE(MTYPE_VPN_DP_WORKER, dp_workers);
	dp_nworkers = 0;
	thread_cancel(&t_post);
	if (post_efd >= 0)
		close(post_efd);
	post_efd = -1;
	while ((m = post_head)) {
		post_head = m->next;
		if (!m->pooled)
			free(m);
	}
	post_tail = &post_head;
	post_len = 0;
	post_signalled = false;
	pool_free = NULL;
	XFREE(MTYPE_VPN_DP_WORKER, pool_mem);
}

struct vpn_dp_worker *vpn_dp_worker(unsigned int i)
{
	return dp_nworkers ? dp_workers[i % dp_nworkers] : NULL;
}

unsigned int vpn_dp_worker_index(const struct vpn_dp_worker *w)
{
	return w->idx;
}

struct vpn_dp_scratch *vpn_dp_scratch(struct vpn_dp_worker *w)
{
	return &w->scratch;
}

int vpn_dp_watch(struct vpn_dp_worker *w, int fd, struct vpn_dp_ep *ep)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ep };

	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		zlog_err("vpnd: datapath worker %u cannot watch fd %d: %s",
			 w->idx, fd, safe_strerror(errno));
		return -1;
	}
	return 0;
}

void vpn_dp_unwatch(struct vpn_dp_worker *w, int fd)
{
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void vpn_dp_sync(void)
{
	uint64_t target;

	if (!dp_nworkers)
		return;
	target = atomic_fetch_add(&dp_gp, 1) + 1;
	for (unsigned int i = 0; i < dp_nworkers; i++) {
		struct vpn_dp_worker *w = dp_workers[i];
		unsigned int spins = 0;

		while (atomic_load(&w->qs) < target) {
			const struct timespec ts = { 0, 20000 };

			/* again now and then: a kick read before the
			 * increment does not count */
			if (spins++ % 256 == 0)
				worker_kick(w);
			nanosleep(&ts, NULL);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Worker -> main thread                                               */
/* ------------------------------------------------------------------ */

int vpn_dp_post(vpn_dp_main_fn fn, uint32_t spi, const struct ike_addr *local,
		const struct ike_addr *remote, const uint8_t *data,
		size_t len)
{
	struct dp_msg *m = NULL;
	bool signal = false;

	pthread_mutex_lock(&post_mtx);
	if (post_len >= DP_POST_MAX || post_efd < 0) {
		pthread_mutex_unlock(&post_mtx);
		return -1;
	}
	if (len <= DP_POOL_DATA && pool_free) {
		m = pool_free;
		pool_free = m->next;
	}
	post_len++;
	pthread_mutex_unlock(&post_mtx);

	if (m) {
		m->pooled = true;
	} else if (len > DP_POOL_DATA && (m = malloc(sizeof(*m) + len))) {
		m->pooled = false;
	} else {
		pthread_mutex_lock(&post_mtx);
		post_len--;
		pthread_mutex_unlock(&post_mtx);
		return -1;
	}
	m->next = NULL;
	m->fn = fn;
	m->spi = spi;
	if (local)
		m->local = *local;
	else
		memset(&m->local, 0, sizeof(m->local));
	if (remote)
		m->remote = *remote;
	else
		memset(&m->remote, 0, sizeof(m->remote));
	m->len = len;
	if (len)
		memcpy(m->data, data, len);

	pthread_mutex_lock(&post_mtx);
	*post_tail = m;
	post_tail = &m->next;
	if (!post_signalled) {
		post_signalled = true;
		signal = true;
	}
	pthread_mutex_unlock(&post_mtx);
	if (signal) {
		uint64_t one = 1;

		if (write(post_efd, &one, sizeof(one)) < 0) {
			/* counter full: main is being woken anyway */
		}
	}
	return 0;
}

static void msg_free(struct dp_msg *m)
{
	if (!m->pooled) {
		free(m);
		return;
	}
	pthread_mutex_lock(&post_mtx);
	m->next = pool_free;
	pool_free = m;
	pthread_mutex_unlock(&post_mtx);
}

static void post_read(struct thread *t)
{
	struct dp_msg *list, *m;
	uint64_t v;

	if (read(post_efd, &v, sizeof(v)) < 0) {
		/* nothing pending: spurious wake-up */
	}
	pthread_mutex_lock(&post_mtx);
	list = post_head;
	post_head = NULL;
	post_tail = &post_head;
	post_len = 0;
	post_signalled = false;
	pthread_mutex_unlock(&post_mtx);

	while ((m = list)) {
		list = m->next;
		m->fn(m->spi, &m->local, &m->remote, m->data, m->len);
		msg_free(m);
	}
	thread_add_read(dp_master, post_read, NULL, post_efd, &t_post);
}
