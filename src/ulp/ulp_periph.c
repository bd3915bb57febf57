/* esp32sim — what the ULP-FSM reaches besides RTC slow memory: the RTC
 * peripheral registers (REG_RD/REG_WR), the RTC GPIO pads, TSENS, the SAR
 * ADCs and the RTC-I2C bus with its scriptable devices (docs/ulp.md,
 * "Registers" and "Peripherals"). Every register index keeps what was last
 * written to it; the ones listed in docs/ulp.md also act. */
#include <string.h>

#include "esp32sim/gpio.h"
#include "esp32sim/pins.h"
#include "esp32sim/sensors.h"
#include "ulp_internal.h"

#define RTCIO_SHIFT 14u
#define RTCIO_MASK (0x3FFFFu << RTCIO_SHIFT)

/* I2C at 100 kHz on the 8 MHz clock: 80 cycles a bit. A read is START,
 * address+W, register, repeated START, address+R, data+NACK, STOP (38 bit
 * times); a write is START, address+W, register, data, STOP (29). */
#define I2C_BIT_CYCLES 80u
#define I2C_READ_BITS 38u
#define I2C_WRITE_BITS 29u

static uint32_t field_mask(unsigned low, unsigned high)
{
    if (high < low)
        return 0;
    unsigned width = high - low + 1u;
    return (width >= 32u ? 0xFFFFFFFFu : (1u << width) - 1u) << low;
}

/* ---- set-up ---- */

void esim_ulp_periph_init(esim_ulp *u)
{
    memset(u->rtc_gpio_pin, -1, sizeof u->rtc_gpio_pin);
    memset(u->adc_pin, -1, sizeof u->adc_pin);
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++) {
        int rtc = esim_pin_exists(pin) ? esim_pin_rtc_gpio(pin) : -1;
        if (rtc >= 0 && rtc < ULP_RTC_GPIOS)
            u->rtc_gpio_pin[rtc] = (int8_t)pin;
        int channel = -1, unit = esim_pin_exists(pin) ? esim_pin_adc_unit(pin, &channel) : 0;
        if (unit >= 1 && unit <= 2 && channel >= 0 && channel < 16)
            u->adc_pin[unit - 1][channel] = (int8_t)pin;
    }
}

void esim_ulp_periph_reset(esim_ulp *u)
{
    static const struct {
        uint16_t index;
        uint32_t value;
    } resets[] = {
        {ESIM_ULP_REG_RTC_TIMER2, 16u << 15},                      /* TOUCH_START_WAIT = 16 */
        {ESIM_ULP_REG_RTC_LOW_POWER_ST, 1u << ESIM_ULP_RDY_FOR_WAKEUP_BIT},
        {ESIM_ULP_REG_SENS_READ_CTRL, 0x00070902u},                /* 12 bits, 9 sample cycles */
        {ESIM_ULP_REG_SENS_READ_CTRL2, 0x00070902u},
        {ESIM_ULP_REG_SENS_MEAS_WAIT1, 10u << 16 | 10u},           /* AMP_WAIT2, AMP_WAIT1 */
        {ESIM_ULP_REG_SENS_MEAS_WAIT2, 2u << 20 | 10u},            /* AMP_WAIT3 */
        {ESIM_ULP_REG_SENS_SLEEP_CYC0, 200}, {ESIM_ULP_REG_SENS_SLEEP_CYC0 + 1, 100},
        {ESIM_ULP_REG_SENS_SLEEP_CYC0 + 2, 50}, {ESIM_ULP_REG_SENS_SLEEP_CYC0 + 3, 40},
        {ESIM_ULP_REG_SENS_SLEEP_CYC0 + 4, 20},
        {ESIM_ULP_REG_SENS_START_FORCE, 0xFu},                     /* both SAR bit widths 12 */
        {ESIM_ULP_REG_SENS_ATTEN1, 0xFFFFFFFFu},                   /* 11 dB everywhere */
        {ESIM_ULP_REG_SENS_ATTEN2, 0xFFFFFFFFu},
        {ESIM_ULP_REG_SENS_TSENS_CTRL, 6u << 16 | 1u << 14 | 1u << 13 | 2u},   /* CLK_DIV 6 */
    };
    memset(u->periph, 0, sizeof u->periph);
    for (size_t i = 0; i < sizeof resets / sizeof resets[0]; i++)
        u->periph[resets[i].index] = resets[i].value;
    u->pads_enabled = u->pads_out = 0;
}

/* ---- RTC GPIO pads ---- */

static uint32_t pads_in(const esim_ulp *u)
{
    uint32_t v = 0;
    for (int n = 0; u->bus.gpio && n < ULP_RTC_GPIOS; n++)
        if (u->rtc_gpio_pin[n] >= 0 && esim_gpio_wire_level(u->bus.gpio, u->rtc_gpio_pin[n]) == 1)
            v |= 1u << (RTCIO_SHIFT + (unsigned)n);
    return v;
}

static void drive_pad(esim_ulp *u, int n, bool enabled, bool level, uint64_t t_ps)
{
    int pin = u->rtc_gpio_pin[n];
    esim_pad_config cfg;
    if (pin < 0 || esim_pin_input_only(pin) || esim_gpio_get_config(u->bus.gpio, pin, &cfg) != ESP_OK)
        return;
    cfg.output = enabled;
    cfg.out_level = level;
    esim_gpio_set_time_ps(u->bus.gpio, t_ps);
    esim_gpio_configure(u->bus.gpio, pin, &cfg);
}

/* The pads whose RTC output (enable, level) changed since last driven;
 * pads the ULP never enabled are left to the CPU. */
static void update_pads(esim_ulp *u, uint64_t t_ps)
{
    uint32_t en = u->periph[ESIM_ULP_REG_RTCIO_ENABLE] >> RTCIO_SHIFT;
    uint32_t out = u->periph[ESIM_ULP_REG_RTCIO_OUT] >> RTCIO_SHIFT;
    for (int n = 0; u->bus.gpio && n < ULP_RTC_GPIOS; n++) {
        bool e = (en >> n) & 1u, o = (out >> n) & 1u;
        bool was_e = (u->pads_enabled >> n) & 1u, was_o = (u->pads_out >> n) & 1u;
        if (e != was_e || (e && o != was_o))
            drive_pad(u, n, e, o, t_ps);
    }
    u->pads_enabled = en;
    u->pads_out = out;
}

/* ---- registers ---- */

uint32_t esim_ulp_periph_read(esim_ulp *u, uint32_t index)
{
    switch (index) {
    case ESIM_ULP_REG_RTC_INT_ST:
        return u->periph[ESIM_ULP_REG_RTC_INT_RAW] & u->periph[ESIM_ULP_REG_RTC_INT_ENA];
    case ESIM_ULP_REG_RTC_INT_CLR:
    case ESIM_ULP_REG_RTCIO_OUT_W1TS:
    case ESIM_ULP_REG_RTCIO_OUT_W1TC:
    case ESIM_ULP_REG_RTCIO_ENABLE_W1TS:
    case ESIM_ULP_REG_RTCIO_ENABLE_W1TC:
        return 0;   /* write-only */
    case ESIM_ULP_REG_RTCIO_IN:
        return pads_in(u);
    default:
        return index < ULP_PERIPH_REGS ? u->periph[index] : 0;
    }
}

static void write_rtcio(esim_ulp *u, uint32_t index, uint32_t value, uint64_t t_ps)
{
    uint32_t *out = &u->periph[ESIM_ULP_REG_RTCIO_OUT], *en = &u->periph[ESIM_ULP_REG_RTCIO_ENABLE];
    value &= RTCIO_MASK;
    switch (index) {
    case ESIM_ULP_REG_RTCIO_OUT: *out = value; break;
    case ESIM_ULP_REG_RTCIO_OUT_W1TS: *out |= value; break;
    case ESIM_ULP_REG_RTCIO_OUT_W1TC: *out &= ~value; break;
    case ESIM_ULP_REG_RTCIO_ENABLE: *en = value; break;
    case ESIM_ULP_REG_RTCIO_ENABLE_W1TS: *en |= value; break;
    default: *en &= ~value; break;   /* ENABLE_W1TC */
    }
    update_pads(u, t_ps);
}

void esim_ulp_periph_write(esim_ulp *u, uint32_t index, uint32_t value, bool host, uint64_t t_ps)
{
    if (index >= ULP_PERIPH_REGS)
        return;
    uint32_t old = u->periph[index];
    switch (index) {
    case ESIM_ULP_REG_RTC_LOW_POWER_ST:
    case ESIM_ULP_REG_RTC_INT_ST:
        if (host)
            u->periph[index] = value;
        return;
    case ESIM_ULP_REG_RTCIO_IN:
        return;   /* the pads' levels */
    case ESIM_ULP_REG_RTC_INT_CLR:
        u->periph[ESIM_ULP_REG_RTC_INT_RAW] &= ~value;
        return;
    case ESIM_ULP_REG_RTCIO_OUT:
    case ESIM_ULP_REG_RTCIO_OUT_W1TS:
    case ESIM_ULP_REG_RTCIO_OUT_W1TC:
    case ESIM_ULP_REG_RTCIO_ENABLE:
    case ESIM_ULP_REG_RTCIO_ENABLE_W1TS:
    case ESIM_ULP_REG_RTCIO_ENABLE_W1TC:
        write_rtcio(u, index, value, t_ps);
        return;
    default:
        break;
    }
    u->periph[index] = value;
    if (index == ESIM_ULP_REG_RTC_STATE0 && ((old ^ value) >> ESIM_ULP_TIMER_EN_BIT & 1u))
        esim_ulp_timer_enable_changed(u, (value >> ESIM_ULP_TIMER_EN_BIT) & 1u, t_ps);
    if ((index >= ESIM_ULP_REG_SENS_SLEEP_CYC0 && index <= ESIM_ULP_REG_SENS_SLEEP_CYC0 + 4) ||
        index == ESIM_ULP_REG_RTC_TIMER2)
        esim_ulp_timer_period_changed(u);
}

uint16_t esim_ulp_io_reg_rd(esim_ulp *u, uint32_t index, unsigned low, unsigned high)
{
    uint32_t mask = field_mask(low, high);
    return (uint16_t)((esim_ulp_periph_read(u, index) & mask) >> low);
}

/* REG_WR: the field takes data8 (zero-extended), the rest of the register
 * keeps what reads back from it (write-only registers read 0). */
void esim_ulp_io_reg_wr(esim_ulp *u, uint32_t index, unsigned low, unsigned high, uint32_t data, uint64_t t_ps)
{
    uint32_t mask = field_mask(low, high);
    if (mask == 0)
        return;
    uint32_t v = (esim_ulp_periph_read(u, index) & ~mask) | ((data << low) & mask);
    esim_ulp_periph_write(u, index, v, false, t_ps);
}

/* ---- TSENS and the SAR ADCs ---- */

uint16_t esim_ulp_io_tsens(esim_ulp *u, uint32_t delay, uint32_t *extra_cycles)
{
    uint32_t clk_div = (u->periph[ESIM_ULP_REG_SENS_TSENS_CTRL] >> 16) & 0xFFu;
    uint16_t raw = u->bus.sensors ? esim_sensors_raw_temperature(u->bus.sensors) : 0;
    uint32_t *status = &u->periph[ESIM_ULP_REG_SENS_SLAVE_ADDR1 + 2];   /* TSENS_OUT [29:22], RDY 30 */
    *status = (*status & ~(0x1FFu << 22)) | (uint32_t)raw << 22 | 1u << 30;
    *extra_cycles = delay + 3u * clk_div;
    return raw;
}

static uint32_t at_least_1(uint32_t v)
{
    return v ? v : 1u;
}

uint16_t esim_ulp_io_adc(esim_ulp *u, unsigned sar_sel, unsigned mux, uint32_t *extra_cycles)
{
    uint32_t ctrl = u->periph[sar_sel ? ESIM_ULP_REG_SENS_READ_CTRL2 : ESIM_ULP_REG_SENS_READ_CTRL];
    uint32_t sample_bit = (ctrl >> 16) & 3u, sample_cycle = (ctrl >> 8) & 0xFFu;
    uint32_t wait1 = u->periph[ESIM_ULP_REG_SENS_MEAS_WAIT1], wait2 = u->periph[ESIM_ULP_REG_SENS_MEAS_WAIT2];
    *extra_cycles = 23u + at_least_1(wait1 & 0xFFFFu) + at_least_1(wait1 >> 16) + at_least_1(wait2 & 0xFFFFu) +
                    sample_cycle + sample_bit;
    uint16_t value = 0;
    if (mux > 0) {
        unsigned channel = mux - 1u;
        int pin = u->adc_pin[sar_sel][channel];
        uint32_t atten = u->periph[sar_sel ? ESIM_ULP_REG_SENS_ATTEN2 : ESIM_ULP_REG_SENS_ATTEN1] >> (2u * channel);
        if (pin >= 0 && u->bus.sensors)
            value = (uint16_t)esim_sensors_adc_raw(u->bus.sensors, pin, (int)(atten & 3u), 9 + (int)sample_bit);
    }
    uint32_t *meas = &u->periph[sar_sel ? ESIM_ULP_REG_SENS_MEAS_START2 : ESIM_ULP_REG_SENS_MEAS_START1];
    *meas = (*meas & ~0x1FFFFu) | 1u << 16 | value;   /* DONE, DATA */
    return value;
}

/* ---- RTC-I2C ---- */

static int dev_index(const esim_ulp *u, uint32_t addr7)
{
    for (unsigned i = 0; i < ESIM_ULP_I2C_DEVICES; i++)
        if (u->i2c[i].present && u->i2c[i].addr == addr7)
            return (int)i;
    return -1;
}

static ulp_i2c_dev *find_dev(esim_ulp *u, uint32_t addr7)
{
    int i = dev_index(u, addr7);
    return i < 0 ? NULL : &u->i2c[i];
}

/* The 11-bit address slave_sel picks: SLAVE_ADDR1..4 hold two each, the
 * even one in [21:11]. */
static uint32_t slave_address(const esim_ulp *u, uint32_t sel)
{
    if (sel >= 8)
        return 0xFFFFFFFFu;
    uint32_t reg = u->periph[ESIM_ULP_REG_SENS_SLAVE_ADDR1 + sel / 2];
    return (sel % 2 ? reg : reg >> 11) & 0x7FFu;
}

static uint8_t dev_read(ulp_i2c_dev *dev, uint8_t reg)
{
    dev->reads++;
    for (uint32_t i = 0; i < dev->queued; i++) {
        if (dev->queue[i].reg != reg)
            continue;
        uint8_t v = dev->queue[i].value;
        memmove(&dev->queue[i], &dev->queue[i + 1], (dev->queued - i - 1) * sizeof dev->queue[0]);
        dev->queued--;
        dev->regs[reg] = v;
        return v;
    }
    return dev->regs[reg];
}

uint16_t esim_ulp_io_i2c(esim_ulp *u, const ulp_insn *d, uint16_t r0, uint32_t *extra_cycles)
{
    bool write = d->kind == ULP_K_I2C_WR;
    unsigned low = d->b, high = d->c;
    uint32_t mask = field_mask(low, high) & 0xFFu;
    uint8_t reg = (uint8_t)d->imm;
    *extra_cycles = I2C_BIT_CYCLES * (write ? I2C_WRITE_BITS : I2C_READ_BITS);
    ulp_i2c_dev *dev = find_dev(u, slave_address(u, d->aux));
    if (!dev) {
        u->i2c_nacks++;
        return write ? r0 : 0;
    }
    if (write) {
        uint32_t data = u->opt.i2c_shift ? (uint32_t)d->a << low : d->a;
        dev->regs[reg] = (uint8_t)((dev->regs[reg] & ~mask) | (data & mask));
        dev->writes++;
        return r0;
    }
    uint8_t v = dev_read(dev, reg);
    uint32_t *status = &u->periph[ESIM_ULP_REG_SENS_SLAVE_ADDR1 + 3];   /* I2C_RDATA [29:22], DONE 30 */
    *status = (*status & ~(0x1FFu << 22)) | (uint32_t)v << 22 | 1u << 30;
    return (uint16_t)(u->opt.i2c_shift ? (v & mask) >> low : v & mask);
}

/* ---- the device API (ulp_host.h) ---- */

esp_err_t esim_ulp_i2c_attach(esim_ulp *ulp, uint8_t addr7)
{
    if (addr7 > 0x7F)
        return ESP_ERR_INVALID_ARG;
    if (find_dev(ulp, addr7))
        return ESP_ERR_INVALID_STATE;
    for (unsigned i = 0; i < ESIM_ULP_I2C_DEVICES; i++) {
        if (ulp->i2c[i].present)
            continue;
        memset(&ulp->i2c[i], 0, sizeof ulp->i2c[i]);
        ulp->i2c[i].present = true;
        ulp->i2c[i].addr = addr7;
        return ESP_OK;
    }
    return ESP_ERR_NO_MEM;
}

esp_err_t esim_ulp_i2c_detach(esim_ulp *ulp, uint8_t addr7)
{
    ulp_i2c_dev *dev = find_dev(ulp, addr7);
    if (!dev)
        return ESP_ERR_NOT_FOUND;
    dev->present = false;
    return ESP_OK;
}

esp_err_t esim_ulp_i2c_set_reg(esim_ulp *ulp, uint8_t addr7, uint8_t reg, uint8_t value)
{
    ulp_i2c_dev *dev = find_dev(ulp, addr7);
    if (!dev)
        return ESP_ERR_NOT_FOUND;
    dev->regs[reg] = value;
    return ESP_OK;
}

esp_err_t esim_ulp_i2c_get_reg(const esim_ulp *ulp, uint8_t addr7, uint8_t reg, uint8_t *value)
{
    int i = dev_index(ulp, addr7);
    if (i < 0)
        return ESP_ERR_NOT_FOUND;
    *value = ulp->i2c[i].regs[reg];
    return ESP_OK;
}

esp_err_t esim_ulp_i2c_queue_read(esim_ulp *ulp, uint8_t addr7, uint8_t reg, uint8_t value)
{
    ulp_i2c_dev *dev = find_dev(ulp, addr7);
    if (!dev)
        return ESP_ERR_NOT_FOUND;
    if (dev->queued >= ESIM_ULP_I2C_QUEUE)
        return ESP_ERR_NO_MEM;
    dev->queue[dev->queued++] = (ulp_i2c_queued){reg, value};
    return ESP_OK;
}

esp_err_t esim_ulp_i2c_counts(const esim_ulp *ulp, uint8_t addr7, uint64_t *reads, uint64_t *writes)
{
    int i = dev_index(ulp, addr7);
    if (i < 0)
        return ESP_ERR_NOT_FOUND;
    *reads = ulp->i2c[i].reads;
    *writes = ulp->i2c[i].writes;
    return ESP_OK;
}
