/* The configuration being compiled, shared by cfgc's parts (cfgc.h), and
 * the small helpers the outputs share. */
#include <string.h>

#include "cfgc.h"
#include "syshyper/mediated.h"

const char *cfg_path;
const char *out_dir = "build/gen";
const char *initramfs_dir = "build";
struct sys_config cfg;
struct vm_build vmb[CFG_MAX_VMS];
struct qemu_dev qemu_devs[MAX_QEMU_DEVS];
unsigned nqemu_devs;

struct define defs[MAX_DEFS];
unsigned ndefs;

const char *define_value(const char *name)
{
	for (unsigned i = ndefs; i-- > 0;) /* the last -D of a name wins */
		if (!strcmp(defs[i].name, name))
			return defs[i].value;
	return NULL;
}

int vm_index(const char *name)
{
	for (unsigned v = 0; v < cfg.nvms; v++)
		if (!strcmp(cfg.vms[v].name, name))
			return (int)v;
	return -1;
}

void comment_safe(FILE *o, const char *s)
{
	for (; *s; s++) /* keep the comment closed */
		fputc(s[0] == '*' && s[1] == '/' ? '_' : s[0], o);
}

void place_med_area(void)
{
	for (unsigned v = 0; v < cfg.nvms; v++) {
		struct cfg_vm *vm = &cfg.vms[v];
		const struct cfg_mem *top = NULL;
		if (vm->role != VM_ROLE_MVM)
			continue;
		if (!vm->med_area.size && config_has_mediated_disk(&cfg))
			vm->med_area.size = MED_AREA_DEFAULT;
		if (!vm->med_area.size || vm->med_area.pa)
			continue;
		for (unsigned r = 0; r < vm->nmem; r++)
			if (!top || vm->mem[r].pa > top->pa)
				top = &vm->mem[r];
		if (top && top->size >= vm->med_area.size) /* else config_check says so */
			vm->med_area.pa = (top->pa + top->size - vm->med_area.size) &
					  ~(uint64_t)(MED_AREA_ALIGN - 1);
	}
}
