/* esp32sim — the second-stage bootloader's app choice (ESP-IDF's
 * bootloader_utility.c, reference/espidf-formats.md §B.6, docs/otadata.md):
 * which app partition a reset starts, with app rollback, and the otadata
 * writes that choice makes. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "esp32sim/appimage.h"
#include "esp32sim/ota.h"
#include "device_internal.h"

#define FACTORY_INDEX (-1)
#define TEST_INDEX    (-2)
#define MAX_SLOTS     16

/* What the bootloader knows after reading the partition table. */
typedef struct {
    esim_device *dev;
    const esim_boot_options *opts;
    esim_boot_event *events;
    size_t cap;
    size_t *n_events;
    bool has_otadata, has_factory, has_test;
    esim_partition otadata, factory, test;
    esim_partition ota[MAX_SLOTS];
    bool has_ota[MAX_SLOTS];
    uint32_t app_count;        /* ota_N rows in the table, as the bootloader counts */
    bool initial_contents;     /* otadata blank or damaged and no factory app */
} boot_state;

/* An event of `kind` with no entry, sequence or partition yet. */
static esim_boot_event blank_event(esim_boot_event_kind kind)
{
    esim_boot_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.entry = -1;
    ev.seq = 0xFFFFFFFFu;
    ev.state_from = ev.state_to = ESIM_OTA_STATE_UNDEFINED;
    return ev;
}

static esim_boot_event partition_event(esim_boot_event_kind kind, const esim_partition *p)
{
    esim_boot_event ev = blank_event(kind);
    if (p != NULL) {
        snprintf(ev.label, sizeof ev.label, "%s", p->label);
        ev.address = p->address;
    }
    return ev;
}

/* Record *ev with its message. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void note(boot_state *st, esim_boot_event *ev, const char *fmt, ...)
{
    if (*st->n_events >= st->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(ev->message, sizeof ev->message, fmt, ap) < 0)
        ev->message[0] = '\0';
    va_end(ap);
    st->events[(*st->n_events)++] = *ev;
}

static void note_plain(boot_state *st, esim_boot_event_kind kind, const char *text)
{
    esim_boot_event ev = blank_event(kind);
    note(st, &ev, "%s", text);
}

const char *esim_ota_state_name(uint32_t state)
{
    switch (state) {
    case ESIM_OTA_STATE_NEW: return "NEW";
    case ESIM_OTA_STATE_PENDING_VERIFY: return "PENDING_VERIFY";
    case ESIM_OTA_STATE_VALID: return "VALID";
    case ESIM_OTA_STATE_INVALID: return "INVALID";
    case ESIM_OTA_STATE_ABORTED: return "ABORTED";
    case ESIM_OTA_STATE_UNDEFINED: return "UNDEFINED";
    default: return "UNKNOWN";
    }
}

const char *esim_boot_event_kind_name(esim_boot_event_kind kind)
{
    static const char *const names[] = {
        [ESIM_BOOT_EV_NO_OTADATA] = "no_otadata",
        [ESIM_BOOT_EV_OTADATA_UNREADABLE] = "otadata_unreadable",
        [ESIM_BOOT_EV_STATE_CHANGE] = "state_change",
        [ESIM_BOOT_EV_NO_SELECTION] = "no_selection",
        [ESIM_BOOT_EV_OTADATA_INVALID] = "otadata_invalid",
        [ESIM_BOOT_EV_ACTIVE] = "active",
        [ESIM_BOOT_EV_INITIAL_SEQ] = "initial_seq",
        [ESIM_BOOT_EV_NOT_BOOTABLE] = "not_bootable",
        [ESIM_BOOT_EV_LOADED] = "loaded",
        [ESIM_BOOT_EV_FAST_WAKE] = "fast_wake",
        [ESIM_BOOT_EV_FAST_WAKE_FAILED] = "fast_wake_failed",
        [ESIM_BOOT_EV_NO_APP] = "no_app",
        [ESIM_BOOT_EV_UNVERIFIED] = "unverified",
    };
    if ((unsigned)kind < sizeof names / sizeof names[0] && names[kind] != NULL)
        return names[kind];
    return "unknown";
}

static void load_table(boot_state *st)
{
    const esim_device *dev = st->dev;
    for (size_t i = 0; i < dev->table_parts; i++) {
        const esim_partition *p = &dev->parts[i];
        if (p->type == ESIM_PART_TYPE_DATA && p->subtype == ESIM_PART_SUBTYPE_DATA_OTA && !st->has_otadata) {
            st->otadata = *p;
            st->has_otadata = true;
        } else if (p->type != ESIM_PART_TYPE_APP) {
            continue;
        } else if (p->subtype == ESIM_PART_SUBTYPE_APP_FACTORY) {
            st->factory = *p;
            st->has_factory = true;
        } else if (p->subtype == ESIM_PART_SUBTYPE_APP_TEST) {
            st->test = *p;
            st->has_test = true;
        } else if (p->subtype >= ESIM_PART_SUBTYPE_APP_OTA_0 && p->subtype < ESIM_PART_SUBTYPE_APP_OTA_0 + MAX_SLOTS) {
            st->ota[p->subtype & 0x0F] = *p;
            st->has_ota[p->subtype & 0x0F] = true;
            st->app_count++;
        }
    }
}

/* The partition behind a bootloader index, or NULL (an empty slot). */
static const esim_partition *index_partition(const boot_state *st, int index)
{
    if (index == FACTORY_INDEX)
        return st->has_factory ? &st->factory : NULL;
    if (index == TEST_INDEX)
        return st->has_test ? &st->test : NULL;
    if (index >= 0 && index < MAX_SLOTS && (uint32_t)index < st->app_count && st->has_ota[index])
        return &st->ota[index];
    return NULL;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ESP-IDF's bootloader writes a copy back as it read it, CRC included: a
 * PENDING_VERIFY copy whose CRC was wrong (e.g. torn by a power cut during
 * the NEW -> PENDING_VERIFY rewrite) becomes ABORTED with that wrong CRC,
 * so it still counts as "bad CRC" for the initial-contents rule. Only the
 * app side (set_boot, mark_app_valid) computes a fresh CRC. */
static esp_err_t write_as_read(boot_state *st, int i, const esim_ota_entry *e)
{
    uint8_t raw[ESIM_OTA_ENTRY_SIZE];
    size_t offset = (size_t)i * ESIM_FLASH_SECTOR_SIZE;
    put_le32(raw, e->ota_seq);
    memcpy(raw + 4, e->seq_label, sizeof e->seq_label);
    put_le32(raw + 24, e->ota_state);
    put_le32(raw + 28, e->crc);
    esp_err_t err = esim_partition_erase_range(st->dev, &st->otadata, offset, ESIM_FLASH_SECTOR_SIZE);
    return err ? err : esim_partition_write(st->dev, &st->otadata, offset, raw, sizeof raw);
}

/* Write entry i (as *ev describes the change) unless the board may not. */
static void write_entry(boot_state *st, esim_boot_event *ev, esim_ota_entry *e, const char *what)
{
    int i = ev->entry;
    ev->seq = e->ota_seq;
    if (st->dev->read_only || st->dev->skip_nvs) {
        ev->err = ESP_ERR_NOT_ALLOWED;
        note(st, ev, "otadata[%d] %s (%s: not written)", i, what,
             st->dev->read_only ? "read-only board" : "image tool");
        return;
    }
    ev->err = write_as_read(st, i, e);
    ev->written = ev->err == ESP_OK;
    if (ev->err)
        note(st, ev, "otadata[%d] %s: write failed (%s)", i, what, esim_err_name(ev->err));
    else
        note(st, ev, "otadata[%d] %s", i, what);
}

static void change_state(boot_state *st, int i, esim_ota_entry *e, uint32_t to, const char *what)
{
    esim_boot_event ev = blank_event(ESIM_BOOT_EV_STATE_CHANGE);
    ev.entry = i;
    ev.state_from = e->ota_state;
    ev.state_to = to;
    e->ota_state = to;
    write_entry(st, &ev, e, what);
}

/* An app that was started once and never confirmed itself is abandoned. */
static void abort_unconfirmed(boot_state *st, esim_ota_entry entries[2])
{
    for (int i = 0; i < 2; i++) {
        if (entries[i].ota_state != ESIM_OTA_STATE_PENDING_VERIFY)
            continue;
        change_state(st, i, &entries[i], ESIM_OTA_STATE_ABORTED,
                     "PENDING_VERIFY -> ABORTED (the app did not confirm itself)");
    }
}

static bool entry_invalid(const esim_ota_entry *e)
{
    return e->ota_seq == 0xFFFFFFFFu || e->ota_state == ESIM_OTA_STATE_INVALID ||
           e->ota_state == ESIM_OTA_STATE_ABORTED;
}

static bool entry_blank_or_bad_crc(const esim_ota_entry *e)
{
    return e->ota_seq == 0xFFFFFFFFu || e->crc != esim_ota_seq_crc(e->ota_seq);
}

static int default_index(boot_state *st, const esim_ota_entry entries[2])
{
    if (st->has_factory) {
        esim_boot_event ev = partition_event(ESIM_BOOT_EV_NO_SELECTION, &st->factory);
        note(st, &ev, "no OTA selection: starting from factory");
        return FACTORY_INDEX;
    }
    st->initial_contents = entry_blank_or_bad_crc(&entries[0]) && entry_blank_or_bad_crc(&entries[1]);
    esim_boot_event ev = partition_event(ESIM_BOOT_EV_NO_SELECTION, index_partition(st, 0));
    note(st, &ev, "no OTA selection and no factory app: starting from ota_0");
    return 0;
}

static int active_index(boot_state *st, esim_ota_entry entries[2])
{
    int active = esim_ota_active_entry(entries);
    if (active < 0) {
        esim_boot_event ev = partition_event(ESIM_BOOT_EV_OTADATA_INVALID, st->has_factory ? &st->factory : NULL);
        note(st, &ev, "otadata holds no valid entry: trying %s", st->has_factory ? "factory" : "every app");
        return FACTORY_INDEX;
    }
    int slot = (int)((entries[active].ota_seq - 1u) % st->app_count);
    esim_boot_event ev = partition_event(ESIM_BOOT_EV_ACTIVE, index_partition(st, slot));
    ev.entry = active;
    ev.seq = entries[active].ota_seq;
    ev.state_to = entries[active].ota_state;
    note(st, &ev, "otadata[%d] active: seq %u %s selects ota_%d", active, (unsigned)entries[active].ota_seq,
         esim_ota_state_name(entries[active].ota_state), slot);
    if (st->opts->rollback_enabled && entries[active].ota_state == ESIM_OTA_STATE_NEW)
        change_state(st, active, &entries[active], ESIM_OTA_STATE_PENDING_VERIFY,
                     "NEW -> PENDING_VERIFY (first boot of the new app)");
    return slot;
}

/* bootloader_utility_get_selected_boot_partition: the index to start from. */
static esp_err_t start_index(boot_state *st, int *index)
{
    esim_ota_entry entries[2];
    if (!st->has_otadata) {
        esim_boot_event ev = partition_event(ESIM_BOOT_EV_NO_OTADATA, st->has_factory ? &st->factory : NULL);
        note(st, &ev, "no otadata partition: starting from factory");
        *index = FACTORY_INDEX;
        return ESP_OK;
    }
    if (!esim_ota_read_entries(st->dev, entries)) {
        note_plain(st, ESIM_BOOT_EV_OTADATA_UNREADABLE, "otadata unreadable");
        return ESP_ERR_INVALID_STATE;
    }
    if (st->opts->rollback_enabled)
        abort_unconfirmed(st, entries);
    if ((entry_invalid(&entries[0]) && entry_invalid(&entries[1])) || st->app_count == 0)
        *index = default_index(st, entries);
    else
        *index = active_index(st, entries);
    return ESP_OK;
}

static const char *index_name(int index, char buf[16])
{
    if (index == FACTORY_INDEX)
        return "factory";
    if (index == TEST_INDEX)
        return "test";
    snprintf(buf, 16, "ota_%d", index);
    return buf;
}

/* The first check the image failed, by the verifier's order. */
static const char *failed_check(const esim_image_info *info)
{
    if (!info->checks.magic)
        return "magic";
    if (!info->checks.chip)
        return "chip";
    if (!info->checks.segments)
        return "segments";
    if (!info->checks.length)
        return "length";
    if (!info->checks.checksum)
        return "checksum";
    return "sha256";
}

static bool try_load(boot_state *st, int index, esim_partition *out)
{
    char name[16];
    const esim_partition *p = index_partition(st, index);
    if (p == NULL || p->size == 0)
        return false;
    esim_image_info info;
    if (!esim_ota_image_verifies(st->dev, p, &info)) {
        esim_boot_event ev = partition_event(ESIM_BOOT_EV_NOT_BOOTABLE, p);
        ev.failed_check = failed_check(&info);
        note(st, &ev, "%s (%s at 0x%x) is not bootable: %s", index_name(index, name), p->label,
             (unsigned)p->address, info.reason[0] ? info.reason : "its image does not verify");
        return false;
    }
    esim_boot_event ev = partition_event(ESIM_BOOT_EV_LOADED, p);
    note(st, &ev, "loaded %s (%s at 0x%x)", index_name(index, name), p->label, (unsigned)p->address);
    *out = *p;
    return true;
}

/* First boot of a board without factory app and with blank otadata: the
 * slot that loaded is written down as VALID in copy 0. */
static void record_initial_seq(boot_state *st, int index)
{
    if (index < 0 || !st->initial_contents)
        return;
    esim_ota_entry e;
    memset(&e, 0xFF, sizeof e);
    e.ota_seq = (uint32_t)index + 1u;
    e.ota_state = ESIM_OTA_STATE_VALID;
    e.crc = esim_ota_seq_crc(e.ota_seq);
    esim_boot_event ev = partition_event(ESIM_BOOT_EV_INITIAL_SEQ, index_partition(st, index));
    ev.entry = 0;
    ev.state_to = ESIM_OTA_STATE_VALID;
    write_entry(st, &ev, &e, "initial contents: seq of the loaded slot, VALID");
}

/* bootloader_utility_load_boot_image: down from start to factory, then up
 * through the OTA slots, then the test app. */
static bool load_from(boot_state *st, int start, esim_partition *chosen)
{
    if (start == TEST_INDEX)
        return try_load(st, TEST_INDEX, chosen);
    for (int index = start; index >= FACTORY_INDEX; index--) {
        if (try_load(st, index, chosen)) {
            record_initial_seq(st, index);
            return true;
        }
    }
    for (int index = start + 1; index < (int)st->app_count; index++) {
        if (try_load(st, index, chosen)) {
            record_initial_seq(st, index);
            return true;
        }
    }
    return try_load(st, TEST_INDEX, chosen);
}

/* Deep-sleep wake with validation skipped: the app the RTC memory remembers
 * starts again, otadata untouched, when it still looks like an image. */
static bool wake_fast(boot_state *st, esim_partition *chosen)
{
    const esim_partition *w = st->opts->wake_partition;
    uint8_t magic = 0;
    if (!st->opts->skip_validate || w == NULL)
        return false;
    for (size_t i = 0; i < st->dev->table_parts; i++) {
        const esim_partition *p = &st->dev->parts[i];
        if (p->type != ESIM_PART_TYPE_APP || p->address != w->address || p->size != w->size)
            continue;
        if (esim_partition_read(st->dev, p, 0, &magic, 1) || magic != ESIM_IMAGE_MAGIC)
            break;
        esim_boot_event ev = partition_event(ESIM_BOOT_EV_FAST_WAKE, p);
        note(st, &ev, "deep-sleep wake: fast boot of %s at 0x%x without verification", p->label,
             (unsigned)p->address);
        *chosen = *p;
        return true;
    }
    note_plain(st, ESIM_BOOT_EV_FAST_WAKE_FAILED, "deep-sleep wake: fast boot not possible, loading as usual");
    return false;
}

esp_err_t esim_bootloader_select(esim_device *dev, const esim_boot_options *opts, esim_partition *chosen,
                                 bool *found, esim_boot_event *events, size_t cap, size_t *n_events)
{
    boot_state st;
    int start = FACTORY_INDEX;
    size_t unused_count;
    if (n_events == NULL)
        n_events = &unused_count;
    memset(&st, 0, sizeof st);
    st.dev = dev;
    st.opts = opts;
    st.events = events;
    st.cap = events ? cap : 0;
    st.n_events = n_events;
    *n_events = 0;
    *found = false;
    load_table(&st);
    if (wake_fast(&st, chosen)) {
        *found = true;
        return ESP_OK;
    }
    esp_err_t err = start_index(&st, &start);
    if (err)
        return err;
    *found = load_from(&st, start, chosen);
    if (!*found)
        note_plain(&st, ESIM_BOOT_EV_NO_APP, "no bootable app partition");
    return ESP_OK;
}
