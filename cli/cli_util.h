/* esp32sim command: helpers shared by the subcommand groups — messages and
 * exit codes, a small option parser, size parsing and whole-file I/O. */
#ifndef ESP32SIM_CLI_UTIL_H
#define ESP32SIM_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "esp32sim/err.h"
#include "esp32sim/parttable.h"

#define CLI_VERSION "0.1.0"

/* Process exit codes. */
#define CLI_OK    0
#define CLI_FAIL  1
#define CLI_USAGE 2

/* "esp32sim: CMD: message\n" on stderr; returns CLI_FAIL. */
int cli_fail(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* "esp32sim: CMD: message\nTry 'esp32sim CMD --help'.\n" on stderr;
 * returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* An esp_err_t in words: "ESP_ERR_INVALID_SIZE (0x104)". Uses `buf`. */
const char *cli_err_text(esp_err_t err, char *buf, size_t cap);

/* A rejected partition table: "esp32sim: CMD: FILE: line N: what" for a
 * CSV line, else "esp32sim: CMD: FILE: message". Returns CLI_FAIL. */
int cli_ptable_fail(const char *cmd, const char *file, const esim_ptable_error *perr);

/* esim_device_open failed on IMAGE: its reason, naming the file once.
 * Returns CLI_FAIL. */
int cli_open_fail(const char *cmd, const char *image, esp_err_t err, const esim_ptable_error *why);

/* An errno value in words, short and lower case: "no such file". */
const char *cli_errno_text(int errnum);

/* ---- options ----
 * Options may appear anywhere among the positional arguments; "--" ends
 * them. Values are given as "--name VALUE", "--name=VALUE" or "-x VALUE". */
typedef struct {
    const char *name;        /* long name without "--", e.g. "size" */
    char short_name;         /* e.g. 'o', or 0 */
    bool has_value;
    const char *value;       /* out: the value, "" for a flag given, NULL if absent */
} cli_option;

typedef enum { CLI_PARSED, CLI_HELP, CLI_BAD } cli_parse_result;

/* Sort argv[1..argc) into options and positionals (argv[0] is the command
 * name). At most `max_pos` positionals are accepted. "-h"/"--help" gives
 * CLI_HELP. On CLI_BAD a usage error naming `cmd` has been printed. */
cli_parse_result cli_parse(const char *cmd, int argc, char **argv, cli_option *opts, size_t nopts,
                           char **pos, int max_pos, int *npos);

/* ---- subcommand groups ---- */
typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);   /* argv[0] is the subcommand name */
} cli_subcommand;

/* Run argv[1] of group `group` (argv[0] is the group name). "--help",
 * "-h" and "help" print `usage` to stdout; nothing or an unknown
 * subcommand is a usage error. */
int cli_dispatch(const char *group, const char *usage, const cli_subcommand *subs, size_t nsubs,
                 int argc, char **argv);

/* Print `usage` to stdout and return CLI_OK. */
int cli_print_help(const char *usage);

/* ---- sizes ----
 * "4194304", "0x400000", "4M", "4MB", "4MiB", "4096K", "4096KB", "4096KiB"
 * (any letter case; M and MB mean MiB, as ESP-IDF's tools do). */
bool cli_parse_size(const char *text, uint64_t *out);

/* "4 MiB", "24 KiB" or "1234 bytes". Uses `buf`. */
const char *cli_size_text(uint64_t size, char *buf, size_t cap);

/* ---- files ---- */
bool cli_file_exists(const char *path);

/* Read a whole regular file into a malloc'd buffer with a NUL after the
 * data. Returns 0 or an errno value; EFBIG when the file is larger than
 * `max` (then *len is its size). */
int cli_read_file(const char *path, size_t max, uint8_t **data, size_t *len);

/* Read up to `cap` bytes from the start of a file. *len is the byte count
 * read, *file_size the file's size. Returns 0 or an errno value. */
int cli_read_prefix(const char *path, uint8_t *buf, size_t cap, size_t *len, uint64_t *file_size);

/* Write `len` bytes to `path` atomically: a temporary file in the same
 * folder, renamed over `path` once complete. Returns 0 or an errno value. */
int cli_write_file_atomic(const char *path, const void *data, size_t len);

/* Write `len` bytes to stdout. Returns 0 or an errno value. */
int cli_write_stdout(const void *data, size_t len);

/* Remove `path` if it exists. Returns 0 or an errno value. */
int cli_remove(const char *path);

/* A JSON string literal for UTF-8 text `s` (control characters escaped). */
void cli_json_string(FILE *out, const char *s);

#endif
