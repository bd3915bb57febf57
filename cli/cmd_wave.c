/* esp32sim wave: VCD files drawn as timing diagrams (docs/vcd.md).
 *
 * One drawing routine on a cairo surface: an SVG surface for .svg, an image
 * surface written as PNG for .png. Each pixel column of a row is summed up
 * from the changes that fall in it, so a carrier with thousands of edges
 * per pixel draws as one filled band, in time linear in the changes. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <cairo-svg.h>
#include <fontconfig/fontconfig.h>

#include "cli_util.h"
#include "commands.h"
#include "esp32sim/vcd.h"

#define MAX_VCD_FILE (1024u * 1024u * 1024u)
#define MAX_ROWS 256u
#define LABEL_MAX 16u

/* the picture, in pixels */
#define WIDTH 1200
#define LABEL_W 110
#define RIGHT_PAD 30
#define TOP 34
#define ROW_H 44
#define AXIS_H 46
#define PLOT_W (WIDTH - LABEL_W - RIGHT_PAD)

static const char usage_group[] =
    "Usage: esp32sim wave SUBCOMMAND [ARGS...]\n"
    "\n"
    "Waveforms: the VCD files `esp32sim run --vcd` writes (and other tools' VCD).\n"
    "\n"
    "Subcommands:\n"
    "  plot FILE.vcd -o OUT.svg|OUT.png [--from T] [--to T] [--pins N,M]\n"
    "                      draw a timing diagram\n"
    "\n"
    "Run 'esp32sim wave SUBCOMMAND --help' for details.\n";

static const char usage_plot[] =
    "Usage: esp32sim wave plot FILE.vcd -o OUT.svg|OUT.png [--from T] [--to T] [--pins N,M]\n"
    "\n"
    "Draw FILE.vcd's 1-bit signals as a timing diagram: a row per pin (high, low,\n"
    "floating as a dashed middle line, unknown as a shaded band), a time axis,\n"
    "and edges closer than a pixel drawn as a filled band.\n"
    "\n"
    "Options:\n"
    "  -o, --output F  the picture to write: .svg or .png (replaced if it exists)\n"
    "  --from T        start of the time window (default 0)\n"
    "  --to T          end of the time window (default: the end of the file)\n"
    "                  times are numbers with a unit: 5ms, 250us, 1.5s, 300ns, 100ps\n"
    "  --pins N,M      the rows, in this order: GPIO numbers (18) or signal names\n"
    "                  (default: every signal in the file)\n";

/* ---- times ---- */

/* "1.5ms" as a whole number of the file's time units (10^q fs): floor, or
 * ceiling with `up`. False when it is not a time or does not fit. */
static bool parse_time(const char *text, uint64_t unit_fs, bool up, uint64_t *out)
{
    static const struct {
        const char *name;
        int exp;   /* of 10, in seconds */
    } units[] = {{"s", 0}, {"ms", -3}, {"us", -6}, {"\xc2\xb5s", -6}, {"ns", -9}, {"ps", -12}, {"fs", -15}};
    uint64_t n = 0;
    int digits = 0, fraction = -1;
    const char *p = text;
    for (; (*p >= '0' && *p <= '9') || (*p == '.' && fraction < 0); p++) {
        if (*p == '.') {
            fraction = 0;
            continue;
        }
        if (n > (UINT64_MAX - 9) / 10)
            return false;
        n = n * 10 + (uint64_t)(*p - '0');
        digits++;
        fraction += fraction >= 0;
    }
    if (digits == 0)
        return false;
    int exp = 1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(p, units[i].name) == 0)
            exp = units[i].exp;
    if (exp == 1 && !(*p == '\0' && n == 0))
        return false;   /* a unit is needed, except for 0 */
    int q = 0;
    for (uint64_t u = unit_fs; u >= 10; u /= 10)
        q++;
    /* text = n * 10^(exp - fraction) s; a unit = 10^(q - 15) s */
    int shift = (exp == 1 ? 0 : exp) - (fraction > 0 ? fraction : 0) - (q - 15);
    for (; shift > 0; shift--) {
        if (n > UINT64_MAX / 10)
            return false;
        n *= 10;
    }
    for (; shift < 0; shift++)
        n = n / 10 + (up && n % 10 != 0);
    *out = n;
    return true;
}

/* Seconds as a short text: "12.5 ms", "0 s". */
static void time_text(double seconds, char *buf, size_t cap)
{
    static const char *const names[] = {"s", "ms", "\xc2\xb5s", "ns", "ps"};
    double v = seconds;
    size_t k = 0;
    while (k < 4 && v != 0 && fabs(v) < 0.9999995) {
        v *= 1000;
        k++;
    }
    snprintf(buf, cap, "%.7g %s", v, names[k]);
}

/* ---- the rows ---- */

typedef struct {
    const esim_vcd_signal *sig;
    char label[LABEL_MAX + 4];
} row;

/* "gpio18" is shown as "GPIO18"; other names as they are, printable
 * ASCII only, cut to LABEL_MAX characters. */
static void make_label(const char *name, char *out)
{
    size_t digits = strncmp(name, "gpio", 4) == 0 ? strspn(name + 4, "0123456789") : 0;
    if (digits > 0 && digits <= 2 && name[4 + digits] == '\0') {
        snprintf(out, LABEL_MAX, "GPIO%s", name + 4);
        return;
    }
    size_t n = 0;
    for (; name[n] != '\0' && n < LABEL_MAX; n++)
        out[n] = name[n] >= 32 && name[n] < 127 ? name[n] : '?';
    strcpy(out + n, name[n] != '\0' ? "..." : "");
}

static const esim_vcd_signal *find_signal(const esim_vcd_wave *w, const char *want)
{
    char gpio_name[32];
    const char *digits = want;
    if (strncmp(want, "gpio", 4) == 0 || strncmp(want, "GPIO", 4) == 0)
        digits = want + 4;
    bool number = digits[0] != '\0' && strspn(digits, "0123456789") == strlen(digits) && strlen(digits) < 4;
    if (number)
        snprintf(gpio_name, sizeof gpio_name, "gpio%d", atoi(digits));
    for (size_t i = 0; i < w->signal_count; i++)
        if (strcmp(w->signals[i].name, number ? gpio_name : want) == 0)
            return &w->signals[i];
    return NULL;
}

/* The rows --pins names, or every signal. Returns the exit status. */
static int choose_rows(const char *cmd, const char *file, const esim_vcd_wave *w, const char *pins, row *rows,
                       size_t *nrows)
{
    *nrows = 0;
    if (pins == NULL) {
        if (w->signal_count > MAX_ROWS)
            return cli_fail(cmd, "%s: %zu signals; choose up to %u with --pins", file, w->signal_count, MAX_ROWS);
        for (size_t i = 0; i < w->signal_count; i++)
            rows[(*nrows)++].sig = &w->signals[i];
    }
    for (const char *p = pins; p != NULL && *nrows <= MAX_ROWS;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[ESIM_VCD_MAX_NAME + 1];
        if (len == 0 || len > ESIM_VCD_MAX_NAME)
            return cli_usage_error(cmd, "--pins needs GPIO numbers or signal names separated by commas");
        memcpy(item, p, len);
        item[len] = '\0';
        const esim_vcd_signal *s = find_signal(w, item);
        if (s == NULL)
            return cli_fail(cmd, "%s: no signal '%s' in the file", file, item);
        if (*nrows == MAX_ROWS)
            return cli_usage_error(cmd, "--pins names more than %u rows", MAX_ROWS);
        rows[(*nrows)++].sig = s;
        p = comma ? comma + 1 : NULL;
    }
    if (*nrows == 0)
        return cli_fail(cmd, "%s: no 1-bit signals to draw", file);
    for (size_t i = 0; i < *nrows; i++)
        make_label(rows[i].sig->name, rows[i].label);
    return CLI_OK;
}

/* ---- one row, summed up per pixel column ---- */

enum { L0 = 1, L1 = 2, LZ = 4, LX = 8 };

typedef struct {
    uint32_t edges;   /* changes in the column (saturating) */
    int8_t before;    /* the level before its first change */
    int8_t after;     /* the level after its last change */
    double edge_x;    /* where its first change is */
} column;

typedef struct {
    uint64_t from, to;   /* the window, in file units */
} window;

static double x_of(const window *win, uint64_t t)
{
    return LABEL_W + (double)(t - win->from) * PLOT_W / (double)(win->to - win->from);
}

static void sum_columns(const esim_vcd_signal *s, const window *win, column *cols, int *start_level)
{
    *start_level = esim_vcd_level_at(s, win->from);
    for (int c = 0; c < PLOT_W; c++)
        cols[c].edges = 0;
    int level = *start_level;
    for (size_t i = esim_vcd_first_after(s, win->from); i < s->count && s->changes[i].t <= win->to; i++) {
        double x = x_of(win, s->changes[i].t);
        int c = (int)(x - LABEL_W);
        c = c < 0 ? 0 : c >= PLOT_W ? PLOT_W - 1 : c;
        if (cols[c].edges == 0) {
            cols[c].before = (int8_t)level;
            cols[c].edge_x = x;
        }
        if (cols[c].edges < UINT32_MAX)
            cols[c].edges++;
        level = s->changes[i].level;
        cols[c].after = (int8_t)level;
    }
}

/* ---- drawing ---- */

typedef struct {
    cairo_t *cr;
    double y_hi, y_lo, y_mid;
    /* an open stretch of steady level */
    int run_level;
    double run_x;
    /* an open stretch of dense columns */
    bool band;
    double band_x;
} pen;

static double y_of(const pen *p, int level)
{
    return level == 1 ? p->y_hi : level == 0 ? p->y_lo : p->y_mid;
}

static void stroke_solid(cairo_t *cr)
{
    cairo_set_source_rgb(cr, 0.08, 0.30, 0.68);
    cairo_set_line_width(cr, 1.5);
    cairo_stroke(cr);
}

/* a stretch of one level from xa to xb */
static void draw_level(pen *p, int level, double xa, double xb)
{
    cairo_t *cr = p->cr;
    if (xb <= xa)
        return;
    if (level == ESIM_VCD_LEVEL_X) {
        cairo_rectangle(cr, xa, p->y_hi, xb - xa, p->y_lo - p->y_hi);
        cairo_set_source_rgba(cr, 0.85, 0.25, 0.2, 0.25);
        cairo_fill(cr);
        return;
    }
    cairo_move_to(cr, xa, y_of(p, level));
    cairo_line_to(cr, xb, y_of(p, level));
    if (level == ESIM_LEVEL_FLOATING) {
        static const double dash[] = {4.0, 3.0};
        cairo_set_dash(cr, dash, 2, 0);
        cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
        cairo_set_line_width(cr, 1.2);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        return;
    }
    stroke_solid(cr);
}

static void draw_edge(pen *p, double x, int from, int to)
{
    double ya = y_of(p, from), yb = y_of(p, to);
    if (from == ESIM_VCD_LEVEL_X || to == ESIM_VCD_LEVEL_X)
        ya = p->y_hi, yb = p->y_lo;
    cairo_move_to(p->cr, x, ya);
    cairo_line_to(p->cr, x, yb);
    stroke_solid(p->cr);
}

static void close_run(pen *p, double x)
{
    draw_level(p, p->run_level, p->run_x, x);
    p->run_x = x;
}

static void close_band(pen *p, double x)
{
    if (!p->band)
        return;
    cairo_rectangle(p->cr, p->band_x, p->y_hi, x - p->band_x, p->y_lo - p->y_hi);
    cairo_set_source_rgba(p->cr, 0.08, 0.30, 0.68, 0.55);
    cairo_fill(p->cr);
    p->band = false;
}

/* Quiet columns extend the steady stretch; a column with one change draws
 * it as an edge where it happens; columns with more join a band. */
static void draw_row(cairo_t *cr, const row *r, const window *win, double top, column *cols)
{
    int level;
    sum_columns(r->sig, win, cols, &level);
    pen p = {cr, top + 9, top + ROW_H - 9, top + ROW_H / 2.0, level, LABEL_W, false, 0};
    for (int c = 0; c < PLOT_W; c++) {
        double x = LABEL_W + c;
        uint32_t edges = cols[c].edges;
        if (p.band && edges <= 1) {   /* the band ends where this column starts */
            close_band(&p, x);
            p.run_x = x;
        }
        if (edges > 1 && !p.band) {
            close_run(&p, x);
            p.band = true;
            p.band_x = x;
        } else if (edges == 1) {
            close_run(&p, cols[c].edge_x);
            draw_edge(&p, cols[c].edge_x, cols[c].before, cols[c].after);
        }
        if (edges > 0)
            p.run_level = cols[c].after;
    }
    close_band(&p, LABEL_W + PLOT_W);
    close_run(&p, LABEL_W + PLOT_W);
}

static void draw_text(cairo_t *cr, const char *text, double x, double y, double align)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, text, &e);
    cairo_move_to(cr, x - align * e.x_advance, y);
    cairo_show_text(cr, text);
}

/* a step of 1, 2 or 5 times a power of ten giving about 8 ticks */
static double tick_step(double span)
{
    double raw = span / 8, mag = pow(10, floor(log10(raw)));
    return raw <= mag ? mag : raw <= 2 * mag ? 2 * mag : raw <= 5 * mag ? 5 * mag : 10 * mag;
}

/* Tick labels share one unit, the largest that the window's end reaches
 * (so "289.5 ms", not "289500 µs"), with the decimals the step needs. */
typedef struct {
    double unit;
    const char *name;
    int decimals;
} tick_format;

static tick_format tick_format_for(double end_s, double step)
{
    static const char *const names[] = {"s", "ms", "\xc2\xb5s", "ns", "ps"};
    tick_format f = {1, names[0], 0};
    for (size_t k = 1; k < 5 && end_s < f.unit * 0.999999; k++) {
        f.unit /= 1000;
        f.name = names[k];
    }
    double ratio = step / f.unit;
    while (f.decimals < 9 && ratio < 0.999999) {
        ratio *= 10;
        f.decimals++;
    }
    return f;
}

static void draw_axis(cairo_t *cr, const window *win, double seconds_per_unit, double bottom)
{
    double from_s = (double)win->from * seconds_per_unit;
    double span = (double)(win->to - win->from) * seconds_per_unit;
    double step = tick_step(span);
    tick_format f = tick_format_for((double)win->to * seconds_per_unit, step);
    cairo_set_font_size(cr, 11);
    double k = ceil(from_s / step - 1e-6);
    for (int n = 0; n < 40 && isfinite(step) && step > 0; n++, k++) {
        double x = LABEL_W + (k * step - from_s) / span * PLOT_W;
        if (x > LABEL_W + PLOT_W + 0.5)
            break;
        if (x < LABEL_W - 0.5)
            continue;
        cairo_move_to(cr, x, TOP);
        cairo_line_to(cr, x, bottom + 5);
        cairo_set_source_rgb(cr, 0.86, 0.86, 0.86);
        cairo_set_line_width(cr, 1);
        cairo_stroke(cr);
        char label[64];
        double v = k * step / f.unit;
        snprintf(label, sizeof label, "%.*f %s", f.decimals, fabs(v) < 1e-12 ? 0.0 : v, f.name);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        draw_text(cr, label, x, bottom + 19, 0.5);
    }
    cairo_move_to(cr, LABEL_W, bottom);
    cairo_line_to(cr, LABEL_W + PLOT_W, bottom);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_stroke(cr);
    draw_text(cr, "time", LABEL_W + PLOT_W, bottom + 36, 1.0);
}

static void draw_title(cairo_t *cr, const char *title)
{
    cairo_set_font_size(cr, 13);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    draw_text(cr, title, 12, 22, 0);
}

typedef struct {
    const char *title;
    const row *rows;
    size_t nrows;
    window win;
    double seconds_per_unit;
} picture;

static int picture_height(const picture *pic)
{
    return TOP + (int)pic->nrows * ROW_H + AXIS_H;
}

/* The one drawing routine, for any surface. */
static void draw(cairo_t *cr, const picture *pic, column *cols)
{
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    double bottom = TOP + (double)pic->nrows * ROW_H;
    draw_axis(cr, &pic->win, pic->seconds_per_unit, bottom);
    draw_title(cr, pic->title);
    for (size_t i = 0; i < pic->nrows; i++) {
        double top = TOP + (double)i * ROW_H;
        if (i % 2 == 1) {
            cairo_rectangle(cr, 0, top, WIDTH, ROW_H);
            cairo_set_source_rgba(cr, 0.2, 0.3, 0.5, 0.05);
            cairo_fill(cr);
        }
        cairo_set_font_size(cr, 13);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        draw_text(cr, pic->rows[i].label, LABEL_W - 12, top + ROW_H / 2.0 + 4.5, 1.0);
        draw_row(cr, &pic->rows[i], &pic->win, top, cols);
    }
}

/* ---- output ---- */

typedef struct {
    unsigned char *data;
    size_t len, cap;
} buffer;

static cairo_status_t buffer_write(void *closure, const unsigned char *data, unsigned int length)
{
    buffer *b = closure;
    if (b->len + length > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + length)
            cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (d == NULL)
            return CAIRO_STATUS_WRITE_ERROR;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, length);
    b->len += length;
    return CAIRO_STATUS_SUCCESS;
}

static bool buffer_add(buffer *b, const char *text)
{
    return buffer_write(b, (const unsigned char *)text, (unsigned)strlen(text)) == CAIRO_STATUS_SUCCESS;
}

/* Text for an SVG element (UTF-8: the labels and the file name were made
 * printable ASCII): markup characters escaped, control characters shown
 * as '?'. */
static bool buffer_add_escaped(buffer *b, const char *text)
{
    bool ok = true;
    for (const char *p = text; *p && ok; p++) {
        char c[2] = {(unsigned char)*p >= 32 && *p != 127 ? *p : '?', 0};
        ok = buffer_add(b, c[0] == '&' ? "&amp;" : c[0] == '<' ? "&lt;" : c[0] == '>' ? "&gt;" : c);
    }
    return ok;
}

/* The SVG cairo made, with a <title> and a <desc> naming the rows (for
 * screen readers and searches) after the <svg> start tag. */
static const unsigned char *find_svg_tag(const buffer *svg)
{
    for (size_t i = 0; i + 4 <= svg->len; i++)
        if (memcmp(svg->data + i, "<svg", 4) == 0)
            return svg->data + i;
    return NULL;
}

static bool add_svg_description(const buffer *svg, const picture *pic, const char *window_text, buffer *out)
{
    const unsigned char *start = svg->data, *end = svg->data + svg->len;
    const unsigned char *tag = find_svg_tag(svg);
    const unsigned char *close = tag ? memchr(tag, '>', (size_t)(end - tag)) : NULL;
    if (close == NULL)
        return buffer_write(out, start, (unsigned)svg->len) == CAIRO_STATUS_SUCCESS;
    bool ok = buffer_write(out, start, (unsigned)(close + 1 - start)) == CAIRO_STATUS_SUCCESS &&
              buffer_add(out, "\n<title>") && buffer_add_escaped(out, pic->title) && buffer_add(out, "</title>\n<desc>");
    for (size_t i = 0; i < pic->nrows && ok; i++)
        ok = buffer_add(out, i ? ", " : "") && buffer_add_escaped(out, pic->rows[i].label);
    ok = ok && buffer_add(out, " from ") && buffer_add_escaped(out, window_text) && buffer_add(out, "</desc>");
    return ok && buffer_write(out, close + 1, (unsigned)(end - close - 1)) == CAIRO_STATUS_SUCCESS;
}

static cairo_status_t render(cairo_surface_t *surface, const picture *pic)
{
    column *cols = malloc(PLOT_W * sizeof *cols);
    if (cols == NULL)
        return CAIRO_STATUS_NO_MEMORY;
    cairo_t *cr = cairo_create(surface);
    draw(cr, pic, cols);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    free(cols);
    return st;
}

static cairo_status_t make_svg(const picture *pic, const char *window_text, buffer *out)
{
    buffer svg = {0};
    cairo_surface_t *surface = cairo_svg_surface_create_for_stream(buffer_write, &svg, WIDTH, picture_height(pic));
    cairo_status_t st = render(surface, pic);
    cairo_surface_finish(surface);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (st == CAIRO_STATUS_SUCCESS && !add_svg_description(&svg, pic, window_text, out))
        st = CAIRO_STATUS_NO_MEMORY;
    free(svg.data);
    return st;
}

static cairo_status_t make_png(const picture *pic, buffer *out)
{
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, WIDTH, picture_height(pic));
    cairo_status_t st = render(surface, pic);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_write_to_png_stream(surface, buffer_write, out);
    cairo_surface_destroy(surface);
    return st;
}

/* ---- wave plot ---- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (n < m)
        return false;
    for (size_t i = 0; i < m; i++)
        if ((s[n - m + i] | 0x20) != suffix[i])
            return false;
    return true;
}

enum { PLOT_OUTPUT, PLOT_FROM, PLOT_TO, PLOT_PINS, PLOT_NOPTS };

static int read_wave(const char *cmd, const char *path, esim_vcd_wave **wave)
{
    uint8_t *data;
    size_t len;
    int e = cli_read_file(path, MAX_VCD_FILE, &data, &len);
    if (e != 0)
        return cli_fail(cmd, "%s: %s", path, e == EFBIG ? "larger than 1 GiB" : cli_errno_text(e));
    char why[256];
    esp_err_t err = esim_vcd_parse((const char *)data, len, wave, why, sizeof why);
    free(data);
    if (err)
        return cli_fail(cmd, "%s: %s", path, why);
    return CLI_OK;
}

/* --from / --to into the window. Returns the exit status. */
static int choose_window(const char *cmd, const cli_option *opts, const esim_vcd_wave *w, window *win)
{
    const char *from = opts[PLOT_FROM].value, *to = opts[PLOT_TO].value;
    win->from = 0;
    win->to = w->end;
    if (from && !parse_time(from, w->unit_fs, false, &win->from))
        return cli_usage_error(cmd, "--from needs a time like 5ms, 250us, 1.5s or 300ns, not '%s'", from);
    if (to && !parse_time(to, w->unit_fs, true, &win->to))
        return cli_usage_error(cmd, "--to needs a time like 5ms, 250us, 1.5s or 300ns, not '%s'", to);
    if (!from && !to && win->to == 0)
        win->to = 1;   /* a file with only its start: show one unit */
    if (win->from >= win->to) {
        char end[48];
        time_text((double)win->to * (double)w->unit_fs * 1e-15, end, sizeof end);
        return cli_usage_error(cmd, "nothing to draw: the window starts at or after its end (%s)", end);
    }
    return CLI_OK;
}

static int write_picture(const char *cmd, const char *out_path, const picture *pic, const char *window_text)
{
    buffer out = {0};
    cairo_status_t st = ends_with(out_path, ".svg") ? make_svg(pic, window_text, &out) : make_png(pic, &out);
    if (st != CAIRO_STATUS_SUCCESS) {
        free(out.data);
        return cli_fail(cmd, "%s: cannot draw: %s", out_path, cairo_status_to_string(st));
    }
    int e = cli_write_file_atomic(out_path, out.data, out.len);
    free(out.data);
    if (e != 0)
        return cli_fail(cmd, "%s: %s", out_path, cli_errno_text(e));
    return CLI_OK;
}

static int plot_wave(const char *cmd, const char *in, const char *out, const cli_option *opts,
                     const esim_vcd_wave *w)
{
    picture pic = {.seconds_per_unit = (double)w->unit_fs * 1e-15};
    int rc = choose_window(cmd, opts, w, &pic.win);
    row *rows = calloc(MAX_ROWS, sizeof *rows);
    if (rows == NULL)
        return cli_fail(cmd, "out of memory");
    size_t nrows = 0;
    if (rc == CLI_OK)
        rc = choose_rows(cmd, in, w, opts[PLOT_PINS].value, rows, &nrows);
    if (rc == CLI_OK) {
        char a[48], b[48], window_text[112], title[400];
        time_text((double)pic.win.from * pic.seconds_per_unit, a, sizeof a);
        time_text((double)pic.win.to * pic.seconds_per_unit, b, sizeof b);
        snprintf(window_text, sizeof window_text, "%s to %s", a, b);
        const char *base = strrchr(in, '/') ? strrchr(in, '/') + 1 : in;
        snprintf(title, sizeof title, "%.200s: %s", base, window_text);
        for (char *c = title; *c && c < title + strlen(base); c++)
            *c = *c >= 32 && *c < 127 ? *c : '?';   /* cairo takes only valid UTF-8 */
        pic.title = title;
        pic.rows = rows;
        pic.nrows = nrows;
        rc = write_picture(cmd, out, &pic, window_text);
    }
    free(rows);
    return rc;
}

static int wave_plot(int argc, char **argv)
{
    const char *cmd = "wave plot";
    cli_option opts[PLOT_NOPTS] = {
        [PLOT_OUTPUT] = {"output", 'o', true, NULL},
        [PLOT_FROM] = {"from", 0, true, NULL},
        [PLOT_TO] = {"to", 0, true, NULL},
        [PLOT_PINS] = {"pins", 0, true, NULL},
    };
    char *pos[1];
    int npos;
    cli_parse_result r = cli_parse(cmd, argc, argv, opts, PLOT_NOPTS, pos, 1, &npos);
    if (r == CLI_HELP)
        return cli_print_help(usage_plot);
    if (r == CLI_BAD)
        return CLI_USAGE;
    if (npos < 1)
        return cli_usage_error(cmd, "missing FILE.vcd");
    const char *out = opts[PLOT_OUTPUT].value;
    if (out == NULL || out[0] == '\0')
        return cli_usage_error(cmd, "missing -o OUT.svg or OUT.png");
    if (!ends_with(out, ".svg") && !ends_with(out, ".png"))
        return cli_usage_error(cmd, "-o needs a file name ending in .svg or .png, not '%s'", out);
    esim_vcd_wave *w = NULL;
    int rc = read_wave(cmd, pos[0], &w);
    if (rc == CLI_OK)
        rc = plot_wave(cmd, pos[0], out, opts, w);
    esim_vcd_wave_free(w);
    /* cairo's and fontconfig's caches, so leak checkers see none */
    cairo_debug_reset_static_data();
    FcFini();
    return rc;
}

int cmd_wave(int argc, char **argv)
{
    static const cli_subcommand subs[] = {{"plot", wave_plot}};
    return cli_dispatch("wave", usage_group, subs, sizeof subs / sizeof subs[0], argc, argv);
}
