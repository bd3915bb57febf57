/* esp32sim — the RMT peripheral's transmit side on the virtual clock
 * (rmt.h, docs/rmt.md).
 *
 * A channel in transmission keeps a cursor over its sequence that yields
 * "pieces" of output in time order: the level the pin takes at a time (a
 * half's data level, a carrier phase, the end level). The channel's next
 * level change is the first piece that differs from what the pin shows;
 * it is found lazily, one change at a time, so long sequences and carrier
 * trains never sit in memory. esim_rmt_run_until takes the earliest next
 * change of all channels, again and again, so the pins change in time
 * order across channels. */
#include "esp32sim/rmt.h"

#include <stdlib.h>
#include <string.h>

#define SOURCE_CYCLE_PS 12500u            /* one 80 MHz APB cycle */
#define NO_CHANGE UINT64_MAX

typedef enum {
    CURSOR_OFF,      /* nothing more to show */
    CURSOR_RUN,      /* inside the sequence */
    CURSOR_END,      /* the end level is the next piece */
    CURSOR_PARKED,   /* a loop whose passes change nothing: no piece until it stops */
} cursor_state;

typedef struct {
    bool installed;
    bool drives_pin;       /* the pad shows this channel (the last one installed on it) */
    esim_rmt_config cfg;
    uint64_t tick_ps;      /* one divided-clock tick */
    /* the transmission */
    uint32_t *items;       /* the sequence up to its end, a private copy */
    size_t n_halves;       /* (duration, level) halves before the end */
    int end_level;         /* what the pin shows after the end */
    uint64_t pass_ps;      /* one pass through the sequence */
    bool loop;
    uint64_t start_ps;
    uint64_t end_ps;       /* UINT64_MAX: a loop that goes on; 0: never sent */
    /* the cursor */
    cursor_state state;
    size_t half;           /* the half in progress; n_halves at a pass's end */
    uint64_t pos;          /* when the next piece begins */
    uint64_t half_end;
    uint64_t pass_start;
    uint64_t seg_start;    /* start of the carrier-gated segment in progress */
    int prev_level;        /* data level of the previous half of this pass, -1: none */
    /* the output */
    int out;               /* what the channel's output shows now */
    uint64_t next_t;       /* its next change, NO_CHANGE when none is due */
    int next_level;
} rmt_channel;

struct esim_rmt {
    rmt_channel ch[ESIM_RMT_CHANNELS];
};

/* ---- items ---- */

static uint32_t half_word(const uint32_t *items, size_t half)
{
    uint32_t item = items[half / 2];
    return half & 1u ? item >> 16 : item & 0xFFFFu;
}

static uint32_t half_ticks(uint32_t half) { return half & 0x7FFFu; }
static int half_level(uint32_t half) { return (int)(half >> 15 & 1u); }

/* ---- the cursor ---- */

static bool gated(const rmt_channel *c, int level)
{
    return c->cfg.carrier && level == (int)c->cfg.carrier_level;
}

static void enter_half(rmt_channel *c, size_t half, uint64_t t)
{
    uint32_t word = half_word(c->items, half);
    int level = half_level(word);
    c->half = half;
    c->pos = t;
    c->half_end = t + (uint64_t)half_ticks(word) * c->tick_ps;
    if (gated(c, level) && c->prev_level != level)
        c->seg_start = t;   /* a gated segment starts with the carrier's high phase */
    c->prev_level = level;
}

static void start_pass(rmt_channel *c, uint64_t t)
{
    c->pass_start = t;
    c->prev_level = -1;     /* every pass restarts the carrier */
    enter_half(c, 0, t);
}

static void finish_half(rmt_channel *c)
{
    c->pos = c->half_end;
    if (c->half + 1 < c->n_halves)
        enter_half(c, c->half + 1, c->half_end);
    else
        c->half = c->n_halves;
}

/* The carrier's level at t inside a gated segment, and when it toggles
 * next. */
static int carrier_at(const rmt_channel *c, uint64_t t, uint64_t *toggle)
{
    uint64_t high = c->cfg.carrier_high, period = high + c->cfg.carrier_low;
    uint64_t phase = (t - c->seg_start) / SOURCE_CYCLE_PS % period;
    bool is_high = phase < high;
    *toggle = t + ((is_high ? high : period) - phase) * SOURCE_CYCLE_PS;
    return is_high;
}

/* The next piece of output; false when there is none. *wrapped tells that
 * a loop began a new pass. */
static bool next_piece(rmt_channel *c, uint64_t *t, int *level, bool *wrapped)
{
    if (c->state == CURSOR_RUN && c->half == c->n_halves) {
        if (c->loop && c->pos < c->end_ps) {
            start_pass(c, c->pos);
            *wrapped = true;
        } else {
            c->state = CURSOR_END;
        }
    }
    if (c->state == CURSOR_END) {
        *t = c->pos;
        *level = c->end_level;
        c->state = CURSOR_OFF;
        return true;
    }
    if (c->state != CURSOR_RUN)
        return false;
    *t = c->pos;
    int data = half_level(half_word(c->items, c->half));
    if (!gated(c, data)) {
        *level = data;
        finish_half(c);
        return true;
    }
    uint64_t toggle;
    *level = carrier_at(c, *t, &toggle);
    if (toggle < c->half_end)
        c->pos = toggle;
    else
        finish_half(c);
    return true;
}

/* Find the channel's next level change. Every pass of a loop shows the
 * same pieces, so a whole pass without a change means none will come
 * until the loop is stopped: the cursor parks. */
static void find_next_change(rmt_channel *c)
{
    int wraps = 0;
    uint64_t t;
    int level;
    c->next_t = NO_CHANGE;
    for (;;) {
        bool wrapped = false;
        if (!next_piece(c, &t, &level, &wrapped))
            return;
        if (wrapped && ++wraps == 2) {
            c->state = CURSOR_PARKED;
            return;
        }
        if (level != c->out) {
            c->next_t = t;
            c->next_level = level;
            return;
        }
    }
}

/* ---- life of the peripheral ---- */

esp_err_t esim_rmt_create(esim_rmt **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? ESP_OK : ESP_ERR_NO_MEM;
}

void esim_rmt_destroy(esim_rmt *rmt)
{
    if (rmt == NULL)
        return;
    for (int i = 0; i < ESIM_RMT_CHANNELS; i++)
        free(rmt->ch[i].items);
    free(rmt);
}

static bool valid_channel(int channel)
{
    return channel >= 0 && channel < ESIM_RMT_CHANNELS;
}

static bool blocks_overlap(int a, int a_blocks, int b, int b_blocks)
{
    return a < b + b_blocks && b < a + a_blocks;
}

static esp_err_t check_config(int channel, const esim_rmt_config *cfg)
{
    if (cfg->clock_div == 0 || cfg->mem_blocks == 0 || channel + cfg->mem_blocks > ESIM_RMT_CHANNELS)
        return ESP_ERR_INVALID_ARG;
    if (cfg->carrier && (cfg->carrier_high == 0 || cfg->carrier_low == 0))
        return ESP_ERR_INVALID_ARG;
    if (!esim_pin_exists(cfg->gpio) || esim_pin_input_only(cfg->gpio))
        return ESP_ERR_INVALID_ARG;
    return ESP_OK;
}

static esp_err_t check_free(const esim_rmt *rmt, int channel, int blocks)
{
    for (int i = 0; i < ESIM_RMT_CHANNELS; i++) {
        const rmt_channel *o = &rmt->ch[i];
        if (o->installed && blocks_overlap(channel, blocks, i, o->cfg.mem_blocks))
            return ESP_ERR_INVALID_STATE;   /* itself installed, or a block taken */
    }
    return ESP_OK;
}

esp_err_t esim_rmt_install(esim_rmt *rmt, esim_gpio *gpio, int channel, const esim_rmt_config *cfg)
{
    if (!valid_channel(channel) || cfg == NULL || gpio == NULL)
        return ESP_ERR_INVALID_ARG;
    esp_err_t err = check_config(channel, cfg);
    if (err)
        return err;
    err = check_free(rmt, channel, cfg->mem_blocks);
    if (err)
        return err;
    rmt_channel *c = &rmt->ch[channel];
    *c = (rmt_channel){.installed = true, .cfg = *cfg, .next_t = NO_CHANGE};
    c->tick_ps = (uint64_t)cfg->clock_div * SOURCE_CYCLE_PS;
    c->out = cfg->idle_output && cfg->idle_level;
    for (int i = 0; i < ESIM_RMT_CHANNELS; i++)
        if (rmt->ch[i].cfg.gpio == cfg->gpio)
            rmt->ch[i].drives_pin = false;   /* the matrix connects one signal per pad */
    c->drives_pin = true;
    esim_gpio_peripheral_level(gpio, cfg->gpio, c->out);
    return esim_gpio_route_peripheral(gpio, cfg->gpio, true);
}

esp_err_t esim_rmt_uninstall(esim_rmt *rmt, esim_gpio *gpio, int channel)
{
    if (!valid_channel(channel))
        return ESP_ERR_INVALID_ARG;
    rmt_channel *c = &rmt->ch[channel];
    if (!c->installed)
        return ESP_ERR_INVALID_STATE;
    if (c->drives_pin && gpio != NULL)
        esim_gpio_route_peripheral(gpio, c->cfg.gpio, false);
    free(c->items);
    *c = (rmt_channel){.next_t = NO_CHANGE};
    return ESP_OK;
}

bool esim_rmt_installed(const esim_rmt *rmt, int channel)
{
    return valid_channel(channel) && rmt->ch[channel].installed;
}

esp_err_t esim_rmt_get_config(const esim_rmt *rmt, int channel, esim_rmt_config *out)
{
    if (!valid_channel(channel) || out == NULL)
        return ESP_ERR_INVALID_ARG;
    if (!rmt->ch[channel].installed)
        return ESP_ERR_INVALID_STATE;
    *out = rmt->ch[channel].cfg;
    return ESP_OK;
}

void esim_rmt_reset(esim_rmt *rmt, esim_gpio *gpio)
{
    for (int i = 0; i < ESIM_RMT_CHANNELS; i++)
        if (rmt->ch[i].installed)
            esim_rmt_uninstall(rmt, gpio, i);
}

esp_err_t esim_rmt_carrier_counts(uint32_t freq_hz, uint32_t duty_percent, uint16_t *high, uint16_t *low)
{
    if (freq_hz == 0 || duty_percent > 100 || high == NULL || low == NULL)
        return ESP_ERR_INVALID_ARG;
    uint64_t period = ESIM_RMT_SOURCE_HZ / freq_hz;
    uint64_t h = period * duty_percent / 100u, l = period - h;
    if (h == 0 || l == 0 || h > UINT16_MAX || l > UINT16_MAX)
        return ESP_ERR_INVALID_ARG;
    *high = (uint16_t)h;
    *low = (uint16_t)l;
    return ESP_OK;
}

/* ---- transmitting ---- */

/* The halves before the first zero duration, and the level field of that
 * end marker (the driver's own marker carries the idle level). */
static size_t count_halves(const uint32_t *items, size_t n, int idle_level, int *marker_level, bool *has_marker)
{
    *marker_level = idle_level;
    *has_marker = false;
    for (size_t h = 0; h < 2 * n; h++) {
        uint32_t word = half_word(items, h);
        if (half_ticks(word) == 0) {
            *marker_level = half_level(word);
            *has_marker = true;
            return h;
        }
    }
    return 2 * n;
}

static uint64_t pass_ticks(const uint32_t *items, size_t n_halves)
{
    uint64_t ticks = 0;
    for (size_t h = 0; h < n_halves; h++)
        ticks += half_ticks(half_word(items, h));
    return ticks;
}

static esp_err_t keep_items(rmt_channel *c, const uint32_t *items, size_t n_halves)
{
    size_t n = (n_halves + 1) / 2;
    uint32_t *copy = malloc((n ? n : 1) * sizeof *copy);
    if (copy == NULL)
        return ESP_ERR_NO_MEM;
    memcpy(copy, items, n * sizeof *copy);
    free(c->items);
    c->items = copy;
    return ESP_OK;
}

esp_err_t esim_rmt_write(esim_rmt *rmt, int channel, const uint32_t *items, size_t n, bool loop, uint64_t now_ps)
{
    if (!valid_channel(channel) || items == NULL || n == 0)
        return ESP_ERR_INVALID_ARG;
    rmt_channel *c = &rmt->ch[channel];
    if (!c->installed || now_ps < c->end_ps)
        return ESP_ERR_INVALID_STATE;
    int marker_level;
    bool has_marker;
    size_t halves = count_halves(items, n, c->cfg.idle_level, &marker_level, &has_marker);
    size_t memory_needed = has_marker ? halves / 2 + 1 : n + 1;
    if (loop && memory_needed > (size_t)c->cfg.mem_blocks * ESIM_RMT_BLOCK_ITEMS)
        return ESP_ERR_INVALID_ARG;
    esp_err_t err = keep_items(c, items, halves);
    if (err)
        return err;
    c->n_halves = halves;
    c->end_level = c->cfg.idle_output ? c->cfg.idle_level : marker_level;
    c->pass_ps = pass_ticks(items, halves) * c->tick_ps;
    c->loop = loop;
    c->start_ps = now_ps;
    c->end_ps = loop ? UINT64_MAX : now_ps + c->pass_ps;
    if (halves == 0) {
        c->state = CURSOR_END;
        c->pos = now_ps;
    } else {
        c->state = CURSOR_RUN;
        start_pass(c, now_ps);
    }
    find_next_change(c);
    return ESP_OK;
}

uint64_t esim_rmt_tx_end_ps(const esim_rmt *rmt, int channel, uint64_t now_ps)
{
    (void)now_ps;
    return esim_rmt_installed(rmt, channel) ? rmt->ch[channel].end_ps : 0;
}

bool esim_rmt_busy(const esim_rmt *rmt, int channel, uint64_t now_ps)
{
    return now_ps < esim_rmt_tx_end_ps(rmt, channel, now_ps);
}

void esim_rmt_stop_loop(esim_rmt *rmt, int channel, uint64_t now_ps)
{
    if (!esim_rmt_installed(rmt, channel))
        return;
    rmt_channel *c = &rmt->ch[channel];
    if (!c->loop || c->end_ps != UINT64_MAX)
        return;   /* not a loop that goes on */
    if (c->pass_ps == 0) {
        c->end_ps = now_ps > c->start_ps ? now_ps : c->start_ps;
        return;
    }
    uint64_t done = now_ps > c->start_ps ? (now_ps - c->start_ps) / c->pass_ps : 0;
    c->end_ps = c->start_ps + (done + 1) * c->pass_ps;
    /* A cursor already past that end (looking for a change in a later
     * pass, or parked) saw only the current level up to it: end there. */
    if (c->state == CURSOR_PARKED || (c->state == CURSOR_RUN && c->pass_start >= c->end_ps)) {
        c->state = CURSOR_END;
        c->pos = c->end_ps;
        find_next_change(c);
    }
}

/* ---- driving the pins ---- */

/* The channel with the earliest next change (the lowest number on a
 * tie), or -1. Eight channels: a scan is the cheapest merge. */
static int earliest(const esim_rmt *rmt)
{
    int first = -1;
    for (int i = 0; i < ESIM_RMT_CHANNELS; i++) {
        const rmt_channel *c = &rmt->ch[i];
        if (c->installed && c->next_t != NO_CHANGE && (first < 0 || c->next_t < rmt->ch[first].next_t))
            first = i;
    }
    return first;
}

uint64_t esim_rmt_next_change_ps(const esim_rmt *rmt)
{
    int i = earliest(rmt);
    return i < 0 ? UINT64_MAX : rmt->ch[i].next_t;
}

void esim_rmt_run_until(esim_rmt *rmt, esim_gpio *gpio, uint64_t t_ps)
{
    int i;
    while ((i = earliest(rmt)) >= 0 && rmt->ch[i].next_t <= t_ps) {
        rmt_channel *c = &rmt->ch[i];
        esim_gpio_set_time_ps(gpio, c->next_t);
        c->out = c->next_level;
        if (c->drives_pin)
            esim_gpio_peripheral_level(gpio, c->cfg.gpio, c->out);
        find_next_change(c);
    }
}
