# The MVM's side: its kernel module (built against Debian's headers) and
# its programs (the block daemon, the syshyper CLI).
$(BUILD)/mvm/syshyper.ko: $(wildcard mvm/kmod/*.[ch]) mvm/kmod/Kbuild mvm/kmod/build.sh \
		$(wildcard include/syshyper/*.h) $(GUEST_STAMP)
	mvm/kmod/build.sh $(BUILD)/mvm

$(BUILD)/mvm/syshyperd $(BUILD)/mvm/syshyper &: $(wildcard mvm/daemon/*.[ch]) \
		$(wildcard mvm/cli/*.[ch]) mvm/daemon/build.sh \
		$(wildcard include/syshyper/*.h) | $(HOST_STAMP)
	mvm/daemon/build.sh $(BUILD)/mvm
