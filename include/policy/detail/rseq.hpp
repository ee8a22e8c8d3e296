// Restartable sequences (rseq, Linux >= 4.18) through the C library's own registration, and the
// two per-CPU slab operations per_cpu_cache builds on.
//
// What rseq gives: a thread registers a `struct rseq` with the kernel; the kernel keeps the
// number of the CPU the thread runs on in it, and when the thread is preempted, migrated or
// interrupted by a signal while its instruction pointer lies inside a *critical section* the
// thread declared (its `rseq_cs` field points at a descriptor: start, length, abort address),
// the kernel moves it to the abort address on its way back to user space. A section that reads
// the CPU number, works on that CPU's data and ends with one store therefore runs as if alone
// on its CPU, with no atomic instruction: either the final store happened on the CPU the
// section started on, or nothing did.
//
// Registration: glibc >= 2.35 registers every thread itself and publishes where
// (`__rseq_offset` from the thread pointer, `__rseq_size`, 0 when it did not register: kernel
// without rseq, GLIBC_TUNABLES=glibc.pthread.rseq=0, valgrind). A library that registers its
// own area instead fails when glibc already holds one (one area per thread), which is why
// tcmalloc asks its users for that tunable (google/tcmalloc#144); Alloy uses glibc's area, so
// a program needs nothing. When glibc did not register a thread it sets the area's `cpu_id`
// to RSEQ_CPU_ID_REGISTRATION_FAILED (-2), which the slab operations below rely on.
//
// Where rseq is built in: x86-64 Linux with glibc >= 2.35, except under ThreadSanitizer,
// which can neither see a critical section's restart nor the kernel's writes to the area (its
// builds run per_cpu_cache's fallback, the thread caches). -DALLOY_RSEQ=0 turns it off too.
#pragma once
#include <cstddef>
#include <cstdint>

#include "config.hpp"

#ifndef ALLOY_RSEQ
#  if defined(__SANITIZE_THREAD__)
#    define ALLOY_RSEQ 0
#  elif defined(__has_feature)
#    if __has_feature(thread_sanitizer)
#      define ALLOY_RSEQ 0
#    endif
#  endif
#endif
#ifndef ALLOY_RSEQ
#  if defined(__x86_64__) && defined(__linux__) && defined(__has_include)
#    if __has_include(<sys/rseq.h>)
#      include <sys/rseq.h>  // glibc >= 2.35: struct rseq, RSEQ_SIG, __rseq_offset, __rseq_size
#      define ALLOY_RSEQ 1
#    endif
#  endif
#endif
#ifndef ALLOY_RSEQ
#  define ALLOY_RSEQ 0
#endif
#if ALLOY_RSEQ
#  include <sys/rseq.h>
#  include <sys/syscall.h>
#  include <unistd.h>
#  include <linux/membarrier.h>
#endif

namespace alloy::detail {

/// Whether this build contains the rseq code at all.
inline constexpr bool rseq_built = ALLOY_RSEQ != 0;

#if ALLOY_RSEQ
// The slab operations below address the area's fields by offset in their assembly.
static_assert(offsetof(struct rseq, cpu_id) == 4 && offsetof(struct rseq, rseq_cs) == 8,
              "alloy: struct rseq layout differs from the kernel ABI the slab assembly assumes");
static_assert(RSEQ_SIG == 0x53053053, "alloy: the x86-64 rseq abort signature the slab assembly emits");
#endif

/// The CPU the calling thread runs on as the kernel wrote it in the thread's rseq area, or a
/// negative number when this thread has no rseq registration (or the build has no rseq).
inline int rseq_cpu() noexcept {
#if ALLOY_RSEQ
  // Read through a volatile: the kernel rewrites it behind the compiler's back.
  const auto* area = reinterpret_cast<const volatile struct rseq*>(static_cast<char*>(__builtin_thread_pointer()) +
                                                                   __rseq_offset);
  return static_cast<int>(area->cpu_id);
#else
  return -1;
#endif
}

/// Whether the C library registered an rseq area for its threads in this process.
inline bool rseq_registered_by_libc() noexcept {
#if ALLOY_RSEQ
  return __rseq_size != 0;
#else
  return false;
#endif
}

/// The one way to stop every per-CPU critical section of this process at once: after it
/// returns, each thread of the process that was inside one has been moved to its abort
/// address (MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, Linux >= 5.10). A slab owner that
/// unpublishes a CPU's region and then fences may work on the region alone. False when the
/// kernel offers no such fence (then no region is ever worked on from another CPU).
inline bool rseq_fence() noexcept {
#if ALLOY_RSEQ
  // The process registers for the fence once (a function-local static); the answer is kept.
  static const bool registered =
      syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0) == 0;
  return registered && syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, 0, 0) == 0;
#else
  return false;
#endif
}

// ---- per-CPU slabs ----------------------------------------------------------------------
//
// A *region* is one CPU's cache: an array of 8-byte words whose first words are one header
// per size class, followed by every class's slots (block pointers). A header holds three word
// indexes into the region: `current` (one past the top of the class's stack), `begin` and
// `end` of its slots. Pop takes slot current-1 and stores current-1; push writes slot current
// and stores current+1: each commits with that one store of `current`. `current` is 32 bits
// wide although 16 would do: a 16-bit store and reload of it cost 5.0 ns per pop+push pair on
// this machine's AMD EPYC against 2.0 ns at 32 bits (the core forwards 32- and 64-bit values
// from a store to the next load of them by renaming, not narrower ones).
// A table maps a CPU number to its region; the entries for -2 and -1 (no registration) and for
// CPUs without a region point at an all-zero region, where current == begin == end, so both
// operations fail and the caller takes its slow path: no separate test for "is rseq on".

/// One class's header in a region: word indexes, `begin <= current <= end`.
struct slab_header {
  std::uint32_t current;
  std::uint16_t begin;
  std::uint16_t end;
};
static_assert(sizeof(slab_header) == 8);

#if ALLOY_RSEQ
// The parts every slab section shares. The descriptor (struct rseq_cs: version, flags,
// start, length to the commit's end, abort address) goes in section __rseq_cs, the abort
// handler — preceded by the signature the kernel checks, spelled as the instruction
// `ud1 0x53053053(%rip), %edi` so disassemblers stay in step — in __rseq_failure; it restarts
// the whole section, including the store of the descriptor's address (the kernel clears
// `rseq_cs` when it aborts). Labels: 1 start, 2 end of the commit, 4 abort, 5 retry.
// `region` and `cur` name the two scratch registers (64-bit spelling).
#  define ALLOY_RSEQ_SECTION_BEGIN(region, cur)                 \
    ".pushsection __rseq_cs, \"aw\"\n\t"                        \
    ".balign 32\n\t"                                            \
    ".Lalloy_rseq_cs%=:\n\t"                                    \
    ".long 0, 0\n\t"                                            \
    ".quad 1f, 2f - 1f, 4f\n\t"                                 \
    ".popsection\n\t"                                           \
    ".pushsection __rseq_failure, \"ax\"\n\t"                   \
    ".byte 0x0f, 0xb9, 0x3d\n\t"                                \
    ".long 0x53053053\n\t"                                      \
    "4:\n\t"                                                    \
    "jmp 5f\n\t"                                                \
    ".popsection\n\t"                                           \
    "5:\n\t"                                                    \
    "leaq .Lalloy_rseq_cs%=(%%rip), " region "\n\t"             \
    "movq " region ", %%fs:8(%[area])\n\t"                      \
    "1:\n\t"                                                    \
    "movslq %%fs:4(%[area]), " cur "\n\t"                       \
    "movq (%[table], " cur ", 8), " region "\n\t"

// Pop: empty when current == begin; else the slot below current, then current - 1 (commit).
// The outcome leaves in the zero flag (set: empty): `lea` and `mov` keep the flags of the
// compare. (Not `asm goto` with outputs: g++ 12.2 miscompiles the goto path's value.)
#  define ALLOY_RSEQ_POP(current, begin)                        \
    ALLOY_RSEQ_SECTION_BEGIN("%[region]", "%[cur]")             \
    "movl " current ", %k[cur]\n\t"                             \
    "cmpw " begin ", %w[cur]\n\t"                               \
    "je 2f\n\t"                                                 \
    "movq -8(%[region], %q[cur], 8), %[out]\n\t"                \
    "leal -1(%q[cur]), %k[cur]\n\t"                             \
    "movl %k[cur], " current "\n\t"                             \
    "2:\n\t"

// Push: full when current == end; else the block into slot current, then current + 1 (commit).
// No outputs, so `asm goto` may leave straight for the caller's slow path (one branch); the
// scratch registers are fixed and clobbered: %rdx the region, %rcx the index.
#  define ALLOY_RSEQ_PUSH(current, end)                         \
    ALLOY_RSEQ_SECTION_BEGIN("%%rdx", "%%rcx")                  \
    "movl " current ", %%ecx\n\t"                               \
    "cmpw " end ", %%cx\n\t"                                    \
    "je %l[full]\n\t"                                           \
    "movq %[block], (%%rdx, %%rcx, 8)\n\t"                      \
    "incl %%ecx\n\t"                                            \
    "movl %%ecx, " current "\n\t"                               \
    "2:\n\t"
#endif

/// Pops a block of the class whose header is at byte `header` of the calling thread's CPU's
/// region into `out`; false when that stack is empty, the CPU has no region, or the thread no
/// rseq. `table` is indexed by CPU number and valid from index -2. (The answer is the flag,
/// not a null `out`: the caller then branches once, on the flag the compare left.)
ALLOY_FAST_PATH bool slab_pop([[maybe_unused]] void* const* table, [[maybe_unused]] std::size_t header,
                              [[maybe_unused]] void*& out) noexcept {
#if ALLOY_RSEQ
  const std::ptrdiff_t area = __rseq_offset;
  std::uintptr_t region, cur;
  bool empty;
#  if defined(__GNUC__) && !defined(__clang__)
  // A size known at compile time makes `header` a constant, and the header's fields are then
  // addressed by displacement (no register to load it into). clang checks "i" before
  // inlining, so it always takes the register form.
  if (__builtin_constant_p(header)) {
    asm volatile(ALLOY_RSEQ_POP("%c[h](%[region])", "%c[h2](%[region])")
                 : [out] "=&r"(out), [region] "=&r"(region), [cur] "=&r"(cur), "=@ccz"(empty)
                 : [area] "r"(area), [table] "r"(table), [h] "i"(header), [h2] "i"(header + 4)
                 : "memory");
    return !empty;
  }
#  endif
  asm volatile(ALLOY_RSEQ_POP("(%[region], %[h])", "4(%[region], %[h])")
               : [out] "=&r"(out), [region] "=&r"(region), [cur] "=&r"(cur), "=@ccz"(empty)
               : [area] "r"(area), [table] "r"(table), [h] "r"(header)
               : "memory");
  return !empty;
#else
  return false;
#endif
}

/// Pushes `block` on the class whose header is at byte `header` of the calling thread's CPU's
/// region; false when that stack is full, the CPU has no region, or the thread no rseq.
ALLOY_FAST_PATH bool slab_push([[maybe_unused]] void* const* table, [[maybe_unused]] std::size_t header,
                               [[maybe_unused]] void* block) noexcept {
#if ALLOY_RSEQ
  const std::ptrdiff_t area = __rseq_offset;
#  if defined(__GNUC__) && !defined(__clang__)
  if (__builtin_constant_p(header)) {
    asm volatile goto(ALLOY_RSEQ_PUSH("%c[h](%%rdx)", "%c[h6](%%rdx)")
                      :
                      : [area] "r"(area), [table] "r"(table), [block] "r"(block), [h] "i"(header), [h6] "i"(header + 6)
                      : "rcx", "rdx", "cc", "memory"
                      : full);
    return true;
  }
#  endif
  asm volatile goto(ALLOY_RSEQ_PUSH("(%%rdx, %[h])", "6(%%rdx, %[h])")
                    :
                    : [area] "r"(area), [table] "r"(table), [block] "r"(block), [h] "r"(header)
                    : "rcx", "rdx", "cc", "memory"
                    : full);
  return true;
full:
  return false;
#else
  return false;
#endif
}

#if ALLOY_RSEQ
#  undef ALLOY_RSEQ_SECTION_BEGIN
#  undef ALLOY_RSEQ_POP
#  undef ALLOY_RSEQ_PUSH
#endif

}  // namespace alloy::detail
