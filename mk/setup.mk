# Host set-up: the packages the build needs (scripts/setup-host.sh, apt-get)
# and Debian's arm64 kernel, modules and busybox (scripts/fetch-guest.sh,
# into .cache/ with a private apt state).
HOST_STAMP := $(CACHE)/host-tools.stamp
GUEST_STAMP := $(CACHE)/guest/fetched.stamp

$(HOST_STAMP): scripts/setup-host.sh
	@scripts/setup-host.sh
	@mkdir -p $(dir $@) && touch $@

$(GUEST_STAMP): scripts/fetch-guest.sh | $(HOST_STAMP)
	@scripts/fetch-guest.sh
	@touch $@

.PHONY: setup
setup: $(HOST_STAMP) $(GUEST_STAMP)
