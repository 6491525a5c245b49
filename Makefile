# sysHyper: `make run` boots the hypervisor with its VMs in QEMU;
# `make test` runs every test. Both install or fetch what is missing first.
#
# The VMs are described by one configuration (CONFIG), which tools/cfgc
# turns into everything the build needs; this file and mk/*.mk name no VM.
#   mk/setup.mk   host packages, Debian's guest files
#   mk/config.mk  cfgc and what it writes from CONFIG
#   mk/hv.mk      the EL2 image
#   mk/mvm.mk     the MVM's module and programs
#   mk/images.mk  kernels, initramfs, device trees, disks
#   mk/run.mk     make run
#   mk/tests.mk   make test, fuzz, bench

GIC ?= 3
PLATFORM ?= qemu-virt
BUILD := build
CACHE := .cache
CROSS ?= aarch64-linux-gnu-
CONFIG ?= configs/qemu-virt.cfg
# The default configuration builds into build/gicvN/, any other one into
# build/NAME-gicvN/ (make run CONFIG=configs/test-three-gvms.cfg).
HV_BUILD ?= $(if $(filter configs/qemu-virt.cfg,$(CONFIG)),$(BUILD)/gicv$(GIC),$(BUILD)/$(basename $(notdir $(CONFIG)))-gicv$(GIC))

.DEFAULT_GOAL := qemu-deps

include mk/setup.mk
include mk/config.mk
include mk/hv.mk
include mk/mvm.mk
include mk/images.mk
include mk/run.mk
include mk/tests.mk
# Bare-metal test guests and their test configurations (system-test prerequisites).
include tests/guests/guests.mk

.PHONY: clean
clean:
	rm -rf $(BUILD)
