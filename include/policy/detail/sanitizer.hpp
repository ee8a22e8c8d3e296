// Tells the memory checkers which bytes of the heap a program may touch: free blocks and
// unused chunk memory are poisoned, a block handed out is unpoisoned. Under AddressSanitizer
// a use-after-free or overflow into free memory is then reported through Alloy as it would be
// through malloc; under valgrind the same regions are marked with memcheck's client requests.
//
// Every heap calls `poison` where it takes a block back and `unpoison` where it hands one out.
// Without either checker both are empty inline functions: zero instructions.
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

/// Whether ASan considers any of the `n` bytes at `p` poisoned (false without ASan).
inline bool is_poisoned([[maybe_unused]] const void* p, [[maybe_unused]] std::size_t n) noexcept {
#if ALLOY_ASAN
  return __asan_region_is_poisoned(const_cast<void*>(p), n) != nullptr;
#else
  return false;
#endif
}

}  // namespace alloy::detail
