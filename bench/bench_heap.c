/* ESP-IDF heap allocator speed: replays an allocation trace (docs/heap.md)
 * against esim_tlsf on one large region and against glibc's malloc/free in
 * the same run, and prints allocate/free pairs per second for each and the
 * ratio TLSF/glibc (best of several rounds).
 *   build/bench/bench_heap [trace [rounds]]
 *   build/bench/bench_heap --record out.trace
 * --record writes a trace of the firmware's boot (esim_heaps_boot_firmware)
 * followed by a synthetic workload driven through esim_heap_caps_malloc and
 * esim_heap_caps_free, and prints idf_heap_info(HEAP_DATA) after the boot. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esp32sim/heap.h"

#ifndef ESIM_HEAP_TRACE
#define ESIM_HEAP_TRACE "bench/traces/firmware_boot.trace"
#endif

#define MAX_ID 10000000u

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the trace ---- */

typedef struct {
    char kind;          /* 'a' or 'f' */
    uint32_t id;
    uint32_t size;
} op;

typedef struct {
    op *ops;
    size_t count, cap;
    size_t allocs;
    uint32_t ids;        /* one more than the largest id */
    uint32_t *leftover;  /* ids still allocated at the end */
    size_t leftover_count;
    size_t peak_bytes;
} trace;

static int push(trace *t, op o)
{
    if (t->count == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 4096;
        op *ops = realloc(t->ops, cap * sizeof *ops);
        if (!ops)
            return -1;
        t->ops = ops;
        t->cap = cap;
    }
    t->ops[t->count++] = o;
    if (o.id >= t->ids)
        t->ids = o.id + 1;
    return 0;
}

static int parse_line(const char *line, op *out)
{
    unsigned long id, size, caps;
    if (sscanf(line, " a %lu %lu %lx", &id, &size, &caps) == 3 && id < MAX_ID && size <= UINT32_MAX) {
        *out = (op){'a', (uint32_t)id, (uint32_t)size};
        return 1;
    }
    if (sscanf(line, " f %lu", &id) == 1 && id < MAX_ID) {
        *out = (op){'f', (uint32_t)id, 0};
        return 1;
    }
    return line[strspn(line, " \t\r\n")] == '\0' || line[strspn(line, " \t")] == '#' ? 0 : -1;
}

/* Every id is allocated once before it is freed, and freed at most once;
 * this also finds the ids left allocated and the peak of live bytes. */
static int check_ids(trace *t)
{
    uint32_t *size_of = calloc(t->ids + 1, sizeof *size_of);
    uint8_t *live = calloc(t->ids + 1, 1);
    t->leftover = calloc(t->ids + 1, sizeof *t->leftover);
    if (!size_of || !live || !t->leftover) {
        free(size_of);
        free(live);
        return -1;
    }
    size_t bytes = 0;
    int err = 0;
    for (size_t i = 0; i < t->count && !err; i++) {
        const op *o = &t->ops[i];
        err = (o->kind == 'a') == live[o->id] ? -1 : 0;
        live[o->id] = o->kind == 'a';
        if (o->kind == 'a') {
            size_of[o->id] = o->size;
            bytes += o->size + 4;
            t->allocs++;
        } else {
            bytes -= size_of[o->id] + 4;
        }
        t->peak_bytes = bytes > t->peak_bytes ? bytes : t->peak_bytes;
    }
    for (uint32_t id = 0; id < t->ids; id++)
        if (live[id])
            t->leftover[t->leftover_count++] = id;
    free(size_of);
    free(live);
    return err;
}

static int load_trace(const char *path, trace *t)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    int err = 0;
    size_t number = 0;
    while (!err && fgets(line, sizeof line, f)) {
        number++;
        op o;
        int got = parse_line(line, &o);
        if (got < 0)
            fprintf(stderr, "bench_heap: %s:%zu: not a trace line\n", path, number);
        err = got < 0 ? -1 : got ? push(t, o) : 0;
    }
    fclose(f);
    if (!err && check_ids(t)) {
        fprintf(stderr, "bench_heap: %s: an id is used before it is allocated or twice\n", path);
        err = -1;
    }
    return err ? err : t->allocs ? 0 : -1;
}

/* ---- replay ---- */

typedef struct {
    const trace *t;
    esim_tlsf *heap;
    uint32_t *addr;      /* by id */
    void **ptr;          /* by id */
    size_t failed;
} replay;

static void run_tlsf(replay *r)
{
    for (size_t i = 0; i < r->t->count; i++) {
        const op *o = &r->t->ops[i];
        if (o->kind == 'a') {
            r->addr[o->id] = esim_tlsf_malloc(r->heap, o->size);
            r->failed += r->addr[o->id] == 0;
        } else {
            esim_tlsf_free(r->heap, r->addr[o->id]);
        }
    }
    for (size_t i = 0; i < r->t->leftover_count; i++)
        esim_tlsf_free(r->heap, r->addr[r->t->leftover[i]]);
}

static void run_glibc(replay *r)
{
    for (size_t i = 0; i < r->t->count; i++) {
        const op *o = &r->t->ops[i];
        if (o->kind == 'a')
            r->ptr[o->id] = malloc(o->size);
        else
            free(r->ptr[o->id]);
    }
    for (size_t i = 0; i < r->t->leftover_count; i++)
        free(r->ptr[r->t->leftover[i]]);
}

/* Seconds per pass over the trace: passes batched to about 20 ms. */
static double time_passes(void (*run)(replay *), replay *r, int passes)
{
    double t0 = now();
    for (int i = 0; i < passes; i++)
        run(r);
    return (now() - t0) / passes;
}

static int batch_for(void (*run)(replay *), replay *r)
{
    double one = time_passes(run, r, 1);
    int passes = one > 0 ? (int)(0.02 / one) : 1000;
    return passes < 1 ? 1 : passes > 100000 ? 100000 : passes;
}

static int bench(const char *path, int rounds)
{
    trace t = {0};
    if (load_trace(path, &t)) {
        fprintf(stderr, "bench_heap: cannot read the trace %s\n", path);
        free(t.ops);
        free(t.leftover);
        return 1;
    }
    size_t region = 2 * t.peak_bytes + 65536;
    region = region < 262144 ? 262144 : region;
    uint8_t *mem = malloc(region);
    replay r = {.t = &t, .addr = calloc(t.ids, sizeof *r.addr), .ptr = calloc(t.ids, sizeof *r.ptr)};
    r.heap = mem ? esim_tlsf_create(mem, region, 0x3FF00000u) : NULL;
    if (!r.heap || !r.addr || !r.ptr) {
        fprintf(stderr, "bench_heap: out of memory\n");
        return 1;
    }
    int tlsf_passes = batch_for(run_tlsf, &r), glibc_passes = batch_for(run_glibc, &r);
    double best_tlsf = 1e30, best_glibc = 1e30;
    for (int i = 0; i < rounds; i++) {
        double a = time_passes(run_tlsf, &r, tlsf_passes);
        double b = time_passes(run_glibc, &r, glibc_passes);
        best_tlsf = a < best_tlsf ? a : best_tlsf;
        best_glibc = b < best_glibc ? b : best_glibc;
    }
    bool intact = esim_tlsf_check(r.heap);
    printf("trace %s\n  %zu allocations, %zu frees, peak %.1f KiB live; best of %d rounds\n", path,
           t.allocs, t.allocs - t.leftover_count, t.peak_bytes / 1024.0, rounds);
    printf("%-40s %8.2f M pairs/s\n", "glibc malloc/free (baseline)", t.allocs / best_glibc / 1e6);
    char name[64];
    snprintf(name, sizeof name, "esim_tlsf (one %zu KiB region)", region / 1024);
    printf("%-40s %8.2f M pairs/s\n", name, t.allocs / best_tlsf / 1e6);
    printf("%-40s %8.2f\n", "ratio TLSF/glibc (pairs per second)", best_glibc / best_tlsf);
    if (r.failed || !intact)
        printf("warning: %zu TLSF allocations failed, heap check %s\n", r.failed, intact ? "ok" : "FAILED");
    esim_tlsf_destroy(r.heap);
    free(mem);
    free(r.addr);
    free(r.ptr);
    free(t.ops);
    free(t.leftover);
    return intact ? 0 : 1;
}

/* ---- recording ---- */

#define MAX_LIVE 4096
#define WORKLOAD_STEPS 2500u
#define WORKLOAD_SEED 0x9E3779B9u

typedef struct {
    FILE *out;
    uint32_t addr[MAX_LIVE], id[MAX_LIVE];
    size_t live;
    uint32_t next_id;
    int lost;
} writer;

static void write_event(void *ctx, char op_kind, uint32_t addr, size_t size, uint32_t caps)
{
    writer *w = ctx;
    if (op_kind == 'a') {
        if (w->live == MAX_LIVE) {
            w->lost = 1;
            return;
        }
        w->addr[w->live] = addr;
        w->id[w->live++] = w->next_id;
        fprintf(w->out, "a %u %zu 0x%x\n", (unsigned)w->next_id++, size, (unsigned)caps);
        return;
    }
    for (size_t i = 0; i < w->live; i++) {
        if (w->addr[i] != addr)
            continue;
        fprintf(w->out, "f %u\n", (unsigned)w->id[i]);
        w->addr[i] = w->addr[--w->live];
        w->id[i] = w->id[w->live];
        return;
    }
}

static uint32_t next_random(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* What a running MicroPython program makes ESP-IDF allocate, by kind: each
 * object lives for a number of steps, then is freed. */
typedef struct {
    uint32_t addr, until;
} object;

typedef struct {
    esim_heaps *heaps;
    object live[1024];
    size_t count;
    uint32_t step, rng;
} workload;

#define MALLOC_CAPS (ESIM_MALLOC_CAP_DEFAULT | ESIM_MALLOC_CAP_INTERNAL)
#define RTOS_CAPS (ESIM_MALLOC_CAP_INTERNAL | ESIM_MALLOC_CAP_8BIT)

static void make(workload *w, size_t size, uint32_t caps, uint32_t lifetime)
{
    uint32_t addr = esim_heap_caps_malloc(w->heaps, size, caps);
    if (addr && w->count < 1024)
        w->live[w->count++] = (object){addr, w->step + lifetime};
    else
        esim_heap_caps_free(w->heaps, addr);
}

static uint32_t between(workload *w, uint32_t lo, uint32_t hi)
{
    return lo + next_random(&w->rng) % (hi - lo + 1);
}

static void expire(workload *w, bool all)
{
    for (size_t i = 0; i < w->count;) {
        if (all || w->live[i].until <= w->step) {
            esim_heap_caps_free(w->heaps, w->live[i].addr);
            w->live[i] = w->live[--w->count];
        } else {
            i++;
        }
    }
}

/* One step of the program: an NVS session, an RMT transmission, network
 * packets, a timer, a native function, a thread, or now and then a soft
 * reset that frees what the last program held. */
static void program_step(workload *w)
{
    uint32_t pick = between(w, 0, 999);
    if (pick < 250) {           /* esp32.NVS: handle, a blob buffer, an iterator */
        make(w, 48, MALLOC_CAPS, between(w, 1, 4));
        make(w, between(w, 16, 2000), MALLOC_CAPS, 1);
        make(w, 24, MALLOC_CAPS, 1);
    } else if (pick < 450) {    /* esp32.RMT.write_pulses: the item buffer */
        uint32_t items = between(w, 8, 600);
        make(w, 4 * items, RTOS_CAPS, between(w, 1, 3));
    } else if (pick < 800) {    /* sockets: a burst of lwIP buffers */
        for (uint32_t n = between(w, 1, 6); n; n--) {
            uint32_t size = between(w, 60, 1600);
            make(w, size, MALLOC_CAPS, between(w, 1, 8));
        }
    } else if (pick < 900) {    /* machine.Timer / esp_timer_create */
        make(w, 52, MALLOC_CAPS, between(w, 20, 400));
    } else if (pick < 960) {    /* @micropython.native code in IRAM */
        uint32_t size = between(w, 64, 1500);
        make(w, size, ESIM_MALLOC_CAP_EXEC, between(w, 50, 2000));
    } else if (pick < 995) {    /* _thread.start_new_thread: stack and TCB */
        uint32_t life = between(w, 10, 300);
        make(w, 4096, RTOS_CAPS, life);
        make(w, 344, RTOS_CAPS, life);
    } else {
        expire(w, true);
    }
}

static int record(const char *path)
{
    writer *wr = calloc(1, sizeof *wr);
    workload *w = calloc(1, sizeof *w);
    if (!wr || !w || esim_heaps_create(&w->heaps) != ESP_OK || !(wr->out = fopen(path, "w"))) {
        fprintf(stderr, "bench_heap: cannot record to %s\n", path);
        return 1;
    }
    fprintf(wr->out, "# esp32sim heap trace (docs/heap.md): esim_heaps_boot_firmware, then a synthetic\n"
                     "# workload of %u program steps (bench_heap --record, seed 0x%X)\n",
            WORKLOAD_STEPS, WORKLOAD_SEED);
    esim_heaps_set_recorder(w->heaps, write_event, wr);
    uint32_t gc;
    size_t gc_size;
    esp_err_t err = esim_heaps_boot_firmware(w->heaps, &gc, &gc_size);
    printf("boot: %s, GC heap %zu bytes at 0x%08x\nidf_heap_info(HEAP_DATA) = [", err ? "failed" : "ok",
           gc_size, (unsigned)gc);
    for (size_t i = 0, n = 0; i < esim_heaps_count(w->heaps); i++) {
        esim_heap_info info;
        esim_heaps_get_info(w->heaps, i, &info);
        if ((info.caps & ESIM_MALLOC_CAP_8BIT) == ESIM_MALLOC_CAP_8BIT)
            printf("%s(%zu, %zu, %zu, %zu)", n++ ? ", " : "", info.total_bytes, info.free_bytes,
                   info.largest_free_block, info.minimum_free_bytes);
    }
    printf("]\n");
    w->rng = WORKLOAD_SEED;
    for (w->step = 0; w->step < WORKLOAD_STEPS; w->step++) {
        expire(w, false);
        program_step(w);
    }
    expire(w, true);
    esim_heaps_set_recorder(w->heaps, NULL, NULL);
    int bad = fclose(wr->out) != 0 || wr->lost || err;
    printf("recorded %u allocations to %s\n", (unsigned)wr->next_id, path);
    esim_heaps_destroy(w->heaps);
    free(w);
    free(wr);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--record") == 0)
        return record(argv[2]);
    const char *path = argc > 1 ? argv[1] : ESIM_HEAP_TRACE;
    int rounds = argc > 2 ? atoi(argv[2]) : 7;
    if (rounds < 1) {
        fprintf(stderr, "usage: bench_heap [trace [rounds]] | --record out.trace\n");
        return 2;
    }
    return bench(path, rounds);
}
