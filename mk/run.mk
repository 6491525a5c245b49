# make run: QEMU with the hypervisor and this configuration's VMs
# (scripts/qemu.sh reads $(HV_BUILD)'s QEMU arguments).
QEMU_DEPS := $(HV_ELF) $(HV_BUILD)/qemu-loader.args $(HV_BUILD)/qemu-devices.args $(CFG_IMAGES) \
	$(CFG_DRIVES)

# Everything make run needs, without running it.
.PHONY: qemu-deps
qemu-deps: $(QEMU_DEPS)

.PHONY: run
run: $(QEMU_DEPS)
ifeq ($(SCRIPT),)
	@echo "sysHyper: Ctrl-] then ? for console help; the MVM's poweroff ends QEMU."
	@HV_DIR=$(HV_BUILD) scripts/qemu.sh $(GIC)
else
	@HV_DIR=$(HV_BUILD) python3 scripts/run-script.py $(GIC) "$(SCRIPT)"
endif
