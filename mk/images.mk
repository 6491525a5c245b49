# The VMs' images, as cfgc's fragment ($(CFG_MK)) lists them, and the disks
# QEMU attaches.
#
#   kernel        Debian's arm64 Image, copied from the cache
#   initramfs     one per role, shared by the VMs of that role
#                 (scripts/mkinitramfs.sh: busybox, /init, modules, tools,
#                 the test tools of tests/linux)
#   a VM's initrd the role's initramfs with files appended, when its
#                 configuration adds some (the MVM: disks.conf and the images
#                 of the GVMs it loads; the run-script VM: make run's SCRIPT)
#   a VM's DTB    cfgc --dts, then dtc; after the initrd, whose end it names
KERNEL := $(BUILD)/guest/Image
MVM_TOOLS := $(BUILD)/mvm/syshyper.ko $(BUILD)/mvm/syshyperd $(BUILD)/mvm/syshyper
LINUX_TOOLS := $(BUILD)/linux/ethflood $(BUILD)/linux/memscan
# the MVM's alone (it needs /dev/syshyper)
MVM_TEST_TOOLS := $(BUILD)/linux/ringcorrupt

$(KERNEL): $(GUEST_STAMP)
	@mkdir -p $(dir $@)
	cp $(CACHE)/guest/Image $@

# The roles' initramfs: cfgc names them $(BUILD)/ROLE/initramfs.cpio.gz.
$(BUILD)/mvm/initramfs.cpio.gz: $(GUEST_STAMP) scripts/mkinitramfs.sh linux/init \
		$(MVM_TOOLS) $(LINUX_TOOLS) $(MVM_TEST_TOOLS)
	@mkdir -p $(dir $@)
	scripts/mkinitramfs.sh $@ mvm

$(BUILD)/gvm/initramfs.cpio.gz: $(GUEST_STAMP) scripts/mkinitramfs.sh linux/init \
		$(LINUX_TOOLS)
	@mkdir -p $(dir $@)
	scripts/mkinitramfs.sh $@ gvm

# The test tools (static, arm64); ringcorrupt reads the mediated area.
$(BUILD)/linux/%: tests/linux/%.c | $(HOST_STAMP)
	@mkdir -p $(dir $@)
	$(CROSS)gcc -static -O2 -Wall -Wextra -Werror -Iinclude -o $@ $<

$(BUILD)/linux/ringcorrupt: include/syshyper/mediated.h include/syshyper/med_ring.h

# make run SCRIPT=file: the file runs as root in the VM whose configuration
# says `run-script = yes`. The stamp changes with SCRIPT's name or content.
SCRIPT ?=
SCRIPT_STAMP := $(BUILD)/script.stamp
$(SCRIPT_STAMP): FORCE
	@mkdir -p $(dir $@)
	@{ echo "$(SCRIPT)"; [ -z "$(SCRIPT)" ] || cat "$(SCRIPT)"; } | cmp -s - $@ || \
		{ echo "$(SCRIPT)" > $@; [ -z "$(SCRIPT)" ] || cat "$(SCRIPT)" >> $@; }
FORCE:

# $(call vm_initrd,VM): the role's initramfs with the VM's files appended.
define vm_initrd
$(CFG_$(1)_INITRD): $(CFG_$(1)_INITRD_BASE) $(CFG_$(1)_INITRD_DEPS) scripts/mkinitramfs.sh \
		$(CFG_MK) $(if $(CFG_$(1)_RUN_SCRIPT),$(SCRIPT_STAMP))
	scripts/mkinitramfs.sh --append $$@ $(CFG_$(1)_INITRD_BASE) $(CFG_$(1)_INITRD_FILES) \
		$(if $(CFG_$(1)_RUN_SCRIPT),$$(if $$(SCRIPT),$$(SCRIPT):etc/autorun.sh:755))
endef

# $(call vm_dtb,VM): the VM's device tree, from the configuration alone.
define vm_dtb
$(CFG_$(1)_DTB): $(CFG_$(1)_INITRD) $(CONFIG) $(CFGC) | $(HOST_STAMP)
	@mkdir -p $$(dir $$@)
	$(CFGC) $(CFGC_FLAGS) --dts $(1) $$@.dts $(CONFIG)
	dtc -q -I dts -O dtb -o $$@ $$@.dts
endef

$(foreach vm,$(CFG_VMS),$(if $(CFG_$(vm)_INITRD_APPEND),$(eval $(call vm_initrd,$(vm)))))
$(foreach vm,$(CFG_VMS),$(if $(CFG_$(vm)_DTB_BUILT),$(eval $(call vm_dtb,$(vm)))))

# The disks the configurations attach (disk=FILE): the MVM's, with its
# mediated GVM disks (scripts/mkdisk.sh), and the hypervisor's own.
$(BUILD)/disk.img: scripts/mkdisk.sh
	@mkdir -p $(dir $@)
	scripts/mkdisk.sh $@

$(BUILD)/hvdisk.img: mk/images.mk
	@mkdir -p $(dir $@)
	truncate -s 256M $@  # sparse; make bench reads 256 MiB of it
