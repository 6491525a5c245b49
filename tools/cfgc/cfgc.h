/* cfgc's model of a configuration: what the hypervisor gets (struct
 * sys_config, checked by hv/core/config_check.c) and what only the build
 * needs (image files, how the generated ones are made, the kernel command
 * line, the files QEMU attaches to the board, what backs each mediated
 * disk in the MVM). One parse fills it; each output (C, device trees, QEMU
 * arguments, make fragment, MVM manifest, MVM disks.conf) is written by its
 * own file from it. */
#ifndef CFGC_H
#define CFGC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/vm_config.h"

#define MAX_LINE 1024
#define MAX_PATH 512
#define MAX_BOOTARGS 512
#define FIELD_LEN sizeof(((struct cfg_error *)0)->field)

enum image_kind { IMG_KERNEL, IMG_INITRD, IMG_DTB, IMG_COUNT };
extern const char *const image_keys[IMG_COUNT];

/* Where a GVM's images come from when it starts. */
enum image_source {
	IMAGES_PRELOAD, /* placed in RAM by QEMU's loader, started at boot */
	IMAGES_MVM,     /* files in the MVM (/lib/syshyper/VM/), loaded by its CLI */
};

/* A board device QEMU creates for the configuration (an MVM passthrough
 * device or the hypervisor's disk): what is attached at the slot. */
enum qemu_backing { QB_NONE, QB_DISK, QB_NET_USER };

struct qemu_dev {
	uint32_t slot; /* virtio-mmio slot */
	enum qemu_backing kind;
	char file[MAX_PATH]; /* QB_DISK: the raw image */
	int line;            /* where it was given, and as which field */
	char field[FIELD_LEN];
};

/* What backs a mediated disk in the MVM: a file or block device there and
 * where its region starts (the region is as long as the disk). syshyperd
 * reads the path with "%255s". */
#define MAX_BACKING 256
struct med_backing {
	char path[MAX_BACKING]; /* absolute, in the MVM; "" for none */
	uint64_t offset;        /* bytes */
};

/* What the build knows of a VM beyond struct cfg_vm. */
struct vm_build {
	char path[IMG_COUNT][MAX_PATH]; /* image files (generated ones under -B) */
	bool generated[IMG_COUNT];      /* initrd: the role's initramfs; dtb: from this file */
	char bootargs[MAX_BOOTARGS];    /* the kernel command line, "" for none */
	enum image_source images;
	bool autostart;
	bool run_script;                            /* make run SCRIPT= runs its script here */
	bool has_poll;                              /* mediated-poll given */
	uint32_t poll_us;                           /* mediated-poll: the daemon's polling */
	int line;                                   /* of [vm NAME] */
	struct med_backing backing[CFG_MAX_VIRTIO]; /* of its mediated virtio[i] */
};

/* The configuration being compiled (model.c). */
extern const char *cfg_path;
extern const char *out_dir;       /* -B: where generated images go */
extern const char *initramfs_dir; /* --initramfs-dir: the roles' shared initramfs */
extern struct sys_config cfg;
extern struct vm_build vmb[CFG_MAX_VMS];
#define MAX_QEMU_DEVS (CFG_MAX_VMS * CFG_MAX_DEVS + 1)
extern struct qemu_dev qemu_devs[MAX_QEMU_DEVS];
extern unsigned nqemu_devs;
/* -D VAR=value, for ${VAR} in values (the last one of a name wins). */
#define MAX_DEFS 32
struct define {
	const char *name, *value;
};
extern struct define defs[MAX_DEFS];
extern unsigned ndefs;

/* errors.c: one line "FILE:LINE: FIELD: message", exit status 1. */
void __attribute__((noreturn, format(printf, 3, 4)))
die_at(int line, const char *field, const char *fmt, ...);
void loc_add(const char *field, int line);
void loc_reset(void); /* forget every field (tests) */
int loc_find(const char *field);
int line_of_field(const char *field);

/* parse.c: reads the file into cfg and vmb (images are not measured). */
void parse_config(FILE *f);
void check_required(void);

/* images.c: names the generated images; measures every image if `all`, else
 * only the initrd of VM `initrd_of` (-1: none). */
void resolve_images(bool all, int initrd_of);
bool mvm_loads_images(void);         /* some GVM has images = mvm */
bool mvm_initrd_built(void);         /* the MVM's initrd is "@ ADDRESS" */
bool initrd_has_extras(unsigned vm); /* its built initrd is the role's plus files */
void base_initramfs(char *buf, size_t size, unsigned vm);
/* Where the MVM keeps a GVM's image of `kind` (/lib/syshyper/VM/KIND). */
void mvm_image_path(char *buf, size_t size, unsigned vm, enum image_kind kind);
/* The GVM (and its kind) whose entry holds the file behind (vm, kind). */
void mvm_image_owner(unsigned vm, enum image_kind kind, unsigned *owner, enum image_kind *okind);
bool vm_ipa_of_pa(const struct cfg_vm *vm, uint64_t pa, uint64_t *ipa);

/* build_check.c: the build-only rules config_check cannot know. */
void check_build(void);

/* The outputs, each given an open stream. */
void write_c(FILE *o);
void write_qemu_loader(FILE *o);
void write_qemu_devices(FILE *o);
void write_make_fragment(FILE *o);
void write_manifest(FILE *o);
const char *manifest_path(void); /* -B/vms.conf */
void write_disks(FILE *o);
const char *disks_path(void); /* -B/disks.conf */
void write_dts(FILE *o, unsigned vm, unsigned gic_version);

/* Helpers shared by the outputs (model.c). */
int vm_index(const char *name);             /* -1: none */
const char *define_value(const char *name); /* a -D value, or NULL */
void comment_safe(FILE *o, const char *s);  /* s inside a C or DTS comment */
/* The MVM's mediated area where the configuration leaves it out: the
 * default size if some disk is mediated, at the top of its memory. */
void place_med_area(void);

#endif
