/* syshyper CLI: what the command files share. One file per concern:
 * syshyper.c (command table, help), hv.c (/dev/syshyper and hypercalls),
 * vms.c (VM lookup and states), manifest.c (the VMs' image list),
 * load.c (images into a stopped VM), cmd_*.c (the commands). */
#ifndef SYSHYPER_CLI_H
#define SYSHYPER_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "syshyper/hypercall.h"

/* Exit statuses: one per kind of error, so scripts and tests can tell. */
enum {
	EX_OK = 0,
	EX_FAIL = 1,    /* the hypervisor or the module failed the request */
	EX_USAGE = 2,   /* bad command line */
	EX_NOVM = 3,    /* no VM of that name */
	EX_STATE = 4,   /* the VM is in the wrong state for the command */
	EX_IMAGE = 5,   /* an image is missing, unreadable or does not fit */
	EX_NOT_MVM = 6, /* not the MVM: no /dev/syshyper, or the hypervisor denied */
	EX_TIMEOUT = 7, /* the VM did not reach the state in time */
};

/* Prints "syshyper: <message>" on stderr and returns `code`. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- hv.c: the device and the hypercalls behind it */
int hv_open(void); /* EX_OK or an exit status (message printed) */
int hv_vm_count(void);
int hv_vm_info(unsigned idx, struct hc_vm_info *info);
/* Returns the hypervisor's status (HC_OK or HC_ERR_*), or 1 when the module
 * refused the request (errno set). */
long hv_vm_start(unsigned idx);
long hv_vm_stop(unsigned idx, unsigned long mode);
long hv_vm_load(unsigned idx, uint64_t dest_ipa, const void *src, uint64_t len);
/* Waits up to timeout_ms for a VM event after *seen; updates *seen. */
int hv_wait_event(uint64_t *seen, unsigned timeout_ms);
/* Exit status for a failed hypervisor call, message naming the VM. */
int hv_error(long status, const char *vm, const char *what);

/* ---- med_stats.c: the mediated path's time per stage (stats) */
void print_med_stages(void);

/* ---- vms.c */
struct vm {
	unsigned idx;
	struct hc_vm_info info;
};
int vm_find(const char *name, struct vm *vm); /* EX_OK or EX_NOVM (message printed) */
int vm_refresh(struct vm *vm);
const char *vm_state_name(uint64_t state);
int vm_is_gvm(const struct vm *vm);
int vm_is_down(const struct vm *vm); /* stopped or crashed */
/* Waits until the VM is stopped or crashed; EX_OK or EX_TIMEOUT. */
int vm_wait_down(struct vm *vm, unsigned timeout_ms);

/* ---- manifest.c: /etc/syshyper/vms.conf, the VMs whose images the MVM has */
#define MANIFEST_PATH "/etc/syshyper/vms.conf"
#define MAN_PATH_LEN 256
struct vm_images {
	char name[HC_NAME_LEN];
	char kernel[MAN_PATH_LEN], initrd[MAN_PATH_LEN], dtb[MAN_PATH_LEN];
	int autostart;
};
/* Fills `out` with up to `max` entries; returns the count or -1. */
int manifest_read(const char *path, struct vm_images *out, int max);
const struct vm_images *manifest_find(const struct vm_images *list, int n, const char *name);

/* ---- load.c */
/* Checks every image against the VM's RAM and each other, copies them in. */
int load_images(const struct vm *vm, const struct vm_images *img);

/* ---- cmd_life.c: shared by start, reboot, autostart and supervise */
int vm_boot(struct vm *vm); /* load the images (if the MVM has them), start */

/* ---- backoff.c: how soon supervise restarts a GVM (times in ms). After a
 * run of at least stable_ms the restart is at once; each one after a shorter
 * run waits first_ms, doubled per restart, at most max_ms. */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000
#define BACKOFF_STABLE_MS 60000
struct backoff_cfg {
	uint64_t first_ms, max_ms, stable_ms;
};
/* One per VM. */
struct backoff {
	unsigned quick; /* restarts in a row after runs shorter than stable_ms */
	int started;    /* the VM's last instance started at started_at */
	uint64_t started_at;
	int waiting; /* a restart is due at due_at */
	uint64_t due_at;
};
/* The VM is down asking for a restart (call once per stop): sets due_at,
 * returns the delay. */
uint64_t backoff_schedule(const struct backoff_cfg *c, struct backoff *b, uint64_t now);
/* The VM is up since `since` (started by the supervisor, or seen running). */
void backoff_up(struct backoff *b, uint64_t since);
/* The restart failed: the next try's delay (the next step, at least 10 s). */
uint64_t backoff_failed(const struct backoff_cfg *c, struct backoff *b, uint64_t now);
void backoff_cancel(struct backoff *b); /* down for good, or starting: nothing due */

/* ---- cmd_supervise.c: one look at every VM, on the clock now_ms() */
#define SUPERVISE_MAX_VMS 16
#define SUPERVISE_POLL_MS 5000 /* a look at least this often, events or not */
struct supervisor {
	struct backoff_cfg cfg;
	struct backoff vm[SUPERVISE_MAX_VMS];
	uint64_t (*now_ms)(void);
	FILE *log;
};
/* Looks at the first n VMs: restarts those whose restart is due, schedules
 * new ones (a log line each); returns how long to wait for events before the
 * next look (ms). */
unsigned supervise_pass(struct supervisor *s, int n);
/* supervise's options into cfg (defaults first): EX_OK or EX_USAGE. */
int supervise_options(int argc, char **argv, struct backoff_cfg *cfg);

struct command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(int argc, char **argv); /* argv[0] is the command's name */
};

int cmd_list(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_reboot(int argc, char **argv);
int cmd_autostart(int argc, char **argv);
int cmd_supervise(int argc, char **argv);

#endif
