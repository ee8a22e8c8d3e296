// Alloy: build-wide switches and the fast/slow path annotations.
// The only macros the library defines; everything else is a template parameter.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
/// Inlined into the caller: the allocate/free fast path must be a handful of instructions.
#  define ALLOY_FAST_PATH [[gnu::always_inline]] inline
/// Kept out of line and out of the caller's hot code: refill, growth, reporting.
#  define ALLOY_SLOW_PATH [[gnu::noinline, gnu::cold]]
#else
#  define ALLOY_FAST_PATH inline
#  define ALLOY_SLOW_PATH
#endif

#if defined(__SANITIZE_ADDRESS__)
#  define ALLOY_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define ALLOY_ASAN 1
#  endif
#endif
#ifndef ALLOY_ASAN
#  define ALLOY_ASAN 0
#endif
