/* The conformance guest on two vCPUs (configs/test-conform2.cfg): the same
 * program, built under a second name so that its configuration has an image
 * of its own (tests/guests/guests.mk). */
#include "conform.c"
