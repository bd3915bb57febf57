/* Core flash path throughput: esim_partition_read/write/erase over a 1.5 MiB
 * partition in 4 KiB blocks, as a ratio to memcpy of the same bytes in the
 * same run.   build/bench/bench_flash [rounds] */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esp32sim/partition.h"

#define BLOCK 4096u

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct {
    esim_device *dev;
    esim_partition part;
    uint8_t *src, *dst;
} bench;

static void run_memcpy(bench *b)
{
    for (uint32_t o = 0; o < b->part.size; o += BLOCK)
        memcpy(b->dst + o, b->src + o, BLOCK);
}

static void run_read(bench *b)
{
    for (uint32_t o = 0; o < b->part.size; o += BLOCK)
        esim_partition_read(b->dev, &b->part, o, b->dst + o, BLOCK);
}

static void run_erase_write(bench *b)
{
    for (uint32_t o = 0; o < b->part.size; o += BLOCK) {
        esim_partition_erase_range(b->dev, &b->part, o, BLOCK);
        esim_partition_write(b->dev, &b->part, o, b->src + o, BLOCK);
    }
}

static double best_of(int rounds, void (*fn)(bench *), bench *b)
{
    double best = 1e30;
    for (int i = 0; i < rounds; i++) {
        double t0 = now();
        fn(b);
        double t = now() - t0;
        best = t < best ? t : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    esim_device_config cfg = {.layout = "ota"};
    bench b = {0};
    if (rounds < 1 || esim_device_open(&cfg, &b.dev, NULL) != ESP_OK ||
        !esim_partition_find_first(b.dev, ESIM_PART_TYPE_APP, 0x11, NULL, &b.part)) {
        fprintf(stderr, "bench_flash: cannot set up the board\n");
        return 1;
    }
    b.src = malloc(b.part.size);
    b.dst = malloc(b.part.size);
    for (uint32_t i = 0; b.src && i < b.part.size; i++)
        b.src[i] = (uint8_t)(i * 7);
    double base = best_of(rounds, run_memcpy, &b);
    double mib = b.part.size / 1048576.0;
    printf("partition ota_1, %.1f MiB in 4 KiB blocks, best of %d\n", mib, rounds);
    printf("%-32s %10.0f MiB/s   1.00x\n", "memcpy (baseline)", mib / base);
    double t = best_of(rounds, run_read, &b);
    printf("%-32s %10.0f MiB/s  %5.2fx memcpy time\n", "esim_partition_read", mib / t, t / base);
    t = best_of(rounds, run_erase_write, &b);
    printf("%-32s %10.0f MiB/s  %5.2fx memcpy time\n", "erase_range + write", mib / t, t / base);
    free(b.src);
    free(b.dst);
    esim_device_close(b.dev);
    return 0;
}
