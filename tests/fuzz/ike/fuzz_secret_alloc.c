// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzzer-only: libsodium's guarded allocator replaced by malloc in the
 * fuzzer binary (these definitions take precedence over libsodium's).
 * vpn_secret_alloc() (vpnd/crypto/crypto.c, compiled into the fuzzer)
 * then hands out ASan-tracked memory: an overrun of a key buffer is
 * reported at its first byte, not only past a page boundary, and each
 * buffer costs no mmap, mprotect, mlock and munmap (about a quarter of
 * the engine fuzzer's time went to them and the TLB flushes they cause).
 */
#include <stdlib.h>
#include <string.h>

void *sodium_malloc(size_t size);
void sodium_free(void *ptr);

void *sodium_malloc(size_t size)
{
	return malloc(size ? size : 1);
}

void sodium_free(void *ptr)
{
	free(ptr);
}
