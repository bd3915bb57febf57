/* ota_powercut: cuts the power at every mutating flash operation (or after
 * every Nth programmed byte) of an OTA update session and checks what the
 * bootloader makes of the board afterwards (docs/reliability.md).
 *
 * The board has the "ota" layout and runs app A (v1) from ota_0, confirmed.
 * A session writes the new app into the next update slot the way
 * MicroPython's OTA code does (erase and program 4 KiB blocks through the
 * partition API), sets it to boot, resets, and has the new app confirm
 * itself (or, in the rollback session, reset without confirming). For each
 * cut point the session is replayed from its starting flash until the
 * power fails; the board is then powered up again, once or several times,
 * and must start the old or the new app (never nothing), otadata must hold
 * only blank or valid copies (or the one the cut was writing, which must
 * not count), and resuming the session must end where the uninterrupted run
 * ended.
 *
 *   ota_powercut [--scenario update|rollback|second] [--mode ops|bytes]
 *                [--seeds N] [--stride N] [--byte-stride N] [--boots N]
 *                [--shard I/N] [--recut] [--sabotage] [--max-report N]
 *   ota_powercut --repro SCENARIO:ops|bytes:N:SEED [--recut] [--trace]
 *
 * Exit status: 0 when every trial passed, 1 on a failure, 2 on bad usage. */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esp32sim/appimage.h"
#include "esp32sim/device.h"
#include "esp32sim/flash.h"
#include "esp32sim/ota.h"
#include "esp32sim/partition.h"

#define FLASH_BYTES ESIM_DEFAULT_FLASH_SIZE
#define BLOCK ESIM_FLASH_SECTOR_SIZE
#define MAX_STEPS 64
#define MAX_ROUNDS 4

/* ---- the apps and the sessions ---- */

enum { APP_A, APP_B, APP_C, APP_COUNT };

typedef struct {
    const char *version;       /* its esp_app_desc_t version */
    const char *slot;          /* the partition it is installed in */
    size_t size;               /* asked of esim_image_make */
} app_spec;

static const app_spec app_specs[APP_COUNT] = {
    {"1.0.0", "ota_0", 72u * 1024u},
    {"2.0.0", "ota_1", 84000u},
    {"3.0.0", "ota_0", 78u * 1024u + 720u},
};

typedef struct {
    const char *name;
    int old_app, new_app;
    bool confirm;              /* the new app marks itself valid */
    bool after_update;         /* starts where the "update" session ends */
} session_spec;

static const session_spec session_specs[] = {
    {"update", APP_A, APP_B, true, false},
    {"rollback", APP_A, APP_B, false, false},
    {"second", APP_B, APP_C, true, true},
};
#define SESSION_COUNT (sizeof session_specs / sizeof session_specs[0])

typedef enum { STEP_BLOCK, STEP_SET_BOOT, STEP_RESET, STEP_CONFIRM } step_kind;

typedef struct {
    step_kind kind;
    uint32_t block;            /* STEP_BLOCK: which 4 KiB block of the image */
} step;

/* What a step of the uninterrupted run did, counted from the session's start. */
typedef struct {
    uint64_t ops_begin, ops_end;       /* mutating flash operations */
    uint64_t bytes_begin, bytes_end;   /* programmed bytes */
    unsigned copies;                   /* bit i: it rewrote otadata copy i */
} step_log;

typedef struct {
    const session_spec *spec;
    step steps[MAX_STEPS];
    step_log log[MAX_STEPS];
    size_t count;
    size_t set_boot;           /* the set_boot step */
    size_t settle;             /* after it, the session's outcome is decided */
    int settled_app;           /* the app that runs from then on */
    uint8_t *start;            /* the flash the session starts from */
    uint64_t ops, bytes;       /* of the uninterrupted run */
    esim_ota_entry final[2];   /* otadata at its end */
    int final_active;
    uint32_t new_seq;          /* the sequence number set_boot writes */
} session;

typedef enum { CUT_OPS, CUT_BYTES } cut_mode;

typedef struct {
    uint64_t trials, failures, points;
    uint64_t ran_old, ran_new;         /* the first boot after the cut */
    uint64_t recovery_writes, recuts;
} tally;

typedef struct {
    esim_device *dev;
    esim_flash *flash;
    esim_partition otadata;
    uint8_t *images[APP_COUNT];
    size_t image_len[APP_COUNT];
    uint8_t *cut_image;        /* the flash as the cut left it (--recut) */
    uint8_t block_buf[BLOCK];
    bool recut, trace, sabotage;
    unsigned boots;            /* power-ups in a row checked after each cut */
    unsigned torn_ok;          /* bit i: otadata copy i may be torn */
    char flight[160];          /* the step the power failed in */
    char why[768];
} rig;

/* ---- small helpers ---- */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static bool fail(rig *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    return false;
}

/* Puts `what: ` in front of the reason already recorded. */
static bool fail_in(rig *r, const char *what)
{
    size_t len = strlen(what), room = sizeof r->why - 1;
    if (len + 2 > room)
        len = room - 2;
    memmove(r->why + len + 2, r->why, room - len - 2);
    r->why[room] = '\0';
    memcpy(r->why, what, len);
    memcpy(r->why + len, ": ", 2);
    return false;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t mutating_ops(const rig *r)
{
    esim_flash_counters c;
    esim_flash_get_counters(r->flash, &c);
    return c.program_ops + c.erase_ops;
}

static uint64_t programmed_bytes(const rig *r)
{
    esim_flash_counters c;
    esim_flash_get_counters(r->flash, &c);
    return c.bytes_programmed;
}

static const char *app_name(int app)
{
    static const char *const names[APP_COUNT] = {"A (1.0.0)", "B (2.0.0)", "C (3.0.0)"};
    return app >= 0 && app < APP_COUNT ? names[app] : "none";
}

static const char *state_name(uint32_t state)
{
    switch (state) {
    case ESIM_OTA_STATE_NEW: return "NEW";
    case ESIM_OTA_STATE_PENDING_VERIFY: return "PENDING_VERIFY";
    case ESIM_OTA_STATE_VALID: return "VALID";
    case ESIM_OTA_STATE_INVALID: return "INVALID";
    case ESIM_OTA_STATE_ABORTED: return "ABORTED";
    case ESIM_OTA_STATE_UNDEFINED: return "UNDEFINED";
    default: return NULL;
    }
}

/* ---- the flash ---- */

/* Makes the chip hold `image` again, rewriting only the sectors that differ. */
static bool restore(rig *r, const uint8_t *image)
{
    esim_flash_power_on(r->flash);
    const uint8_t *cur = esim_flash_peek(r->flash);
    uint32_t sectors = esim_flash_sector_count(r->flash);
    for (uint32_t s = 0; s < sectors; s++) {
        uint32_t off = s * ESIM_FLASH_SECTOR_SIZE;
        if (memcmp(cur + off, image + off, ESIM_FLASH_SECTOR_SIZE) == 0)
            continue;
        if (esim_flash_erase_sector(r->flash, s) || esim_flash_program(r->flash, off, image + off, ESIM_FLASH_SECTOR_SIZE))
            return fail(r, "cannot restore sector %" PRIu32, s);
    }
    return true;
}

/* Both otadata copies as the flash holds them (read in place: this works
 * with the power off and adds nothing to the read counters). */
static void peek_otadata(const rig *r, uint8_t raw[2][ESIM_OTA_ENTRY_SIZE], esim_ota_entry e[2])
{
    const uint8_t *base = esim_flash_peek(r->flash) + r->otadata.address;
    for (int i = 0; i < 2; i++) {
        memcpy(raw[i], base + (size_t)i * ESIM_FLASH_SECTOR_SIZE, ESIM_OTA_ENTRY_SIZE);
        esim_ota_decode_entry(raw[i], &e[i]);
    }
}

/* Bit i set when copy i differs between the two views. */
static unsigned changed_copies(uint8_t before[2][ESIM_OTA_ENTRY_SIZE], uint8_t after[2][ESIM_OTA_ENTRY_SIZE])
{
    unsigned mask = 0;
    for (int i = 0; i < 2; i++)
        if (memcmp(before[i], after[i], ESIM_OTA_ENTRY_SIZE) != 0)
            mask |= 1u << i;
    return mask;
}

/* ---- the board side of a session ---- */

static void trace_boot(const rig *r, const char *what)
{
    const esim_boot_event *ev;
    size_t n = esim_device_boot_events(r->dev, &ev);
    if (!r->trace)
        return;
    printf("  %s\n", what);
    for (size_t i = 0; i < n; i++)
        printf("    boot: %s\n", ev[i].message);
}

static esp_err_t write_block(rig *r, int app, uint32_t block)
{
    esim_partition next;
    if (!esim_ota_next_update_partition(r->dev, NULL, &next))
        return ESP_ERR_NOT_FOUND;
    if (strcmp(next.label, app_specs[app].slot) != 0)
        return ESP_ERR_INVALID_STATE;   /* not the slot the session updates */
    size_t off = (size_t)block * BLOCK;
    size_t len = r->image_len[app] - off < BLOCK ? r->image_len[app] - off : BLOCK;
    memset(r->block_buf, 0xFF, BLOCK);   /* MicroPython writes whole blocks */
    memcpy(r->block_buf, r->images[app] + off, len);
    esp_err_t err = esim_partition_erase_range(r->dev, &next, off, BLOCK);
    return err ? err : esim_partition_write(r->dev, &next, off, r->block_buf, BLOCK);
}

static esp_err_t set_boot_next(rig *r, int app)
{
    esim_partition p;
    if (!esim_partition_find_first(r->dev, ESIM_PART_TYPE_APP, ESIM_PART_SUBTYPE_ANY, app_specs[app].slot, &p))
        return ESP_ERR_NOT_FOUND;
    return esim_ota_set_boot_partition(r->dev, &p);
}

static void describe_step(const session *s, size_t i, char *buf, size_t size)
{
    const step *st = &s->steps[i];
    const char *slot = app_specs[s->spec->new_app].slot;
    switch (st->kind) {
    case STEP_BLOCK:
        snprintf(buf, size, "step %zu, block %" PRIu32 " of the new image into %s", i, st->block, slot);
        break;
    case STEP_SET_BOOT:
        snprintf(buf, size, "step %zu, set_boot(%s)", i, slot);
        break;
    case STEP_RESET:
        snprintf(buf, size, "step %zu, hard reset", i);
        break;
    case STEP_CONFIRM:
        snprintf(buf, size, "step %zu, mark_app_valid_cancel_rollback", i);
        break;
    }
}

static esp_err_t do_step(rig *r, const session *s, size_t i)
{
    const step *st = &s->steps[i];
    switch (st->kind) {
    case STEP_BLOCK: return write_block(r, s->spec->new_app, st->block);
    case STEP_SET_BOOT: return set_boot_next(r, s->spec->new_app);
    case STEP_RESET: return esim_device_hard_reset(r->dev, ESIM_RST_SW);
    case STEP_CONFIRM: return esim_ota_mark_app_valid(r->dev);
    }
    return ESP_FAIL;
}

typedef enum { RUN_DONE, RUN_CUT, RUN_BROKEN } run_result;

/* Runs steps [from, to); stops where the power fails (*stopped: that step). */
static run_result run_steps(rig *r, const session *s, size_t from, size_t to, size_t *stopped)
{
    for (size_t i = from; i < to; i++) {
        char desc[96];
        esp_err_t err = do_step(r, s, i);
        bool powered = esim_flash_powered(r->flash);
        if (r->trace) {
            describe_step(s, i, desc, sizeof desc);
            printf("  %s: %s%s\n", desc, esim_err_name(err), powered ? "" : "  <-- the power failed");
            if (s->steps[i].kind == STEP_RESET && powered)
                trace_boot(r, "after the reset");
        }
        if (!powered) {
            *stopped = i;
            return RUN_CUT;
        }
        if (err) {
            describe_step(s, i, desc, sizeof desc);
            fail(r, "%s failed with the power on: %s", desc, esim_err_name(err));
            return RUN_BROKEN;
        }
    }
    return RUN_DONE;
}

static bool run_all(rig *r, const session *s, size_t from, size_t to, const char *what)
{
    size_t stopped;
    run_result res = run_steps(r, s, from, to, &stopped);
    if (res == RUN_BROKEN)
        return fail_in(r, what);
    if (res == RUN_CUT)
        return fail(r, "%s: the power failed at step %zu", what, stopped);
    return true;
}

/* ---- the checks ---- */

/* The app the board runs: its partition must hold, byte for byte, the
 * image of the session's old or new app (each verified when made, so the
 * running image verifies too; comparing spares a SHA-256). -1 otherwise. */
static int running_app(rig *r, const session *s, esim_partition *part)
{
    esim_image_info info;
    if (!esim_ota_running_partition(r->dev, part)) {
        fail(r, "the board runs no app partition");
        return -1;
    }
    const uint8_t *data = esim_flash_peek(r->flash) + part->address;
    const int candidates[2] = {s->spec->old_app, s->spec->new_app};
    for (int i = 0; i < 2; i++) {
        int app = candidates[i];
        if (strcmp(part->label, app_specs[app].slot) == 0 && r->image_len[app] <= part->size
            && memcmp(data, r->images[app], r->image_len[app]) == 0)
            return app;
    }
    if (esim_image_verify(data, part->size, &info) != ESP_OK)
        fail(r, "the running partition %s holds no valid image (%s)", part->label, info.reason);
    else
        fail(r, "%s runs version \"%s\": neither the old nor the new app", part->label,
             info.has_app_desc ? info.app_desc.version : "?");
    return -1;
}

static bool all_ff(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0xFF)
            return false;
    return true;
}

/* Every copy is erased, or valid with a known state, or torn by the cut
 * (allowed for the copies in r->torn_ok, which must then not count); one
 * copy at least is valid. */
static bool check_otadata(rig *r, const char *when, esim_ota_entry e[2], int *active)
{
    uint8_t raw[2][ESIM_OTA_ENTRY_SIZE];
    peek_otadata(r, raw, e);
    for (int i = 0; i < 2; i++) {
        bool clean = all_ff(raw[i], ESIM_OTA_ENTRY_SIZE)
                     || (e[i].crc == esim_ota_seq_crc(e[i].ota_seq) && state_name(e[i].ota_state) != NULL);
        bool torn = (r->torn_ok >> i & 1u) && !esim_ota_entry_valid(&e[i]);
        if (!clean && !torn)
            return fail(r, "%s: otadata[%d] is neither blank nor a sound entry (seq 0x%08" PRIx32 " state 0x%08"
                        PRIx32 " crc 0x%08" PRIx32 ", CRC %s)%s", when, i, e[i].ota_seq, e[i].ota_state, e[i].crc,
                        e[i].crc == esim_ota_seq_crc(e[i].ota_seq) ? "right" : "wrong",
                        r->torn_ok >> i & 1u ? "" : " and the cut was not writing it");
    }
    *active = esim_ota_active_entry(e);
    if (*active < 0)
        return fail(r, "%s: otadata holds no valid copy", when);
    return true;
}

static bool bad_event(const char *message)
{
    static const char *const words[] = {"unverified", "not bootable", "no bootable", "write failed",
                                        "no valid entry", "no OTA selection", "unreadable"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(message, words[i]))
            return true;
    return false;
}

/* The boot the board just made: an app that verifies, old or new (`must`
 * when >= 0), chosen by the active otadata copy without falling back. */
static bool check_boot(rig *r, const session *s, int must, int *ran, uint32_t *state)
{
    const esim_boot_event *ev;
    size_t n = esim_device_boot_events(r->dev, &ev);
    esim_partition part;
    esim_ota_entry e[2];
    int active;
    if (esim_device_boot_error(r->dev))
        return fail(r, "the board did not boot: %s", esim_device_boot_error(r->dev));
    for (size_t i = 0; i < n; i++)
        if (bad_event(ev[i].message))
            return fail(r, "the bootloader says \"%s\"", ev[i].message);
    *ran = running_app(r, s, &part);
    if (*ran < 0)
        return false;
    if (!check_otadata(r, "after the boot", e, &active))
        return false;
    char slot[16];
    snprintf(slot, sizeof slot, "ota_%" PRIu32, (e[active].ota_seq - 1u) % 2u);
    if (strcmp(slot, part.label) != 0)
        return fail(r, "the board runs %s but otadata[%d] (seq %" PRIu32 ") selects %s", part.label, active,
                    e[active].ota_seq, slot);
    if (must >= 0 && *ran != must)
        return fail(r, "the board runs %s, expected %s", app_name(*ran), app_name(must));
    *state = e[active].ota_state;
    return true;
}

/* Which app must run after a cut at `n`: the old one while set_boot's write
 * is unfinished, the settled one once the deciding write is done, either
 * (-1) in between. Torn programs never complete (the flash model keeps the
 * last word back), and set_boot's and the settling step's entries end in a
 * CRC byte other than 0xff (checked by the reference run). */
static int must_run(const session *s, cut_mode mode, uint64_t n)
{
    const step_log *sb = &s->log[s->set_boot], *st = &s->log[s->settle];
    bool before = mode == CUT_OPS ? n <= sb->ops_end : n < sb->bytes_end;
    bool after = mode == CUT_OPS ? n > st->ops_end : n >= st->bytes_end;
    return before ? s->spec->old_app : after ? s->settled_app : -1;
}

/* The copy set_boot wrote for the new app was aborted by a boot. */
static bool new_app_aborted(const session *s, const esim_ota_entry e[2])
{
    for (int i = 0; i < 2; i++)
        if (e[i].ota_seq == s->new_seq && e[i].ota_state == ESIM_OTA_STATE_ABORTED)
            return true;
    return false;
}

/* Resumes the session as its app would after a power failure: an old app
 * starts the update again, an unconfirmed new one confirms itself (or, in
 * the rollback session, resets once more). */
static bool finish_session(rig *r, const session *s)
{
    const size_t update_end = s->set_boot + 2;   /* blocks, set_boot, reset */
    for (int round = 0; round < MAX_ROUNDS; round++) {
        esim_partition part;
        esim_ota_entry e[2];
        uint8_t raw[2][ESIM_OTA_ENTRY_SIZE];
        int app = running_app(r, s, &part);
        if (app < 0)
            return fail_in(r, "resuming the session");
        peek_otadata(r, raw, e);
        int active = esim_ota_active_entry(e);
        bool ok;
        if (app == s->spec->new_app && !s->spec->confirm)
            ok = run_all(r, s, s->settle, s->settle + 1, "resuming: the reset without confirming");
        else if (app == s->spec->new_app && active >= 0 && e[active].ota_state == ESIM_OTA_STATE_VALID)
            return true;
        else if (app == s->spec->new_app)
            ok = run_all(r, s, s->settle, s->settle + 2, "resuming: confirming");
        else if (!s->spec->confirm && new_app_aborted(s, e))
            return true;
        else
            ok = run_all(r, s, 0, update_end, "resuming: the update again");
        if (!ok)
            return false;
    }
    return fail(r, "resuming: the session did not settle in %d rounds", MAX_ROUNDS);
}

/* The end of a resumed session is the end of the uninterrupted one; one
 * more reset changes nothing. */
static bool check_final(rig *r, const session *s)
{
    esim_partition part;
    esim_ota_entry e[2];
    int active;
    int app = running_app(r, s, &part);
    if (app < 0)
        return fail_in(r, "at the end");
    if (app != s->settled_app)
        return fail(r, "at the end the board runs %s, expected %s", app_name(app), app_name(s->settled_app));
    if (!check_otadata(r, "at the end", e, &active))
        return false;
    const esim_ota_entry *want = &s->final[s->final_active];
    if (active != s->final_active || e[active].ota_seq != want->ota_seq || e[active].ota_state != want->ota_state)
        return fail(r, "at the end otadata[%d] is active with seq %" PRIu32 " %s; the uninterrupted run ends "
                    "with otadata[%d] seq %" PRIu32 " %s", active, e[active].ota_seq,
                    state_name(e[active].ota_state) ? state_name(e[active].ota_state) : "?", s->final_active,
                    want->ota_seq, state_name(want->ota_state));
    int other = 1 - active;
    bool other_valid = esim_ota_entry_valid(&e[other]);
    if (other_valid != esim_ota_entry_valid(&s->final[other])
        || (other_valid && (e[other].ota_seq != s->final[other].ota_seq
                            || e[other].ota_state != s->final[other].ota_state)))
        return fail(r, "at the end otadata[%d] (seq %" PRIu32 ", state 0x%" PRIx32 ") differs from the "
                    "uninterrupted run's (seq %" PRIu32 ", state 0x%" PRIx32 ")", other, e[other].ota_seq,
                    e[other].ota_state, s->final[other].ota_seq, s->final[other].ota_state);
    uint64_t ops0 = mutating_ops(r);
    if (esim_device_hard_reset(r->dev, ESIM_RST_SW) != ESP_OK)
        return fail(r, "the last reset failed");
    if (mutating_ops(r) != ops0)
        return fail(r, "a reset of the settled board wrote %" PRIu64 " flash operations", mutating_ops(r) - ops0);
    if (running_app(r, s, &part) != app)
        return fail(r, "a reset of the settled board changed the app");
    return true;
}

/* `boots` power-ups after the cut, then the session resumed. The first
 * power-up must start `must`; an app that ran confirmed (VALID) must start
 * again. Reports what the first boot wrote (*writes, *copies). */
static bool recover(rig *r, const session *s, int must, unsigned boots, uint64_t *writes, unsigned *copies,
                    tally *t)
{
    int prev = -1;
    bool prev_settled = false;
    for (unsigned b = 0; b < boots; b++) {
        uint8_t before[2][ESIM_OTA_ENTRY_SIZE], after[2][ESIM_OTA_ENTRY_SIZE];
        esim_ota_entry e[2];
        char what[48];
        int ran;
        uint32_t state;
        peek_otadata(r, before, e);
        uint64_t ops0 = mutating_ops(r);
        esim_device_power_cycle(r->dev);
        trace_boot(r, "power-up");
        peek_otadata(r, after, e);
        if (b == 0) {
            *writes = mutating_ops(r) - ops0;
            *copies = changed_copies(before, after);
        }
        snprintf(what, sizeof what, "power-up %u after the cut", b + 1);
        if (!check_boot(r, s, b == 0 ? must : -1, &ran, &state))
            return fail_in(r, what);
        if (prev_settled && ran != prev)
            return fail(r, "%s: runs %s although %s had confirmed itself", what, app_name(ran), app_name(prev));
        if (b == 0 && t)
            *(ran == s->spec->old_app ? &t->ran_old : &t->ran_new) += 1;
        prev = ran;
        prev_settled = state == ESIM_OTA_STATE_VALID || state == ESIM_OTA_STATE_UNDEFINED;
    }
    return finish_session(r, s) && check_final(r, s);
}

/* --sabotage: the checker's own test. In every cut image the newest valid
 * otadata copy gets one CRC bit flipped, as if its write had been lost: a
 * board with one valid copy then has none, one with two falls back to the
 * older, and nearly every trial must fail. */
static void sabotage(rig *r)
{
    uint8_t raw[2][ESIM_OTA_ENTRY_SIZE];
    uint8_t sector[ESIM_FLASH_SECTOR_SIZE];
    esim_ota_entry e[2];
    peek_otadata(r, raw, e);
    int active = esim_ota_active_entry(e);
    if (active < 0)
        return;
    uint32_t addr = r->otadata.address + (uint32_t)active * ESIM_FLASH_SECTOR_SIZE;
    memcpy(sector, esim_flash_peek(r->flash) + addr, sizeof sector);
    sector[28] ^= 0x01;
    esim_flash_power_on(r->flash);
    if (esim_flash_erase_range(r->flash, addr, sizeof sector) == ESP_OK)
        esim_flash_program(r->flash, addr, sector, sizeof sector);
}

/* ---- a trial ---- */

static bool arm(rig *r, cut_mode mode, uint64_t n, uint64_t seed)
{
    esp_err_t err = mode == CUT_OPS ? esim_flash_arm_cut_at_op(r->flash, n, seed)
                                    : esim_flash_arm_cut_after_bytes(r->flash, n, seed);
    return err ? fail(r, "cannot arm the cut: %s", esim_err_name(err)) : true;
}

/* Restores the board to the session's start and boots it. */
static bool start_session(rig *r, const session *s)
{
    if (!restore(r, s->start))
        return false;
    esim_device_power_cycle(r->dev);
    return true;
}

/* Puts the cut image back and boots with the power failing again during
 * the boot's own otadata write number `at`, then recovers once more. */
static bool recut_recovery(rig *r, const session *s, int must, uint64_t at, uint64_t seed, unsigned copies,
                           tally *t)
{
    uint64_t writes;
    unsigned more;
    unsigned torn = r->torn_ok;
    if (!restore(r, r->cut_image) || !arm(r, CUT_OPS, at, seed))
        return false;
    esim_device_hard_reset(r->dev, ESIM_RST_POWERON);
    trace_boot(r, "power-up cut again");
    if (esim_flash_powered(r->flash))
        return fail(r, "the recovery boot was to be cut at its write %" PRIu64 " but the power never failed", at);
    t->recuts++;
    r->torn_ok |= copies;
    bool ok = recover(r, s, must, r->boots, &writes, &more, NULL);
    r->torn_ok = torn;
    if (!ok) {
        char what[64];
        snprintf(what, sizeof what, "after the recovery boot was cut at its write %" PRIu64, at);
        return fail_in(r, what);
    }
    return true;
}

static bool trial(rig *r, const session *s, cut_mode mode, uint64_t n, uint64_t seed, tally *t)
{
    size_t stopped;
    esim_ota_entry e[2];
    int active;
    uint64_t writes = 0;
    unsigned copies = 0;
    r->flight[0] = 0;
    r->torn_ok = 0;
    if (!start_session(r, s) || !arm(r, mode, n, seed))
        return false;
    run_result res = run_steps(r, s, 0, s->count, &stopped);
    if (res == RUN_BROKEN)
        return false;
    if (res == RUN_DONE) {
        esim_flash_disarm_cut(r->flash);
        return fail(r, "the power never failed (the uninterrupted run made %" PRIu64 " %s)",
                    mode == CUT_OPS ? s->ops : s->bytes, mode == CUT_OPS ? "flash operations" : "bytes");
    }
    describe_step(s, stopped, r->flight, sizeof r->flight);
    r->torn_ok = s->log[stopped].copies;
    int must = must_run(s, mode, n);
    if (r->sabotage)
        sabotage(r);
    memcpy(r->cut_image, esim_flash_peek(r->flash), FLASH_BYTES);
    if (!check_otadata(r, "in the image the cut left", e, &active))
        return false;
    /* The app of the first power-up resumes the session at once; then,
     * from the same cut image, the board is powered up `boots` times first
     * (an unconfirmed app never gets to confirm itself). */
    if (!recover(r, s, must, 1, &writes, &copies, t))
        return false;
    if (r->boots > 1 && (!restore(r, r->cut_image) || !recover(r, s, must, r->boots, &writes, &copies, NULL)))
        return fail_in(r, "with several power-ups");
    if (writes)
        t->recovery_writes++;
    for (uint64_t at = 1; r->recut && at <= writes; at++)
        if (!recut_recovery(r, s, must, at, seed, copies, t))
            return false;
    return true;
}

/* ---- the uninterrupted run ---- */

static void build_steps(rig *r, session *s)
{
    const session_spec *sp = s->spec;
    uint32_t blocks = (uint32_t)((r->image_len[sp->new_app] + BLOCK - 1) / BLOCK);
    s->count = 0;
    for (uint32_t b = 0; b < blocks; b++)
        s->steps[s->count++] = (step){STEP_BLOCK, b};
    s->set_boot = s->count;
    s->steps[s->count++] = (step){STEP_SET_BOOT, 0};
    s->steps[s->count++] = (step){STEP_RESET, 0};
    s->settle = s->count;
    s->steps[s->count++] = (step){sp->confirm ? STEP_CONFIRM : STEP_RESET, 0};
    s->steps[s->count++] = (step){STEP_RESET, 0};
    s->settled_app = sp->confirm ? sp->new_app : sp->old_app;
}

/* The deciding writes (set_boot's, the settling step's) each rewrite one
 * copy, whose last byte is not 0xff: a torn version of it never counts. */
static bool check_deciding_step(rig *r, const session *s, size_t i, uint8_t after[2][ESIM_OTA_ENTRY_SIZE])
{
    unsigned c = s->log[i].copies;
    if (c != 1u && c != 2u)
        return fail(r, "step %zu should rewrite one otadata copy (mask %u)", i, c);
    if (after[c == 1u ? 0 : 1][ESIM_OTA_ENTRY_SIZE - 1] == 0xFF)
        return fail(r, "step %zu writes an entry ending in 0xff: its torn versions may be complete", i);
    return true;
}

/* What the brief promises at the end: the confirmed new app, or after a
 * rollback the old one with the new one's copy ABORTED. */
static bool check_outcome(rig *r, const session *s, int app, const esim_ota_entry e[2], int active)
{
    if (app != s->settled_app)
        return fail(r, "runs %s, expected %s", app_name(app), app_name(s->settled_app));
    if (active < 0 || e[active].ota_state != ESIM_OTA_STATE_VALID)
        return fail(r, "the active otadata copy is not VALID");
    if (!s->spec->confirm && !new_app_aborted(s, e))
        return fail(r, "the new app's copy (seq %" PRIu32 ") is not ABORTED", s->new_seq);
    return true;
}

static bool reference_run(rig *r, session *s)
{
    uint8_t before[2][ESIM_OTA_ENTRY_SIZE], after[2][ESIM_OTA_ENTRY_SIZE];
    esim_ota_entry e[2];
    esim_partition part;
    int ran, active;
    uint32_t state;
    build_steps(r, s);
    r->torn_ok = 0;
    if (!start_session(r, s))
        return false;
    if (!check_boot(r, s, s->spec->old_app, &ran, &state))
        return fail_in(r, "the session's start");
    uint64_t ops0 = mutating_ops(r), bytes0 = programmed_bytes(r);
    for (size_t i = 0; i < s->count; i++) {
        step_log *l = &s->log[i];
        peek_otadata(r, before, e);
        l->ops_begin = mutating_ops(r) - ops0;
        l->bytes_begin = programmed_bytes(r) - bytes0;
        if (!run_all(r, s, i, i + 1, "the uninterrupted run"))
            return false;
        l->ops_end = mutating_ops(r) - ops0;
        l->bytes_end = programmed_bytes(r) - bytes0;
        peek_otadata(r, after, e);
        l->copies = changed_copies(before, after);
        if ((i == s->set_boot || i == s->settle) && !check_deciding_step(r, s, i, after))
            return false;
        if (i == s->set_boot)
            s->new_seq = e[l->copies == 1u ? 0 : 1].ota_seq;
    }
    s->ops = mutating_ops(r) - ops0;
    s->bytes = programmed_bytes(r) - bytes0;
    ran = running_app(r, s, &part);
    if (ran < 0)
        return fail_in(r, "the end of the uninterrupted run");
    peek_otadata(r, after, s->final);
    s->final_active = active = esim_ota_active_entry(s->final);
    if (!check_outcome(r, s, ran, s->final, active))
        return fail_in(r, "the end of the uninterrupted run");
    return check_final(r, s);
}

/* Opens the board and makes the starting state: A written into ota_0,
 * set to boot, started and confirmed. */
static bool make_board(rig *r)
{
    esim_device_config cfg = {.layout = "ota", .flash_size = FLASH_BYTES};
    session setup = {.spec = &session_specs[0]};
    esim_partition ota0;
    if (esim_device_open(&cfg, &r->dev, NULL) != ESP_OK)
        return fail(r, "cannot open a board with the ota layout");
    r->flash = esim_device_flash(r->dev);
    if (!esim_partition_find_first(r->dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_DATA_OTA, NULL, &r->otadata))
        return fail(r, "the ota layout has no otadata");
    if (!esim_partition_find_first(r->dev, ESIM_PART_TYPE_APP, ESIM_PART_SUBTYPE_ANY, "ota_0", &ota0))
        return fail(r, "the ota layout has no ota_0");
    /* The first block write goes to the "next update" slot of a blank
     * board, which is ota_0 there; then the usual set_boot, reset, confirm. */
    for (size_t off = 0; off < r->image_len[APP_A]; off += BLOCK) {
        size_t len = r->image_len[APP_A] - off < BLOCK ? r->image_len[APP_A] - off : BLOCK;
        memset(r->block_buf, 0xFF, BLOCK);
        memcpy(r->block_buf, r->images[APP_A] + off, len);
        if (esim_partition_erase_range(r->dev, &ota0, off, BLOCK)
            || esim_partition_write(r->dev, &ota0, off, r->block_buf, BLOCK))
            return fail(r, "cannot write app A");
    }
    if (esim_ota_set_boot_partition(r->dev, &ota0) || esim_device_hard_reset(r->dev, ESIM_RST_SW)
        || esim_ota_mark_app_valid(r->dev) || esim_device_hard_reset(r->dev, ESIM_RST_SW))
        return fail(r, "cannot install app A");
    int ran;
    uint32_t state;
    if (!check_boot(r, &setup, APP_A, &ran, &state) || state != ESIM_OTA_STATE_VALID)
        return fail_in(r, "the board with app A");
    return true;
}

static bool make_images(rig *r)
{
    esim_image_info info;
    for (int i = 0; i < APP_COUNT; i++) {
        if (esim_image_make("ota-powercut", app_specs[i].version, app_specs[i].size, &r->images[i],
                            &r->image_len[i]) != ESP_OK)
            return fail(r, "cannot make app %s", app_name(i));
        if (esim_image_verify(r->images[i], r->image_len[i], &info) != ESP_OK || !info.has_app_desc
            || strcmp(info.app_desc.version, app_specs[i].version) != 0)
            return fail(r, "app %s does not verify as version %s", app_name(i), app_specs[i].version);
    }
    return true;
}

/* ---- sweeping ---- */

typedef struct {
    int session;               /* -1: all */
    int mode;                  /* -1: both */
    unsigned seeds;
    uint64_t stride, byte_stride;
    unsigned shard, shards;
    unsigned max_report;
} options;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The cut points of a sweep, ascending. Ops: every stride-th operation.
 * Bytes: every stride-th byte, plus every byte of the otadata writes and
 * the last byte of every step, where the interesting boundaries are. */
static uint64_t *cut_points(const session *s, cut_mode mode, uint64_t stride, size_t *count)
{
    uint64_t total = mode == CUT_OPS ? s->ops : s->bytes;
    size_t cap = (size_t)(total / stride) + 2 + s->count;
    for (size_t i = 0; mode == CUT_BYTES && i < s->count; i++)
        if (s->log[i].copies)
            cap += (size_t)(s->log[i].bytes_end - s->log[i].bytes_begin);
    uint64_t *p = malloc(cap * sizeof *p);
    size_t n = 0;
    if (!p)
        return NULL;
    for (uint64_t k = 1; k <= total; k += stride)
        p[n++] = k;
    for (size_t i = 0; mode == CUT_BYTES && i < s->count; i++) {
        const step_log *l = &s->log[i];
        if (l->bytes_end > l->bytes_begin)
            p[n++] = l->bytes_end;
        for (uint64_t b = l->bytes_begin + 1; l->copies && b < l->bytes_end; b++)
            p[n++] = b;
    }
    qsort(p, n, sizeof *p, cmp_u64);
    size_t out = 0;
    for (size_t i = 0; i < n; i++)
        if (out == 0 || p[i] != p[out - 1])
            p[out++] = p[i];
    *count = out;
    return p;
}

static const char *mode_name(cut_mode mode)
{
    return mode == CUT_OPS ? "ops" : "bytes";
}

static void report_failure(const rig *r, const session *s, cut_mode mode, uint64_t n, uint64_t seed)
{
    printf("FAIL %s-%s cut=%" PRIu64 " seed=%" PRIu64 ": %s\n", s->spec->name, mode_name(mode), n, seed, r->why);
    if (r->flight[0])
        printf("     in flight: %s\n", r->flight);
    printf("     reproduce: ota_powercut --repro %s:%s:%" PRIu64 ":%" PRIu64 "%s%s --trace\n", s->spec->name,
           mode_name(mode), n, seed, r->recut ? " --recut" : "", r->sabotage ? " --sabotage" : "");
}

static void add_tally(tally *all, const tally *t)
{
    all->trials += t->trials;
    all->failures += t->failures;
    all->points += t->points;
    all->ran_old += t->ran_old;
    all->ran_new += t->ran_new;
    all->recovery_writes += t->recovery_writes;
    all->recuts += t->recuts;
}

static void sweep(rig *r, const session *s, cut_mode mode, const options *opt, tally *all)
{
    tally t = {0};
    size_t count;
    uint64_t *points = cut_points(s, mode, mode == CUT_OPS ? opt->stride : opt->byte_stride, &count);
    unsigned seeds = mode == CUT_OPS ? opt->seeds : 1;
    double t0 = now();
    if (!points) {
        printf("FAIL %s-%s: out of memory\n", s->spec->name, mode_name(mode));
        all->failures++;
        return;
    }
    for (size_t i = 0; i < count; i++) {
        if (i % opt->shards != opt->shard)
            continue;
        t.points++;
        for (uint64_t seed = 1; seed <= seeds; seed++) {
            t.trials++;
            if (trial(r, s, mode, points[i], seed, &t))
                continue;
            if (++t.failures <= opt->max_report)
                report_failure(r, s, mode, points[i], seed);
        }
    }
    printf("%s-%s: %" PRIu64 " cut points x %u seed(s) = %" PRIu64 " trials, %" PRIu64 " failures; first "
           "power-up ran the old app in %" PRIu64 ", the new in %" PRIu64 "; recovery wrote in %" PRIu64
           ", recovery cut in %" PRIu64 "; %.1f s\n", s->spec->name, mode_name(mode), t.points, seeds, t.trials,
           t.failures, t.ran_old, t.ran_new, t.recovery_writes, t.recuts, now() - t0);
    fflush(stdout);
    free(points);
    add_tally(all, &t);
}

static void describe_session(const session *s)
{
    printf("%s: %s -> %s%s, %zu steps; uninterrupted: %" PRIu64 " mutating flash ops, %" PRIu64
           " bytes programmed; set_boot ends at op %" PRIu64 ", the deciding write at op %" PRIu64 "\n",
           s->spec->name, app_name(s->spec->old_app), app_name(s->spec->new_app),
           s->spec->confirm ? ", confirmed" : ", never confirmed (rollback)", s->count, s->ops, s->bytes,
           s->log[s->set_boot].ops_end, s->log[s->settle].ops_end);
}

/* Builds every session's uninterrupted run (the "second" one starts where
 * "update" ends). */
static bool prepare(rig *r, session sessions[SESSION_COUNT], uint8_t *base)
{
    uint8_t *after_update = NULL;
    memcpy(base, esim_flash_peek(r->flash), FLASH_BYTES);
    for (size_t i = 0; i < SESSION_COUNT; i++) {
        session *s = &sessions[i];
        s->spec = &session_specs[i];
        s->start = s->spec->after_update ? after_update : base;
        if (!s->start)
            return fail(r, "%s needs the update session first", s->spec->name);
        if (!reference_run(r, s)) {
            printf("FAIL %s uninterrupted run: %s\n", s->spec->name, r->why);
            return false;
        }
        if (strcmp(s->spec->name, "update") == 0) {
            after_update = malloc(FLASH_BYTES);
            if (!after_update)
                return fail(r, "out of memory");
            memcpy(after_update, esim_flash_peek(r->flash), FLASH_BYTES);
        }
    }
    return true;
}

static int find_session(const char *name)
{
    for (size_t i = 0; i < SESSION_COUNT; i++)
        if (strcmp(session_specs[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int repro(rig *r, session sessions[SESSION_COUNT], const char *spec)
{
    char name[16], mode[8];
    uint64_t n, seed;
    tally t = {0};
    if (sscanf(spec, "%15[a-z]:%7[a-z]:%" SCNu64 ":%" SCNu64, name, mode, &n, &seed) != 4 || find_session(name) < 0
        || (strcmp(mode, "ops") != 0 && strcmp(mode, "bytes") != 0)) {
        fprintf(stderr, "ota_powercut: --repro wants update|rollback|second:ops|bytes:N:SEED\n");
        return 2;
    }
    const session *s = &sessions[find_session(name)];
    cut_mode m = strcmp(mode, "ops") == 0 ? CUT_OPS : CUT_BYTES;
    describe_session(s);
    printf("trying cut %" PRIu64 " seed %" PRIu64 "\n", n, seed);
    bool ok = trial(r, s, m, n, seed, &t);
    if (ok)
        printf("pass (first power-up ran %s)\n", t.ran_old ? app_name(s->spec->old_app) : app_name(s->spec->new_app));
    else
        report_failure(r, s, m, n, seed);
    return ok ? 0 : 1;
}

/* ---- the command line ---- */

static void usage(void)
{
    fprintf(stderr,
            "usage: ota_powercut [--scenario update|rollback|second] [--mode ops|bytes]\n"
            "                    [--seeds N] [--stride N] [--byte-stride N] [--boots N]\n"
            "                    [--shard I/N] [--recut] [--sabotage] [--max-report N]\n"
            "       ota_powercut --repro SCENARIO:ops|bytes:N:SEED [--recut] [--sabotage] [--trace]\n");
}

static bool parse_uint(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s)
        return false;
    *out = strtoull(s, &end, 0);
    return *end == 0;
}

static bool parse_flag(const char *a, rig *r)
{
    if (strcmp(a, "--recut") == 0)
        r->recut = true;
    else if (strcmp(a, "--trace") == 0)
        r->trace = true;
    else if (strcmp(a, "--sabotage") == 0)
        r->sabotage = true;
    else
        return false;
    return true;
}

static bool parse_args(int argc, char **argv, options *opt, rig *r, const char **repro_spec)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x;
        if (parse_flag(a, r))
            continue;
        if (!v)
            return false;
        i++;
        if (strcmp(a, "--scenario") == 0 && find_session(v) >= 0)
            opt->session = find_session(v);
        else if (strcmp(a, "--mode") == 0 && (strcmp(v, "ops") == 0 || strcmp(v, "bytes") == 0))
            opt->mode = strcmp(v, "ops") == 0 ? CUT_OPS : CUT_BYTES;
        else if (strcmp(a, "--seeds") == 0 && parse_uint(v, &x) && x >= 1 && x <= 1000)
            opt->seeds = (unsigned)x;
        else if (strcmp(a, "--stride") == 0 && parse_uint(v, &x) && x >= 1)
            opt->stride = x;
        else if (strcmp(a, "--byte-stride") == 0 && parse_uint(v, &x) && x >= 1)
            opt->byte_stride = x;
        else if (strcmp(a, "--boots") == 0 && parse_uint(v, &x) && x >= 1 && x <= 10)
            r->boots = (unsigned)x;
        else if (strcmp(a, "--max-report") == 0 && parse_uint(v, &x))
            opt->max_report = (unsigned)x;
        else if (strcmp(a, "--shard") == 0 && sscanf(v, "%u/%u", &opt->shard, &opt->shards) == 2
                 && opt->shards >= 1 && opt->shard < opt->shards)
            continue;
        else if (strcmp(a, "--repro") == 0)
            *repro_spec = v;
        else
            return false;
    }
    return true;
}

static int run_sweeps(rig *r, session sessions[SESSION_COUNT], const options *opt)
{
    tally all = {0};
    double t0 = now();
    for (size_t i = 0; i < SESSION_COUNT; i++)
        if (opt->session < 0 || opt->session == (int)i)
            describe_session(&sessions[i]);
    fflush(stdout);
    for (size_t i = 0; i < SESSION_COUNT; i++)
        for (int mode = CUT_OPS; mode <= CUT_BYTES; mode++)
            if ((opt->session < 0 || opt->session == (int)i) && (opt->mode < 0 || opt->mode == mode))
                sweep(r, &sessions[i], (cut_mode)mode, opt, &all);
    printf("summary: %" PRIu64 " cut points, %" PRIu64 " trials, %" PRIu64 " failures (first power-up ran the "
           "old app in %" PRIu64 ", the new in %" PRIu64 "; recovery wrote in %" PRIu64 ", recovery cut %" PRIu64
           " times), %.1f s\n", all.points, all.trials, all.failures, all.ran_old, all.ran_new,
           all.recovery_writes, all.recuts, now() - t0);
    return all.failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    options opt = {.session = -1, .mode = -1, .seeds = 3, .stride = 1, .byte_stride = 509, .shards = 1,
                   .max_report = 20};
    session sessions[SESSION_COUNT];
    const char *repro_spec = NULL;
    rig *r = calloc(1, sizeof *r);
    uint8_t *base = malloc(FLASH_BYTES);
    int status = 2;
    memset(sessions, 0, sizeof sessions);
    if (!r || !base) {
        fprintf(stderr, "ota_powercut: out of memory\n");
        return 2;
    }
    r->boots = 2;
    if (!parse_args(argc, argv, &opt, r, &repro_spec)) {
        usage();
        goto out;
    }
    r->cut_image = malloc(FLASH_BYTES);
    bool trace = r->trace;
    r->trace = false;
    if (!r->cut_image || !make_images(r) || !make_board(r) || !prepare(r, sessions, base)) {
        fprintf(stderr, "ota_powercut: %s\n", r->why);
        status = 1;
        goto out;
    }
    r->trace = trace;
    status = repro_spec ? repro(r, sessions, repro_spec) : run_sweeps(r, sessions, &opt);
out:
    for (size_t i = 0; i < SESSION_COUNT; i++)
        if (session_specs[i].after_update)
            free(sessions[i].start);
    for (int i = 0; i < APP_COUNT; i++)
        free(r->images[i]);
    esim_device_close(r->dev);
    free(r->cut_image);
    free(base);
    free(r);
    return status;
}
