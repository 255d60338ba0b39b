/* threads.c: the process-wide thread count and the pool that runs the kernels' parallel work.
 *
 * The count. OpenMP's own count (omp_set_num_threads) belongs to the OS thread that sets it,
 * so a kernel started from another thread would not see it. tinydl keeps its own count
 * instead, one for the whole process; it starts as OpenMP's default for the thread that loads
 * the extension (the cores, or OMP_NUM_THREADS), capped at TDL_MAX_THREADS. Without OpenMP it
 * is always 1. It is an atomic int: setting it while kernels run is not a data race, and a
 * kernel reads it once, when it starts.
 *
 * The pool (tdl_parallel_run, see tdl_common.h). A kernel cuts its work into tasks that write
 * disjoint outputs; the caller publishes the job, wakes the pool's threads, and claims tasks
 * itself from an atomic counter, as does every helper that wakes up in time. When the counter
 * is exhausted the caller waits only for the tasks other threads have claimed and not
 * finished, never for a helper that has not started: on a busy machine, where a helper may be
 * descheduled for a whole time slice, the caller finishes the job alone. (An OpenMP region
 * ends in a barrier that waits for every thread of the team, started or not; a training step
 * has hundreds of them.) Idle helpers spin for TDL_POOL_SPIN_NS, then sleep on a condition
 * variable, so a loaded machine does not lose cores to spinning.
 *
 * Job words. The job in flight is one 64-bit atomic: generation (high 32 bits) and next task
 * (low 32). A helper reads the word, then the job's fields, then claims task `next` with a
 * compare-exchange of that same word: when it succeeds, the job was unfinished all along, so
 * the fields it read belong to it (the caller writes a new job only after every task of the
 * last one is done, and every new job has a new generation).
 *
 * POSIX threads where available; otherwise (Windows) an OpenMP region that claims tasks from
 * the same kind of counter; without OpenMP, the caller runs every task.
 */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L  /* clock_gettime, pthread_atfork, sched_yield */
#endif
#include "tdl_common.h"

#if defined(TDL_HAVE_OPENMP) && !defined(_WIN32)
#define TDL_POOL_PTHREADS 1
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#endif

/* How long an idle helper (and a caller waiting for a claimed task) spins before it sleeps
 * (or yields): long enough to catch the next kernel of a training step on a quiet machine. */
#define TDL_POOL_SPIN_NS 50000

#ifdef TDL_HAVE_OPENMP
#if defined(__STDC_NO_ATOMICS__) || defined(_MSC_VER)
static volatile int count = 0;  /* 0 until set or first read */
static int load_count(void) { return count; }
static void store_count(int n) { count = n; }
static void init_count(int n) { count = count ? count : n; }
#else
#include <stdatomic.h>
static atomic_int count = 0;  /* 0 until set or first read */
static int load_count(void) { return atomic_load(&count); }
static void store_count(int n) { atomic_store(&count, n); }
static void init_count(int n)  /* the first reader sets the default; a set() wins over it */
{
    int unset = 0;
    atomic_compare_exchange_strong(&count, &unset, n);
}
#endif
#endif

int tdl_threads_get(void)
{
#ifdef TDL_HAVE_OPENMP
    int n = load_count();
    if (n > 0)
        return n;
    init_count((int)tdl_max(1, tdl_min(omp_get_max_threads(), TDL_MAX_THREADS)));
    return load_count();
#else
    return 1;
#endif
}

void tdl_threads_set(int n)
{
#ifdef TDL_HAVE_OPENMP
    if (n >= 1 && n <= TDL_MAX_THREADS)
        store_count(n);
#else
    (void)n;
#endif
}

int tdl_threads_have_openmp(void)
{
#ifdef TDL_HAVE_OPENMP
    return 1;
#else
    return 0;
#endif
}

/* Every task on the calling thread, as worker 0. */
static void run_serial(tdl_index tasks, tdl_task_fn fn, void *ctx)
{
    for (tdl_index i = 0; i < tasks; i++)
        fn(ctx, i, 0);
}

#ifdef TDL_POOL_PTHREADS
/* ---- The POSIX pool. ---- */
typedef struct {
    _Atomic uint64_t word;       /* generation << 32 | next task */
    _Atomic(tdl_task_fn) fn;     /* the job in flight (see "Job words" above) */
    _Atomic(void *) ctx;
    atomic_llong tasks;
    atomic_int workers;
    atomic_llong done;           /* tasks finished */
    atomic_int sleepers;         /* helpers waiting on `wake` */
    int started;                 /* helpers created (ids 1..started) */
    pthread_mutex_t run_lock;    /* one job at a time; other callers run serially */
    pthread_mutex_t sleep_lock;
    pthread_cond_t wake;
} tdl_pool;

static tdl_pool pool = {.run_lock = PTHREAD_MUTEX_INITIALIZER,
                        .sleep_lock = PTHREAD_MUTEX_INITIALIZER,
                        .wake = PTHREAD_COND_INITIALIZER};
static _Thread_local int inside_pool;  /* a helper, or a caller running a job: nested runs are serial */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Claim and run tasks of generation gen until none is left (worker `id`). */
static void claim_tasks(int id, uint32_t gen)
{
    for (;;) {
        uint64_t word = atomic_load(&pool.word);
        if ((uint32_t)(word >> 32) != gen)
            return;
        tdl_task_fn fn = atomic_load_explicit(&pool.fn, memory_order_relaxed);
        void *ctx = atomic_load_explicit(&pool.ctx, memory_order_relaxed);
        tdl_index tasks = atomic_load_explicit(&pool.tasks, memory_order_relaxed);
        int workers = atomic_load_explicit(&pool.workers, memory_order_relaxed);
        tdl_index task = (tdl_index)(uint32_t)word;
        if (task >= tasks || id >= workers)
            return;
        if (!atomic_compare_exchange_weak(&pool.word, &word, word + 1))
            continue;
        fn(ctx, task, id);
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
    }
}

/* Wait until the job word's generation differs from `seen`: spin, then sleep. */
static uint32_t wait_for_job(uint32_t seen)
{
    int64_t start = now_ns();
    for (int spins = 0;; spins++) {
        uint32_t gen = (uint32_t)(atomic_load(&pool.word) >> 32);
        if (gen != seen)
            return gen;
        if ((spins & 63) == 63 && now_ns() - start > TDL_POOL_SPIN_NS)
            break;
        cpu_relax();
    }
    pthread_mutex_lock(&pool.sleep_lock);
    atomic_fetch_add(&pool.sleepers, 1);
    uint32_t gen;
    while ((gen = (uint32_t)(atomic_load(&pool.word) >> 32)) == seen)
        pthread_cond_wait(&pool.wake, &pool.sleep_lock);
    atomic_fetch_sub(&pool.sleepers, 1);
    pthread_mutex_unlock(&pool.sleep_lock);
    return gen;
}

static void *helper_main(void *arg)
{
    const int id = (int)(intptr_t)arg;
    uint32_t seen = (uint32_t)(atomic_load(&pool.word) >> 32);
    inside_pool = 1;
    for (;;) {
        seen = wait_for_job(seen);
        claim_tasks(id, seen);
    }
    return NULL;
}

/* Start helpers up to id workers - 1 (fewer if the system refuses threads). */
static void start_helpers(int workers)
{
    while (pool.started < workers - 1) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int ok = pthread_create(&thread, &attr, helper_main,
                                (void *)(intptr_t)(pool.started + 1)) == 0;
        pthread_attr_destroy(&attr);
        if (!ok)
            break;
        pool.started++;
    }
}

/* Wait until every task of the job is done: spin, then yield the core to a descheduled
 * helper that holds a claimed task. */
static void wait_done(tdl_index tasks)
{
    int64_t start = now_ns();
    for (int spins = 0; atomic_load_explicit(&pool.done, memory_order_acquire) < tasks; spins++) {
        if ((spins & 63) == 63 && now_ns() - start > TDL_POOL_SPIN_NS)
            sched_yield();
        else
            cpu_relax();
    }
}

/* In a child after fork() the helpers are gone: start again with none. */
static void pool_after_fork(void)
{
    pool.started = 0;
    atomic_store(&pool.sleepers, 0);
    pthread_mutex_init(&pool.run_lock, NULL);
    pthread_mutex_init(&pool.sleep_lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
}

static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;
static void install_fork_handler(void) { pthread_atfork(NULL, NULL, pool_after_fork); }

static void pool_run(int workers, tdl_index tasks, tdl_task_fn fn, void *ctx)
{
    if (inside_pool || tasks > UINT32_MAX || pthread_mutex_trylock(&pool.run_lock) != 0) {
        run_serial(tasks, fn, ctx);  /* nested, or another thread's job is running */
        return;
    }
    pthread_once(&fork_handler_once, install_fork_handler);
    start_helpers(workers);
    workers = (int)tdl_min(workers, pool.started + 1);
    atomic_store_explicit(&pool.fn, fn, memory_order_relaxed);
    atomic_store_explicit(&pool.ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&pool.tasks, tasks, memory_order_relaxed);
    atomic_store_explicit(&pool.workers, workers, memory_order_relaxed);
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    uint32_t gen = (uint32_t)(atomic_load(&pool.word) >> 32) + 1;
    atomic_store(&pool.word, (uint64_t)gen << 32);  /* publishes the fields above */
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.sleep_lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.sleep_lock);
    }
    inside_pool = 1;
    claim_tasks(0, gen);
    wait_done(tasks);
    inside_pool = 0;
    pthread_mutex_unlock(&pool.run_lock);
}
#endif

void tdl_parallel_run(int workers, tdl_index tasks, tdl_task_fn fn, void *ctx)
{
    if (tasks <= 0)
        return;
    workers = (int)tdl_min(tdl_min(workers, tasks), TDL_MAX_THREADS);
    if (workers <= 1) {
        run_serial(tasks, fn, ctx);
        return;
    }
#if defined(TDL_POOL_PTHREADS)
    pool_run(workers, tasks, fn, ctx);
#elif defined(TDL_HAVE_OPENMP)
    tdl_index next = 0;
#pragma omp parallel num_threads(workers)
    {
        const int worker = omp_get_thread_num();
        for (;;) {
            tdl_index task;
#pragma omp atomic capture
            task = next++;
            if (task >= tasks)
                break;
            fn(ctx, task, worker);
        }
    }
#else
    run_serial(tasks, fn, ctx);
#endif
}

/* Ranges for tdl_parallel_for: task i covers [n*i/tasks, n*(i+1)/tasks). */
typedef struct {
    tdl_range_fn fn;
    void *ctx;
    tdl_index n, tasks;
} range_job;

static void run_range(void *arg, tdl_index task, int worker)
{
    const range_job *job = arg;
    (void)worker;
    job->fn(job->ctx, job->n * task / job->tasks, job->n * (task + 1) / job->tasks);
}

void tdl_parallel_for(int workers, tdl_index n, tdl_range_fn fn, void *ctx)
{
    if (n <= 0)
        return;
    range_job job = {fn, ctx, n, tdl_min(n, (tdl_index)workers * TDL_RANGES_PER_THREAD)};
    if (workers <= 1 || job.tasks <= 1) {
        fn(ctx, 0, n);
        return;
    }
    tdl_parallel_run(workers, job.tasks, run_range, &job);
}
