/* esp32sim command: entry point. Picks the subcommand group and hands it the
 * rest of the arguments (cli/commands.h). */
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"

static const char usage[] =
    "Usage: esp32sim COMMAND [ARGS...]\n"
    "\n"
    "A simulated ESP32 running MicroPython's esp32 module.\n"
    "\n"
    "Commands:\n"
    "  run SCRIPT.py     run a MicroPython script on a simulated board\n"
    "  repl              start an interactive prompt on a simulated board\n"
    "  flash new|info|write\n"
    "                    create a flash image, show its table, counters and wear, write into it\n"
    "  part table|mktable|read|write|erase\n"
    "                    partition tables and partition contents\n"
    "  nvs mkimage|export|dump|check|get|set|erase\n"
    "                    NVS partition images: build, read, check, edit\n"
    "  image make|info   ESP-IDF app images: build one, check one\n"
    "  ota status|set-boot|mark-valid|erase\n"
    "                    OTA state of an image and what the next boot loads\n"
    "  wave plot         draw a VCD file (run --vcd) as a timing diagram, SVG or PNG\n"
    "  ulp run|trace|disasm\n"
    "                    ULP-FSM programs (.ulp): run on the emulator, trace, list\n"
    "  help [COMMAND]    show this help, or a command's help\n"
    "\n"
    "Options:\n"
    "  -h, --help        show this help\n"
    "  --version         print the version\n"
    "\n"
    "Run 'esp32sim COMMAND --help' for a command's options.\n";

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    {"run", cmd_run},
    {"repl", cmd_repl},
    {"flash", cmd_flash},
    {"part", cmd_part},
    {"nvs", cmd_nvs},
    {"image", cmd_image},
    {"ota", cmd_ota},
    {"wave", cmd_wave},
    {"ulp", cmd_ulp},
};

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static int unknown_command(const char *name)
{
    fprintf(stderr, "esp32sim: unknown %s '%s'\nTry 'esp32sim --help'.\n",
            name[0] == '-' ? "option" : "command", name);
    return CLI_USAGE;
}

/* "esp32sim help [COMMAND]" */
static int help(int argc, char **argv)
{
    if (argc < 3)
        return cli_print_help(usage);
    const command *c = find_command(argv[2]);
    if (!c)
        return unknown_command(argv[2]);
    char *sub_argv[] = {argv[2], "--help", NULL};
    return c->run(2, sub_argv);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("esp32sim: missing command\nTry 'esp32sim --help'.\n", stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0)
        return cli_print_help(usage);
    if (strcmp(name, "--version") == 0) {
        printf("esp32sim %s\n", CLI_VERSION);
        return CLI_OK;
    }
    if (strcmp(name, "help") == 0)
        return help(argc, argv);
    const command *c = find_command(name);
    if (!c)
        return unknown_command(name);
    return c->run(argc - 1, argv + 1);
}
