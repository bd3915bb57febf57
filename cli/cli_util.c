/* esp32sim command: shared helpers (see cli_util.h). */
#define _POSIX_C_SOURCE 200809L

#include "cli_util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- messages ---- */

static void vreport(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "esp32sim: %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    return CLI_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'esp32sim %s --help'.\n", cmd);
    return CLI_USAGE;
}

const char *cli_err_text(esp_err_t err, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s (0x%x)", esim_err_name(err), (unsigned)err);
    return buf;
}

int cli_ptable_fail(const char *cmd, const char *file, const esim_ptable_error *perr)
{
    char prefix[40];
    int n = snprintf(prefix, sizeof prefix, "Error at line %d: ", perr->line);
    if (perr->line > 0 && n > 0 && strncmp(perr->message, prefix, (size_t)n) == 0)
        return cli_fail(cmd, "%s: line %d: %s", file, perr->line, perr->message + n);
    return cli_fail(cmd, "%s: %s", file, perr->message);
}

int cli_open_fail(const char *cmd, const char *image, esp_err_t err, const esim_ptable_error *why)
{
    char buf[64];
    if (why->message[0] && strstr(why->message, image))
        return cli_fail(cmd, "%s", why->message);
    if (why->message[0])
        return cli_fail(cmd, "%s: %s", image, why->message);
    return cli_fail(cmd, "%s: cannot open the image: %s", image, cli_err_text(err, buf, sizeof buf));
}

const char *cli_errno_text(int errnum)
{
    switch (errnum) {
    case ENOENT: return "no such file";
    case EISDIR: return "is a directory";
    case EACCES: return "permission denied";
    case EFBIG: return "file too large";
    case ENOSPC: return "no space left on device";
    case ENOMEM: return "out of memory";
    case EINVAL: return "not a regular file";
    default: return strerror(errnum);
    }
}

/* ---- options ---- */

static cli_option *find_long(cli_option *opts, size_t nopts, const char *name, size_t len)
{
    for (size_t i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static cli_option *find_short(cli_option *opts, size_t nopts, char c)
{
    for (size_t i = 0; i < nopts; i++)
        if (opts[i].short_name && opts[i].short_name == c)
            return &opts[i];
    return NULL;
}

/* Look up one option word; returns the option or NULL, and sets *inline_value
 * for "--name=VALUE". */
static cli_option *lookup_option(const char *word, cli_option *opts, size_t nopts,
                                 const char **inline_value)
{
    *inline_value = NULL;
    if (word[1] != '-')
        return word[2] == '\0' ? find_short(opts, nopts, word[1]) : NULL;
    const char *name = word + 2;
    const char *eq = strchr(name, '=');
    if (eq)
        *inline_value = eq + 1;
    return find_long(opts, nopts, name, eq ? (size_t)(eq - name) : strlen(name));
}

/* Handle argv[*i], an option word. Returns false after printing a usage error. */
static bool take_option(const char *cmd, int argc, char **argv, int *i, cli_option *opts, size_t nopts)
{
    const char *word = argv[*i], *inline_value;
    cli_option *opt = lookup_option(word, opts, nopts, &inline_value);
    if (!opt) {
        cli_usage_error(cmd, "unknown option '%s'", word);
        return false;
    }
    if (!opt->has_value) {
        if (inline_value) {
            cli_usage_error(cmd, "option '--%s' takes no value", opt->name);
            return false;
        }
        opt->value = "";
        return true;
    }
    if (inline_value) {
        opt->value = inline_value;
        return true;
    }
    if (*i + 1 >= argc) {
        cli_usage_error(cmd, "option '%s' needs a value", word);
        return false;
    }
    opt->value = argv[++*i];
    return true;
}

static bool is_help(const char *word)
{
    return strcmp(word, "-h") == 0 || strcmp(word, "--help") == 0;
}

static bool is_option_word(const char *word)
{
    return word[0] == '-' && word[1] != '\0';   /* a lone "-" is a positional (stdout/stdin) */
}

cli_parse_result cli_parse(const char *cmd, int argc, char **argv, cli_option *opts, size_t nopts,
                           char **pos, int max_pos, int *npos)
{
    bool options_done = false;
    *npos = 0;
    for (int i = 1; i < argc; i++)
        if (is_help(argv[i]))
            return CLI_HELP;
    for (int i = 1; i < argc; i++) {
        if (!options_done && strcmp(argv[i], "--") == 0) {
            options_done = true;
        } else if (!options_done && is_option_word(argv[i])) {
            if (!take_option(cmd, argc, argv, &i, opts, nopts))
                return CLI_BAD;
        } else if (*npos >= max_pos) {
            cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
            return CLI_BAD;
        } else {
            pos[(*npos)++] = argv[i];
        }
    }
    return CLI_PARSED;
}

/* ---- subcommand groups ---- */

int cli_print_help(const char *usage)
{
    fputs(usage, stdout);
    return CLI_OK;
}

int cli_dispatch(const char *group, const char *usage, const cli_subcommand *subs, size_t nsubs,
                 int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(group, "missing subcommand");
    const char *name = argv[1];
    if (is_help(name) || strcmp(name, "help") == 0)
        return cli_print_help(usage);
    for (size_t i = 0; i < nsubs; i++)
        if (strcmp(subs[i].name, name) == 0)
            return subs[i].run(argc - 1, argv + 1);
    return cli_usage_error(group, "unknown subcommand '%s'", name);
}

/* ---- sizes ---- */

static bool parse_number(const char *text, uint64_t *out, const char **end)
{
    int base = 10;
    const char *p = text;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    if (!isxdigit((unsigned char)*p) || (base == 10 && !isdigit((unsigned char)*p)))
        return false;
    uint64_t value = 0;
    for (; *p; p++) {
        int digit;
        if (isdigit((unsigned char)*p))
            digit = *p - '0';
        else if (base == 16 && isxdigit((unsigned char)*p))
            digit = tolower((unsigned char)*p) - 'a' + 10;
        else
            break;
        if (value > (UINT64_MAX - (uint64_t)digit) / (uint64_t)base)
            return false;
        value = value * (uint64_t)base + (uint64_t)digit;
    }
    *out = value;
    *end = p;
    return true;
}

static bool suffix_is(const char *suffix, const char *want)
{
    for (; *suffix && *want; suffix++, want++)
        if (tolower((unsigned char)*suffix) != tolower((unsigned char)*want))
            return false;
    return *suffix == '\0' && *want == '\0';
}

static uint64_t suffix_multiplier(const char *suffix)
{
    if (*suffix == '\0')
        return 1;
    if (suffix_is(suffix, "k") || suffix_is(suffix, "kb") || suffix_is(suffix, "kib"))
        return 1024;
    if (suffix_is(suffix, "m") || suffix_is(suffix, "mb") || suffix_is(suffix, "mib"))
        return 1024 * 1024;
    return 0;
}

bool cli_parse_size(const char *text, uint64_t *out)
{
    uint64_t value;
    const char *end;
    if (!parse_number(text, &value, &end))
        return false;
    uint64_t mult = suffix_multiplier(end);
    if (mult == 0 || value > UINT64_MAX / mult)
        return false;
    *out = value * mult;
    return true;
}

const char *cli_size_text(uint64_t size, char *buf, size_t cap)
{
    if (size != 0 && size % (1024 * 1024) == 0)
        snprintf(buf, cap, "%llu MiB", (unsigned long long)(size / (1024 * 1024)));
    else if (size != 0 && size % 1024 == 0)
        snprintf(buf, cap, "%llu KiB", (unsigned long long)(size / 1024));
    else
        snprintf(buf, cap, "%llu bytes", (unsigned long long)size);
    return buf;
}

/* ---- files ---- */

bool cli_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Open a regular file for reading; returns the fd or -errno. */
static int open_regular(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -errno;
    int e = 0;
    if (fstat(fd, st) != 0)
        e = errno;
    else if (S_ISDIR(st->st_mode))
        e = EISDIR;
    else if (!S_ISREG(st->st_mode))
        e = EINVAL;
    if (e) {
        close(fd);
        return -e;
    }
    return fd;
}

/* Read exactly `len` bytes unless the file ends first; returns bytes read or -errno. */
static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

int cli_read_file(const char *path, size_t max, uint8_t **data, size_t *len)
{
    struct stat st;
    int fd = open_regular(path, &st);
    if (fd < 0)
        return -fd;
    if ((uint64_t)st.st_size > max) {
        *len = (size_t)st.st_size;
        close(fd);
        return EFBIG;
    }
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return ENOMEM;
    }
    ssize_t n = read_full(fd, buf, (size_t)st.st_size);
    close(fd);
    if (n < 0) {
        free(buf);
        return (int)-n;
    }
    buf[n] = 0;
    *data = buf;
    *len = (size_t)n;
    return 0;
}

int cli_read_prefix(const char *path, uint8_t *buf, size_t cap, size_t *len, uint64_t *file_size)
{
    struct stat st;
    int fd = open_regular(path, &st);
    if (fd < 0)
        return -fd;
    ssize_t n = read_full(fd, buf, cap);
    close(fd);
    if (n < 0)
        return (int)-n;
    *len = (size_t)n;
    *file_size = (uint64_t)st.st_size;
    return 0;
}

static int write_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Give a fresh temporary file the mode a newly created file would get. */
static void set_default_mode(int fd)
{
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
}

int cli_write_file_atomic(const char *path, const void *data, size_t len)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + sizeof ".tmpXXXXXX");
    if (!tmp)
        return ENOMEM;
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmpXXXXXX", sizeof ".tmpXXXXXX");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return e;
    }
    set_default_mode(fd);
    int err = write_all(fd, data, len);
    if (!err && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err)
        unlink(tmp);
    free(tmp);
    return err;
}

int cli_write_stdout(const void *data, size_t len)
{
    if (len > 0 && fwrite(data, 1, len, stdout) != len)
        return errno ? errno : EIO;
    if (fflush(stdout) != 0)
        return errno ? errno : EIO;
    return 0;
}

int cli_remove(const char *path)
{
    if (unlink(path) != 0 && errno != ENOENT)
        return errno;
    return 0;
}

void cli_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}
