// Tells the memory checkers which bytes of the heap a program may touch: free blocks and
// unused chunk memory are poisoned, a block handed out is unpoisoned. Under AddressSanitizer
// a use-after-free or overflow into free memory is then reported through Alloy as it would be
// through malloc; under valgrind the same regions are marked with memcheck's client requests.
//
// The calls live in the parts every heap shares, not in the heaps' own code:
//   chunk_store      poisons a fresh chunk's payload when it is taken, and makes all of the
//                    chunk accessible again before any of it goes back to its source (ASan's
//                    marks outlive munmap, and the kernel maps a freed range again first);
//   hardened_list    (segregated fit) and the tagged and buddy heaps' block push/pop: a block
//                    that becomes free is poisoned but for the words the heap itself reads
//                    (`poison_free`, keeping its list links), a block handed out is unpoisoned
//                    for its usable size;
//   thread caches    keep their blocks on hardened_list's lists too (thread_local_cache).
// Boundary tags and chunk headers are never poisoned: the heaps walk them (coalescing,
// invariant(), metrics()). Without either checker every function here is empty: zero
// instructions (bench/zero_overhead measures it).
//
// valgrind's client requests cost a few instructions even outside valgrind, so they are on
// only in builds without NDEBUG when <valgrind/memcheck.h> is present; -DALLOY_VALGRIND=0/1
// overrides that choice.
#pragma once
#include <cstddef>

#include "config.hpp"

#if ALLOY_ASAN
#  include <sanitizer/asan_interface.h>
#endif

#ifndef ALLOY_VALGRIND
#  if defined(__has_include) && !defined(NDEBUG)
#    if __has_include(<valgrind/memcheck.h>)
#      define ALLOY_VALGRIND 1
#    endif
#  endif
#endif
#ifndef ALLOY_VALGRIND
#  define ALLOY_VALGRIND 0
#endif
#if ALLOY_VALGRIND
#  include <valgrind/memcheck.h>
#endif

namespace alloy::detail {

/// Whether poisoning does anything in this build (tests of the checkers ask).
inline constexpr bool poisoning_active = ALLOY_ASAN || ALLOY_VALGRIND;

/// `n` bytes at `p` are free: any access by the program is an error until `unpoison`.
ALLOY_FAST_PATH void poison([[maybe_unused]] const void* p, [[maybe_unused]] std::size_t n) noexcept {
#if ALLOY_ASAN
  ASAN_POISON_MEMORY_REGION(p, n);
#endif
#if ALLOY_VALGRIND
  (void)VALGRIND_MAKE_MEM_NOACCESS(p, n);
#endif
}

/// `n` bytes at `p` are handed out (or read by the heap itself): accessible, contents undefined.
ALLOY_FAST_PATH void unpoison([[maybe_unused]] const void* p, [[maybe_unused]] std::size_t n) noexcept {
#if ALLOY_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
#if ALLOY_VALGRIND
  (void)VALGRIND_MAKE_MEM_UNDEFINED(p, n);
#endif
}

/// `n` bytes at `p` are the heap's own (a header, a link) and hold defined values.
ALLOY_FAST_PATH void make_defined([[maybe_unused]] const void* p, [[maybe_unused]] std::size_t n) noexcept {
#if ALLOY_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
#if ALLOY_VALGRIND
  (void)VALGRIND_MAKE_MEM_DEFINED(p, n);
#endif
}

/// The block of `bytes` at `p` became free: all of it is poisoned but its first `kept` bytes,
/// the links the heap itself reads and writes while the block sits on a list.
ALLOY_FAST_PATH void poison_free([[maybe_unused]] void* p, [[maybe_unused]] std::size_t bytes,
                                 [[maybe_unused]] std::size_t kept) noexcept {
  if constexpr (poisoning_active) {
    if (bytes > kept) poison(static_cast<std::byte*>(p) + kept, bytes - kept);
  }
}


/// Whether this run can see poisoning (is_poisoned below): under ASan always; with the
/// valgrind hooks only when the program runs under valgrind (elsewhere the client requests do
/// nothing, as in a Debug build run on its own).
inline bool poisoning_observable() noexcept {
#if ALLOY_ASAN
  return true;
#elif ALLOY_VALGRIND
  return RUNNING_ON_VALGRIND != 0;
#else
  return false;
#endif
}

/// Whether any of the `n` bytes at `p` may not be touched: poisoned under ASan, or
/// inaccessible under valgrind's memcheck (asked quietly, without reporting an error).
/// False without a checker.
inline bool is_poisoned([[maybe_unused]] const void* p, [[maybe_unused]] std::size_t n) noexcept {
#if ALLOY_ASAN
  return __asan_region_is_poisoned(const_cast<void*>(p), n) != nullptr;
#elif ALLOY_VALGRIND
  if (!RUNNING_ON_VALGRIND) return false;
  unsigned char vbits[256];
  for (std::size_t done = 0; done < n; done += sizeof vbits) {
    const std::size_t k = n - done < sizeof vbits ? n - done : sizeof vbits;
    // 3: some byte of the range is not addressable (the other codes: all addressable, or misuse).
    if (VALGRIND_GET_VBITS(static_cast<const unsigned char*>(p) + done, vbits, k) == 3) return true;
  }
  return false;
#else
  return false;
#endif
}

}  // namespace alloy::detail
