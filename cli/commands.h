/* esp32sim command: one function per subcommand group. Each takes the
 * arguments after the group name (argv[0] is the group name) and returns the
 * process exit status: 0 success, 1 failure, 2 usage error. */
#ifndef ESP32SIM_CLI_COMMANDS_H
#define ESP32SIM_CLI_COMMANDS_H

int cmd_run(int argc, char **argv);     /* cmd_run.c:   esp32sim run [opts] SCRIPT.py */
int cmd_repl(int argc, char **argv);    /* cmd_run.c:   esp32sim repl [opts] */
int cmd_flash(int argc, char **argv);   /* cmd_flash.c: esp32sim flash new|info ... */
int cmd_part(int argc, char **argv);    /* cmd_part.c:  esp32sim part table|mktable|read|write|erase ... */
int cmd_nvs(int argc, char **argv);     /* cmd_nvs.c:   esp32sim nvs mkimage|export|dump|check|get|set|erase ... */
int cmd_ota(int argc, char **argv);     /* cmd_ota.c:   esp32sim ota status|set-boot|mark-valid|erase ... */
int cmd_image(int argc, char **argv);   /* cmd_image.c: esp32sim image make|info ... */
int cmd_wave(int argc, char **argv);    /* cmd_wave.c:  esp32sim wave plot ... */
int cmd_ulp(int argc, char **argv);     /* cmd_ulp.c:   esp32sim ulp run|trace|disasm ... */

#endif
