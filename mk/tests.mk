# make test: host unit tests (cmocka, ASan/UBSan; the fuzzers for a short
# while) and the system tests (QEMU boots of GICv2 and GICv3 images and of
# the test configurations).
.PHONY: test unit-test system-test test-configs
test: lint unit-test system-test

unit-test: $(HOST_STAMP) $(CFGC)
	@$(MAKE) -s -C tests/unit check
	@python3 scripts/test_bench.py

system-test: $(HOST_STAMP) test-configs
	@$(MAKE) -s GIC=2 qemu-deps
	@$(MAKE) -s GIC=3 qemu-deps
	python3 tests/system/test_hv.py

# Test configurations of Linux VMs only, booted on GICv3 (those of the
# bare-metal guests are in tests/guests/guests.mk): configs/test-NAME.cfg
# is built into $(BUILD)/test-NAME-gicv3/.
LINUX_TEST_CONFIGS := three-gvms
test-configs: $(addprefix test-config-,$(LINUX_TEST_CONFIGS))
test-config-%: $(HOST_STAMP)
	@$(MAKE) -s GIC=3 CONFIG=configs/test-$*.cfg qemu-deps

# libFuzzer on everything a guest or the MVM side can feed, for longer than
# make test does (FUZZ_SECONDS per harness).
.PHONY: fuzz
fuzz: $(HOST_STAMP)
	@$(MAKE) -s -C tests/unit fuzz FUZZ_SECONDS=$(or $(FUZZ_SECONDS),300)

.PHONY: bench
bench: $(QEMU_DEPS) test-configs
	python3 scripts/bench.py

# Formatting, static analysis and extra warnings (scripts/lint.sh).
.PHONY: lint
lint: $(HOST_STAMP)
	@scripts/lint.sh
