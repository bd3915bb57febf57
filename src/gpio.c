/* esp32sim — GPIO pads, holds, outside drive, edges and the level record
 * (gpio.h, docs/gpio.md). */
#include "esp32sim/gpio.h"

#include <stdlib.h>
#include <string.h>

struct esim_gpio {
    uint64_t now_ps;
    esim_pad_config reg[ESIM_GPIO_COUNT];   /* what the firmware configured */
    esim_pad_config pad[ESIM_GPIO_COUNT];   /* what the pad does (reg unless held) */
    bool hold[ESIM_GPIO_COUNT];
    bool routed[ESIM_GPIO_COUNT];           /* a peripheral drives the output */
    uint8_t peripheral[ESIM_GPIO_COUNT];    /* and its level */
    bool deep_sleep_hold;
    int8_t outside[ESIM_GPIO_COUNT];        /* 0, 1 or ESIM_LEVEL_FLOATING */
    int8_t wire[ESIM_GPIO_COUNT];
    uint8_t edges[ESIM_GPIO_COUNT];
    uint64_t edge_pins;
    /* the record: a ring of the latest ESIM_GPIO_TRACE_MAX changes */
    esim_pin_change *trace;
    size_t trace_cap, trace_len, trace_head;
    uint64_t trace_dropped;
    int8_t trace_start[ESIM_GPIO_COUNT];
};

static const esim_pad_config default_pad = {.input = true, .drive = 2};

static bool valid_pin(int pin)
{
    return esim_pin_exists(pin);
}

/* ---- the record ---- */

static bool grow_trace(esim_gpio *g)
{
    size_t cap = g->trace_cap ? g->trace_cap * 2 : 1024;
    if (cap > ESIM_GPIO_TRACE_MAX)
        cap = ESIM_GPIO_TRACE_MAX;
    esim_pin_change *t = realloc(g->trace, cap * sizeof *t);
    if (t == NULL)
        return false;
    g->trace = t;
    g->trace_cap = cap;
    return true;
}

/* While the ring has never wrapped, trace_head is 0 and entries sit in
 * order; once full, trace_head is the oldest. */
static void record(esim_gpio *g, int pin, int level)
{
    esim_pin_change c = {g->now_ps, (uint8_t)pin, (int8_t)level};
    if (g->trace_len == g->trace_cap && g->trace_cap < ESIM_GPIO_TRACE_MAX && !grow_trace(g)) {
        g->trace_dropped++;
        return;
    }
    if (g->trace_len < g->trace_cap) {
        g->trace[g->trace_len++] = c;
        return;
    }
    if (g->trace_cap == 0) {
        g->trace_dropped++;
        return;
    }
    /* the oldest change leaves the record: it becomes its pin's start */
    const esim_pin_change *oldest = &g->trace[g->trace_head];
    g->trace_start[oldest->pin] = oldest->level;
    g->trace[g->trace_head] = c;
    g->trace_head = (g->trace_head + 1) % g->trace_cap;
    g->trace_dropped++;
}

/* ---- the wire ---- */

static int wire_level_of(const esim_gpio *g, int pin)
{
    const esim_pad_config *p = &g->pad[pin];
    int out = g->routed[pin] && !g->hold[pin] ? g->peripheral[pin] : p->out_level;
    if (p->output && !(p->open_drain && out))
        return out;
    if (g->outside[pin] != ESIM_LEVEL_FLOATING)
        return g->outside[pin];
    if (p->pull_up)
        return 1;   /* with both pulls on, the pull-up wins (stronger on the ESP32) */
    if (p->pull_down)
        return 0;
    return ESIM_LEVEL_FLOATING;
}

static int logic_of(int level)
{
    return level == 1;
}

static void note_edge(esim_gpio *g, int pin, int before, int after)
{
    if (!g->pad[pin].input || logic_of(before) == logic_of(after))
        return;
    g->edges[pin] |= logic_of(after) ? ESIM_EDGE_RISING : ESIM_EDGE_FALLING;
    g->edge_pins |= UINT64_C(1) << pin;
}

static void update_wire(esim_gpio *g, int pin)
{
    int level = wire_level_of(g, pin);
    if (level == g->wire[pin])
        return;
    note_edge(g, pin, g->wire[pin], level);
    g->wire[pin] = (int8_t)level;
    record(g, pin, level);
}

static void apply_registers(esim_gpio *g, int pin)
{
    if (!g->hold[pin])
        g->pad[pin] = g->reg[pin];
    update_wire(g, pin);
}

/* ---- life cycle ---- */

static void power_on_state(esim_gpio *g)
{
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++) {
        g->reg[pin] = default_pad;
        g->pad[pin] = default_pad;
        g->hold[pin] = false;
        g->routed[pin] = false;
        g->peripheral[pin] = 0;
        g->edges[pin] = 0;
    }
    g->deep_sleep_hold = false;
    g->edge_pins = 0;
}

esp_err_t esim_gpio_create(esim_gpio **out)
{
    esim_gpio *g = calloc(1, sizeof *g);
    if (g == NULL)
        return ESP_ERR_NO_MEM;
    power_on_state(g);
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++) {
        g->outside[pin] = ESIM_LEVEL_FLOATING;
        g->wire[pin] = ESIM_LEVEL_FLOATING;
        g->trace_start[pin] = ESIM_LEVEL_FLOATING;
    }
    *out = g;
    return ESP_OK;
}

void esim_gpio_destroy(esim_gpio *gpio)
{
    if (gpio == NULL)
        return;
    free(gpio->trace);
    free(gpio);
}

void esim_gpio_set_time_ps(esim_gpio *gpio, uint64_t now_ps) { gpio->now_ps = now_ps; }

esp_err_t esim_gpio_route_peripheral(esim_gpio *gpio, int pin, bool routed)
{
    if (!valid_pin(pin) || (routed && esim_pin_input_only(pin)))
        return ESP_ERR_INVALID_ARG;
    gpio->routed[pin] = routed;
    if (routed)
        gpio->reg[pin].output = true;
    apply_registers(gpio, pin);
    return ESP_OK;
}

bool esim_gpio_routed(const esim_gpio *gpio, int pin)
{
    return valid_pin(pin) && gpio->routed[pin];
}

void esim_gpio_peripheral_level(esim_gpio *gpio, int pin, int level)
{
    if (!valid_pin(pin) || gpio->peripheral[pin] == (level != 0))
        return;
    gpio->peripheral[pin] = level != 0;
    update_wire(gpio, pin);
}

static void update_all(esim_gpio *g)
{
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++)
        if (valid_pin(pin))
            apply_registers(g, pin);
}

void esim_gpio_system_reset(esim_gpio *gpio)
{
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++) {
        gpio->reg[pin] = default_pad;
        gpio->routed[pin] = false;   /* the peripherals reset too */
    }
    update_all(gpio);
}

/* RTC pads stay held in deep sleep; digital pads only with deep-sleep
 * hold on. A released pad loses its hold and powers down. */
static bool keeps_state_in_deep_sleep(const esim_gpio *g, int pin)
{
    return g->hold[pin] && (esim_pin_rtc_gpio(pin) >= 0 || g->deep_sleep_hold);
}

void esim_gpio_enter_deep_sleep(esim_gpio *gpio, uint64_t wake_pins)
{
    static const esim_pad_config powered_down = {.drive = 2};
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++) {
        if (!valid_pin(pin) || keeps_state_in_deep_sleep(gpio, pin) || (wake_pins >> pin & 1u))
            continue;
        gpio->hold[pin] = false;
        gpio->routed[pin] = false;
        gpio->reg[pin] = powered_down;
        apply_registers(gpio, pin);
    }
}

void esim_gpio_power_off(esim_gpio *gpio)
{
    power_on_state(gpio);
    update_all(gpio);
}

/* ---- configuration and levels ---- */

static esp_err_t check_config(int pin, const esim_pad_config *cfg)
{
    if (!valid_pin(pin) || cfg->drive > 3 || cfg->out_level > 1)
        return ESP_ERR_INVALID_ARG;
    if (esim_pin_input_only(pin) && (cfg->output || cfg->pull_up || cfg->pull_down))
        return ESP_ERR_INVALID_ARG;
    return ESP_OK;
}

esp_err_t esim_gpio_configure(esim_gpio *gpio, int pin, const esim_pad_config *cfg)
{
    esp_err_t err = check_config(pin, cfg);
    if (err)
        return err;
    gpio->reg[pin] = *cfg;
    apply_registers(gpio, pin);
    return ESP_OK;
}

esp_err_t esim_gpio_get_config(const esim_gpio *gpio, int pin, esim_pad_config *out)
{
    if (!valid_pin(pin))
        return ESP_ERR_INVALID_ARG;
    *out = gpio->reg[pin];
    return ESP_OK;
}

esp_err_t esim_gpio_set_output(esim_gpio *gpio, int pin, int level)
{
    if (!valid_pin(pin))
        return ESP_ERR_INVALID_ARG;
    gpio->reg[pin].out_level = level ? 1 : 0;
    apply_registers(gpio, pin);
    return ESP_OK;
}

int esim_gpio_wire_level(const esim_gpio *gpio, int pin)
{
    return valid_pin(pin) ? gpio->wire[pin] : ESIM_LEVEL_FLOATING;
}

int esim_gpio_get_level(const esim_gpio *gpio, int pin)
{
    if (!valid_pin(pin) || !gpio->pad[pin].input)
        return 0;
    return logic_of(gpio->wire[pin]);
}

void esim_gpio_drive_from_outside(esim_gpio *gpio, int pin, int level)
{
    if (!valid_pin(pin))
        return;
    gpio->outside[pin] = (int8_t)(level == ESIM_LEVEL_FLOATING ? ESIM_LEVEL_FLOATING : level != 0);
    update_wire(gpio, pin);
}

int esim_gpio_outside_level(const esim_gpio *gpio, int pin)
{
    return valid_pin(pin) ? gpio->outside[pin] : ESIM_LEVEL_FLOATING;
}

/* ---- holds ---- */

esp_err_t esim_gpio_set_hold(esim_gpio *gpio, int pin, bool hold)
{
    if (!valid_pin(pin))
        return ESP_ERR_INVALID_ARG;
    gpio->hold[pin] = hold;
    apply_registers(gpio, pin);
    return ESP_OK;
}

bool esim_gpio_held(const esim_gpio *gpio, int pin)
{
    return valid_pin(pin) && gpio->hold[pin];
}

void esim_gpio_set_deep_sleep_hold(esim_gpio *gpio, bool enable) { gpio->deep_sleep_hold = enable; }
bool esim_gpio_deep_sleep_hold(const esim_gpio *gpio) { return gpio->deep_sleep_hold; }

/* ---- edges ---- */

unsigned esim_gpio_take_edges(esim_gpio *gpio, int pin)
{
    if (!valid_pin(pin))
        return 0;
    unsigned edges = gpio->edges[pin];
    gpio->edges[pin] = 0;
    gpio->edge_pins &= ~(UINT64_C(1) << pin);
    return edges;
}

uint64_t esim_gpio_pins_with_edges(const esim_gpio *gpio) { return gpio->edge_pins; }

/* ---- reading the record ---- */

size_t esim_gpio_trace_count(const esim_gpio *gpio) { return gpio->trace_len; }
uint64_t esim_gpio_trace_dropped(const esim_gpio *gpio) { return gpio->trace_dropped; }

const esim_pin_change *esim_gpio_trace_at(const esim_gpio *gpio, size_t index)
{
    if (index >= gpio->trace_len)
        return NULL;
    return &gpio->trace[(gpio->trace_head + index) % gpio->trace_cap];
}

int esim_gpio_trace_start_level(const esim_gpio *gpio, int pin)
{
    return valid_pin(pin) ? gpio->trace_start[pin] : ESIM_LEVEL_FLOATING;
}

void esim_gpio_trace_clear(esim_gpio *gpio)
{
    gpio->trace_len = 0;
    gpio->trace_head = 0;
    gpio->trace_dropped = 0;
    memcpy(gpio->trace_start, gpio->wire, sizeof gpio->trace_start);
}
