/* libFuzzer target for otadata and the second-stage bootloader's choice.
 *
 * The input is otadata as the flash holds it, then control bytes, in one of
 * two forms:
 *   - 8192 bytes or more: the two 4 KiB otadata sectors (the form of the
 *     seeds, made with ESP-IDF's otatool), then the control bytes;
 *   - shorter: the 32 bytes of copy 0, the 32 bytes of copy 1 (missing
 *     bytes are 0xff, as is the rest of both sectors), then the controls.
 * Control byte 0 (0x04 when absent): bits 0-1 what ota_0 holds, bits 2-3
 * what ota_1 holds (0: app 1.0.0, 1: app 2.0.0, 2: app 1.0.0 with one byte
 * damaged, 3: nothing); bit 4 rollback off; bit 5 a deep-sleep wake with
 * validation skipped; bit 6 the app RTC memory remembers is ota_1 (else
 * ota_0); bit 7 it is the nvs data partition instead.
 *
 * One memory board with the "ota" layout serves every run (the app images
 * are made once; a slot is rewritten only when its content changes). The
 * fuzzed otadata goes straight to flash, the bootloader runs twice in a row
 * and the board is reset once, and every broken rule aborts:
 *   - decoding and choosing the active copy agree with docs/otadata.md, and
 *     esim_ota_read_entries reads what the flash holds;
 *   - a chosen partition is an app partition of the table whose image
 *     verifies (a fast deep-sleep wake only checks the magic byte, and
 *     writes nothing); when a slot holds a valid image an app is found,
 *     when none does none is;
 *   - the bootloader writes only the rewrites ESP-IDF's makes: a
 *     PENDING_VERIFY copy becomes ABORTED (all else kept, its CRC too), the
 *     active NEW copy becomes PENDING_VERIFY, the initial-contents copy 0
 *     {slot + 1, VALID, right CRC}; each in an erased sector; and no
 *     PENDING_VERIFY copy survives a boot with rollback (but no fast wake)
 *     unless that boot wrote it;
 *   - a second boot picks the same app and writes nothing unless it
 *     aborted a PENDING_VERIFY copy;
 *   - a board reset starts that app too, or, when no slot holds one, still
 *     comes up on an app partition. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/appimage.h"
#include "esp32sim/device.h"
#include "esp32sim/flash.h"
#include "esp32sim/ota.h"
#include "esp32sim/partition.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECTOR ESIM_FLASH_SECTOR_SIZE
#define OTADATA_BYTES (2u * SECTOR)
#define ENTRY ESIM_OTA_ENTRY_SIZE
#define IMAGE_SIZE (72u * 1024u)
#define MAX_EVENTS 40
#define DEFAULT_CONTROL 0x04u

enum { HOLD_APP1, HOLD_APP2, HOLD_DAMAGED, HOLD_NOTHING };

typedef struct {
    esim_device *dev;
    esim_flash *flash;
    esim_partition slot[2], otadata, nvs;
    uint8_t *image[3];          /* app 1.0.0, app 2.0.0, damaged 1.0.0 */
    size_t image_len[3];
    uint32_t span;              /* bytes of a slot that an image may use */
    int holds[2];               /* what each slot holds now */
} board;

typedef struct {
    uint8_t sectors[OTADATA_BYTES];
    uint8_t control;
} input;

typedef struct {
    esp_err_t err;
    bool found, aborted;
    esim_partition chosen;
    esim_boot_event events[MAX_EVENTS];
    size_t n_events;
} boot_run;

static void die(const char *why)
{
    fprintf(stderr, "fuzz_otadata: %s\n", why);
    abort();
}

static void put_image(board *b, int k, int what)
{
    if (b->holds[k] == what)
        return;
    if (esim_flash_erase_range(b->flash, b->slot[k].address, b->span))
        die("cannot erase a slot");
    if (what != HOLD_NOTHING && esim_flash_program(b->flash, b->slot[k].address, b->image[what], b->image_len[what]))
        die("cannot program a slot");
    b->holds[k] = what;
}

static void make_images(board *b)
{
    static const char *const versions[2] = {"1.0.0", "2.0.0"};
    for (int i = 0; i < 2; i++)
        if (esim_image_make("fuzz-otadata", versions[i], IMAGE_SIZE, &b->image[i], &b->image_len[i]))
            die("cannot make an app image");
    b->image_len[2] = b->image_len[0];
    b->image[2] = malloc(b->image_len[2]);
    if (!b->image[2])
        die("out of memory");
    memcpy(b->image[2], b->image[0], b->image_len[2]);
    b->image[2][b->image_len[2] / 2] ^= 0x40;
    b->span = (uint32_t)((b->image_len[0] > b->image_len[1] ? b->image_len[0] : b->image_len[1]) + SECTOR - 1)
              / SECTOR * SECTOR;
}

static board *the_board(void)
{
    static board b;
    static bool made;
    esim_device_config cfg = {.layout = "ota"};
    if (made)
        return &b;
    make_images(&b);
    if (esim_device_open(&cfg, &b.dev, NULL))
        die("cannot open a board with the ota layout");
    b.flash = esim_device_flash(b.dev);
    if (!esim_partition_find_first(b.dev, ESIM_PART_TYPE_APP, ESIM_PART_SUBTYPE_APP_OTA_0, NULL, &b.slot[0])
        || !esim_partition_find_first(b.dev, ESIM_PART_TYPE_APP, ESIM_PART_SUBTYPE_APP_OTA_0 + 1, NULL, &b.slot[1])
        || !esim_partition_find_first(b.dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_DATA_OTA, NULL, &b.otadata)
        || !esim_partition_find_first(b.dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_DATA_NVS, NULL, &b.nvs))
        die("the ota layout lacks a partition");
    b.holds[0] = b.holds[1] = HOLD_NOTHING;
    made = true;
    return &b;
}

static void parse(const uint8_t *data, size_t size, input *in)
{
    memset(in->sectors, 0xFF, sizeof in->sectors);
    in->control = DEFAULT_CONTROL;
    if (size >= OTADATA_BYTES) {
        memcpy(in->sectors, data, OTADATA_BYTES);
        if (size > OTADATA_BYTES)
            in->control = data[OTADATA_BYTES];
        return;
    }
    for (size_t i = 0; i < 2 * ENTRY && i < size; i++)
        in->sectors[(i / ENTRY) * SECTOR + i % ENTRY] = data[i];
    if (size > 2 * ENTRY)
        in->control = data[2 * ENTRY];
}

static void put_otadata(board *b, const uint8_t *sectors)
{
    if (esim_flash_erase_range(b->flash, b->otadata.address, OTADATA_BYTES)
        || esim_flash_program(b->flash, b->otadata.address, sectors, OTADATA_BYTES))
        die("cannot write otadata");
}

static const uint8_t *otadata_now(const board *b)
{
    return esim_flash_peek(b->flash) + b->otadata.address;
}

static bool image_ok(const board *b, const esim_partition *p)
{
    return esim_image_verify(esim_flash_peek(b->flash) + p->address, p->size, NULL) == ESP_OK;
}

/* ---- decoding ---- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void check_decoding(board *b, const uint8_t *sectors, esim_ota_entry e[2])
{
    bool valid[2];
    esim_ota_entry read[2];
    for (int i = 0; i < 2; i++) {
        const uint8_t *raw = sectors + (size_t)i * SECTOR;
        esim_ota_decode_entry(raw, &e[i]);
        if (e[i].ota_seq != le32(raw) || e[i].ota_state != le32(raw + 24) || e[i].crc != le32(raw + 28)
            || memcmp(e[i].seq_label, raw + 4, sizeof e[i].seq_label) != 0)
            die("decode does not give the stored fields");
        valid[i] = e[i].ota_seq != 0xFFFFFFFFu && e[i].ota_state != ESIM_OTA_STATE_INVALID
                   && e[i].ota_state != ESIM_OTA_STATE_ABORTED && e[i].crc == esim_ota_seq_crc(e[i].ota_seq);
        if (esim_ota_entry_valid(&e[i]) != valid[i])
            die("entry_valid disagrees with the rule");
    }
    int want = valid[0] && valid[1] ? (e[1].ota_seq > e[0].ota_seq ? 1 : 0) : valid[0] ? 0 : valid[1] ? 1 : -1;
    if (esim_ota_active_entry(e) != want)
        die("active_entry disagrees with the rule");
    if (!esim_ota_read_entries(b->dev, read))
        die("read_entries failed on a healthy flash");
    for (int i = 0; i < 2; i++)
        if (read[i].ota_seq != e[i].ota_seq || read[i].ota_state != e[i].ota_state || read[i].crc != e[i].crc
            || memcmp(read[i].seq_label, e[i].seq_label, sizeof e[i].seq_label) != 0)
            die("read_entries does not read what the flash holds");
}

/* ---- the bootloader ---- */

static void run_boot(board *b, const esim_boot_options *opts, boot_run *out)
{
    memset(out, 0, sizeof *out);
    out->err = esim_bootloader_select(b->dev, opts, &out->chosen, &out->found, out->events, MAX_EVENTS,
                                      &out->n_events);
    if (out->err)
        die("the bootloader failed on a healthy flash");
    if (out->n_events > MAX_EVENTS)
        die("more events than room");
    for (size_t i = 0; i < out->n_events; i++) {
        if (memchr(out->events[i].message, 0, sizeof out->events[i].message) == NULL)
            die("an event is not a string");
        if (strstr(out->events[i].message, "PENDING_VERIFY -> ABORTED"))
            out->aborted = true;
    }
}

static bool is_table_app(const board *b, const esim_partition *p)
{
    for (int k = 0; k < 2; k++)
        if (p->address == b->slot[k].address && p->size == b->slot[k].size && p->type == ESIM_PART_TYPE_APP)
            return true;
    return false;
}

/* The fast deep-sleep path applies: a wake with validation skipped, and the
 * remembered partition is an app partition starting with the image magic. */
static bool fast_wake(const board *b, const esim_boot_options *opts)
{
    if (!opts->skip_validate || opts->wake_partition == NULL || !is_table_app(b, opts->wake_partition))
        return false;
    return esim_flash_peek(b->flash)[opts->wake_partition->address] == ESIM_IMAGE_MAGIC;
}

static bool same_but_state(const esim_ota_entry *a, const esim_ota_entry *c, uint32_t from, uint32_t to)
{
    return a->ota_state == from && c->ota_state == to && a->ota_seq == c->ota_seq && a->crc == c->crc
           && memcmp(a->seq_label, c->seq_label, sizeof a->seq_label) == 0;
}

static bool initial_entry(const esim_ota_entry *c, const uint8_t *raw, const boot_run *run, const board *b)
{
    static const uint8_t blank_label[20] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    if (!run->found || c->ota_state != ESIM_OTA_STATE_VALID || c->crc != esim_ota_seq_crc(c->ota_seq)
        || memcmp(raw + 4, blank_label, sizeof blank_label) != 0)
        return false;
    int k = run->chosen.address == b->slot[1].address;
    return c->ota_seq == (uint32_t)k + 1u;
}

/* What the first boot wrote to otadata: only ESP-IDF's rewrites. */
static void check_writes(const board *b, const uint8_t *before, const esim_ota_entry old[2], const boot_run *run,
                         bool rollback)
{
    const uint8_t *after = otadata_now(b);
    esim_ota_entry now[2];
    unsigned written = 0;
    for (int i = 0; i < 2; i++) {
        const uint8_t *sector = after + (size_t)i * SECTOR;
        esim_ota_decode_entry(sector, &now[i]);
        if (memcmp(sector, before + (size_t)i * SECTOR, SECTOR) == 0)
            continue;
        written |= 1u << i;
        for (size_t j = ENTRY; j < SECTOR; j++)
            if (sector[j] != 0xFF)
                die("a rewritten copy's sector was not erased");
        bool abort_ok = rollback && same_but_state(&old[i], &now[i], ESIM_OTA_STATE_PENDING_VERIFY,
                                                   ESIM_OTA_STATE_ABORTED);
        bool pending_ok = rollback && esim_ota_entry_valid(&old[i])
                          && same_but_state(&old[i], &now[i], ESIM_OTA_STATE_NEW, ESIM_OTA_STATE_PENDING_VERIFY);
        bool initial_ok = i == 0 && initial_entry(&now[i], sector, run, b);
        if (!abort_ok && !pending_ok && !initial_ok)
            die("the bootloader wrote an entry ESP-IDF's never writes");
    }
    for (int i = 0; rollback && i < 2; i++)
        if (now[i].ota_state == ESIM_OTA_STATE_PENDING_VERIFY && !(written >> i & 1u))
            die("a PENDING_VERIFY copy survived a boot with rollback");
}

static void check_choice(const board *b, const esim_boot_options *opts, const boot_run *run, bool any_valid)
{
    if (fast_wake(b, opts)) {
        if (!run->found || run->chosen.address != opts->wake_partition->address)
            die("a fast wake did not restart the remembered app");
        return;
    }
    if (run->found && !is_table_app(b, &run->chosen))
        die("the chosen partition is not an app partition of the table");
    if (run->found && !image_ok(b, &run->chosen))
        die("the chosen app does not verify");
    if (any_valid && !run->found)
        die("a slot holds a valid app but none was found");
    if (!any_valid && run->found)
        die("no slot holds a valid app but one was found");
}

/* A board reset (no wake) starts the app the bootloader chose, or when no
 * slot holds one still comes up on an app partition. */
static void check_reset(board *b, const input *in, const boot_run *first, bool any_valid, bool fast)
{
    esim_partition running, p;
    const esim_boot_event *ev;
    put_otadata(b, in->sectors);
    esim_device_set_app_rollback(b->dev, !(in->control & 0x10));
    if (esim_device_hard_reset(b->dev, ESIM_RST_SW))
        die("the board did not boot");
    if (!esim_ota_running_partition(b->dev, &running) || !is_table_app(b, &running))
        die("the board runs no app partition");
    size_t n = esim_device_boot_events(b->dev, &ev);
    bool unverified = false;
    for (size_t i = 0; i < n; i++)
        unverified |= strstr(ev[i].message, "unverified") != NULL;
    if (unverified == any_valid)
        die("the board says unverified although an app verifies, or not although none does");
    if (any_valid && !fast && running.address != first->chosen.address)
        die("the board reset starts another app than the bootloader chose");
    if (!esim_ota_boot_partition(b->dev, &p) || !is_table_app(b, &p))
        die("the boot partition is not an app partition");
    if (!esim_ota_next_update_partition(b->dev, NULL, &p) || !is_table_app(b, &p))
        die("the next update partition is not an app partition");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    board *b = the_board();
    input in;
    esim_ota_entry old[2];
    boot_run first, second;
    static uint8_t before[OTADATA_BYTES], after_first[OTADATA_BYTES];
    parse(data, size, &in);
    bool any_valid = false;
    for (int k = 0; k < 2; k++) {
        put_image(b, k, (in.control >> (2 * k)) & 3);
        any_valid |= b->holds[k] == HOLD_APP1 || b->holds[k] == HOLD_APP2;
    }
    put_otadata(b, in.sectors);
    check_decoding(b, in.sectors, old);

    bool rollback = !(in.control & 0x10);
    const esim_partition *wake = in.control & 0x80 ? &b->nvs : &b->slot[in.control >> 6 & 1];
    esim_boot_options opts = {rollback, (in.control & 0x20) != 0, (in.control & 0x20) ? wake : NULL};
    bool fast = fast_wake(b, &opts);
    memcpy(before, otadata_now(b), OTADATA_BYTES);
    run_boot(b, &opts, &first);
    check_choice(b, &opts, &first, any_valid);
    if (fast && memcmp(before, otadata_now(b), OTADATA_BYTES) != 0)
        die("a fast wake wrote otadata");
    if (!fast)
        check_writes(b, before, old, &first, rollback);

    memcpy(after_first, otadata_now(b), OTADATA_BYTES);
    run_boot(b, &opts, &second);
    check_choice(b, &opts, &second, any_valid);
    if (!second.aborted) {
        if (second.found != first.found || (first.found && second.chosen.address != first.chosen.address))
            die("a second boot chose another app without aborting a PENDING_VERIFY copy");
        if (memcmp(after_first, otadata_now(b), OTADATA_BYTES) != 0)
            die("a second boot wrote otadata without aborting a PENDING_VERIFY copy");
    }
    check_reset(b, &in, &first, any_valid, fast);
    return 0;
}
