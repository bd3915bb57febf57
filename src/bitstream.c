/* esp32sim — machine.bitstream's high/low encoding: through an RMT channel
 * or by CPU bit-banging, on the world's clock (esp32sim/bitstream.h). */
#include "esp32sim/bitstream.h"

#include <stdbool.h>
#include <stdlib.h>

#define PS_PER_US 1000000u
#define NS_PER_MS 1000000u
#define BITS_PER_BYTE 8u
#define EDGES_PER_BIT 2u
#define CHUNK_BYTES 256u   /* bit-bang edges are scheduled this many bytes at a time */

/* ---- the pure parts ---- */

/* counter_clk_khz * ns / 1e6 in the firmware's 32-bit arithmetic. */
static uint32_t rmt_ticks(uint32_t ns)
{
    return (uint32_t)(ESIM_BITSTREAM_RMT_TICK_KHZ * ns) / NS_PER_MS;
}

void esim_bitstream_bit_items(const uint32_t timing_ns[4], uint32_t items[2])
{
    for (int bit = 0; bit < 2; bit++)
        items[bit] = esim_rmt_item(rmt_ticks(timing_ns[2 * bit]), 1, rmt_ticks(timing_ns[2 * bit + 1]), 0);
}

static int bit_at(const uint8_t *data, size_t index)
{
    return data[index / BITS_PER_BYTE] >> (7u - index % BITS_PER_BYTE) & 1;
}

void esim_bitstream_items(const uint32_t timing_ns[4], const uint8_t *data, size_t len, uint32_t *items)
{
    uint32_t bit_item[2];
    esim_bitstream_bit_items(timing_ns, bit_item);
    for (size_t i = 0; i < len * BITS_PER_BYTE; i++)
        items[i] = bit_item[bit_at(data, i)];
}

void esim_bitstream_bitbang_cycles(uint32_t cpu_mhz, const uint32_t timing_ns[4], uint32_t cycles[4])
{
    for (int i = 0; i < 4; i++) {
        cycles[i] = cpu_mhz * timing_ns[i] / 1000u;
        if (cycles[i] > ESIM_BITSTREAM_BITBANG_OVERHEAD)
            cycles[i] -= ESIM_BITSTREAM_BITBANG_OVERHEAD;
        if (i % 2 == 1)
            cycles[i] += cycles[i - 1];   /* the low time becomes the bit's period */
    }
}

/* ---- time ---- */

static uint64_t now_ps(const esim_device *dev)
{
    return esim_device_world_time_us(dev) * PS_PER_US;
}

static uint64_t us_rounded_up(uint64_t ps)
{
    return ps / PS_PER_US + (ps % PS_PER_US != 0);
}

/* The world's clock counts microseconds, but the GPIO record picoseconds:
 * times must stay below what both can hold. */
static bool fits_on_clock(uint64_t start_us, uint64_t length_us)
{
    uint64_t max_us = UINT64_MAX / PS_PER_US - 1u;
    return start_us < max_us && length_us < max_us - start_us;
}

/* ---- RMT ---- */

static esp_err_t rmt_send(esim_device *dev, int channel, const uint32_t *items, size_t n)
{
    esim_rmt *rmt = esim_device_rmt(dev);
    uint64_t start = now_ps(dev);
    esp_err_t err = n ? esim_rmt_write(rmt, channel, items, n, false, start) : ESP_OK;
    if (err)
        return err;
    return esim_device_advance_to(dev, us_rounded_up(esim_rmt_tx_end_ps(rmt, channel, start)));
}

static esp_err_t bitstream_rmt(esim_device *dev, int pin, int channel, const uint32_t timing_ns[4],
                               const uint8_t *data, size_t len)
{
    if (len > SIZE_MAX / BITS_PER_BYTE / sizeof(uint32_t))
        return ESP_ERR_INVALID_SIZE;
    uint32_t *items = malloc(len * BITS_PER_BYTE * sizeof *items + 1u);
    if (items == NULL)
        return ESP_ERR_NO_MEM;
    esim_bitstream_items(timing_ns, data, len, items);
    const esim_rmt_config cfg = {
        .gpio = pin,
        .clock_div = ESIM_BITSTREAM_RMT_CLOCK_DIV,
        .mem_blocks = 1,
        .idle_output = true,
        .idle_level = false,
    };
    esim_gpio *gpio = esim_device_gpio(dev);
    esp_err_t err = esim_rmt_install(esim_device_rmt(dev), gpio, channel, &cfg);
    if (err == ESP_OK) {
        err = rmt_send(dev, channel, items, len * BITS_PER_BYTE);
        esp_err_t off = esim_rmt_uninstall(esim_device_rmt(dev), gpio, channel);
        if (err == ESP_OK)
            err = off;
    }
    free(items);
    return err;
}

/* ---- bit-banging ---- */

typedef struct {
    uint32_t high[2];     /* cycles from a bit's rise to its fall, for a 0 and a 1 */
    uint32_t length[2];   /* cycles from a bit's rise to the next bit's */
    uint32_t mhz;
    uint64_t start_ps;
    uint64_t cycles;      /* since start_ps, at the current bit's rise */
} bitbang;

static uint32_t max_u32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

static void bitbang_init(bitbang *b, uint32_t cpu_hz, const uint32_t timing_ns[4], uint64_t start_ps)
{
    uint32_t c[4];
    b->mhz = cpu_hz / 1000000u;
    esim_bitstream_bitbang_cycles(b->mhz, timing_ns, c);
    for (int bit = 0; bit < 2; bit++) {
        b->high[bit] = c[2 * bit];
        /* a period shorter than the high time (32-bit wrap) ends the low
         * wait at once: the next rise follows the fall */
        b->length[bit] = max_u32(c[2 * bit], c[2 * bit + 1]);
    }
    b->start_ps = start_ps;
    b->cycles = 0;
}

static uint64_t cycles_ps(const bitbang *b, uint64_t cycles)
{
    return b->start_ps + cycles / b->mhz * PS_PER_US + cycles % b->mhz * PS_PER_US / b->mhz;
}

/* Whether the whole transmission fits on the clock. */
static bool bitbang_fits(const bitbang *b, const uint8_t *data, size_t len)
{
    uint64_t bits[2] = {0, 0}, total = 0;
    for (size_t i = 0; i < len * BITS_PER_BYTE; i++)
        bits[bit_at(data, i)]++;
    for (int bit = 0; bit < 2; bit++) {
        if (bits[bit] != 0 && b->length[bit] > (UINT64_MAX - total) / bits[bit])
            return false;
        total += bits[bit] * b->length[bit];
    }
    return fits_on_clock(b->start_ps / PS_PER_US, total / b->mhz + 1u);
}

/* The edges of data[0..len): a rise and a fall per bit. */
static void bitbang_edges(bitbang *b, const uint8_t *data, size_t len, uint64_t *t_ps, uint8_t *levels)
{
    for (size_t i = 0; i < len * BITS_PER_BYTE; i++) {
        int bit = bit_at(data, i);
        t_ps[2 * i] = cycles_ps(b, b->cycles);
        levels[2 * i] = 1;
        t_ps[2 * i + 1] = cycles_ps(b, b->cycles + b->high[bit]);
        levels[2 * i + 1] = 0;
        b->cycles += b->length[bit];
    }
}

static esp_err_t bitbang_send(esim_device *dev, int pin, bitbang *b, const uint8_t *data, size_t len,
                              uint64_t *t_ps, uint8_t *levels)
{
    for (size_t done = 0; done < len;) {
        size_t n = len - done < CHUNK_BYTES ? len - done : CHUNK_BYTES;
        size_t n_edges = n * BITS_PER_BYTE * EDGES_PER_BIT;
        bitbang_edges(b, data + done, n, t_ps, levels);
        esp_err_t err = esim_device_schedule_outputs(dev, pin, t_ps, levels, n_edges);
        /* up to the last edge scheduled, not beyond the next chunk's first */
        if (err == ESP_OK)
            err = esim_device_advance_to(dev, t_ps[n_edges - 1] / PS_PER_US);
        if (err)
            return err;
        done += n;
    }
    return esim_device_advance_to(dev, us_rounded_up(cycles_ps(b, b->cycles)));
}

static esp_err_t bitstream_bitbang(esim_device *dev, int pin, const uint32_t timing_ns[4], const uint8_t *data,
                                   size_t len)
{
    bitbang b;
    bitbang_init(&b, esim_device_cpu_freq(dev), timing_ns, now_ps(dev));
    if (!esim_pin_exists(pin))
        return ESP_ERR_INVALID_ARG;
    if (len > SIZE_MAX / BITS_PER_BYTE || !bitbang_fits(&b, data, len))
        return ESP_ERR_INVALID_SIZE;
    size_t max_edges = CHUNK_BYTES * BITS_PER_BYTE * EDGES_PER_BIT;
    uint64_t *t_ps = malloc(max_edges * sizeof *t_ps);
    uint8_t *levels = malloc(max_edges);
    esp_err_t err = t_ps && levels ? bitbang_send(dev, pin, &b, data, len, t_ps, levels) : ESP_ERR_NO_MEM;
    free(t_ps);
    free(levels);
    return err;
}

esp_err_t esim_device_bitstream(esim_device *dev, int pin, int rmt_channel, const uint32_t timing_ns[4],
                                const uint8_t *data, size_t len)
{
    if (dev == NULL || timing_ns == NULL || (data == NULL && len != 0))
        return ESP_ERR_INVALID_ARG;
    if (rmt_channel == ESIM_BITSTREAM_NO_RMT)
        return bitstream_bitbang(dev, pin, timing_ns, data, len);
    return bitstream_rmt(dev, pin, rmt_channel, timing_ns, data, len);
}
