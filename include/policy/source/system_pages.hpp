// system_pages: chunks straight from the kernel with mmap, returned with munmap.
// An aligned chunk is first asked for where the kernel would put it: the kernel hands out
// addresses top-down, so a chunk lands just below the lowest mapping, or in the highest hole a
// freed one left — aligned, when that mapping or hole is a chunk of the same alignment, as heap
// chunks (multiples of their alignment) mostly are: one system call. Otherwise the space just
// below, at the alignment, is tried (MAP_FIXED_NOREPLACE), and last it over-maps by the
// alignment and trims both ends, so any power-of-two alignment is honoured, and untouched pages
// never cost resident memory. A chunk resizes with mremap: where it lies
// when the address space after it is free, else its pages move onto a fresh chunk — the
// kernel moves page-table entries, no byte is copied (a huge block's realloc). A heap may ask
// for transparent huge pages over a chunk (madvise MADV_HUGEPAGE: the kernel's `madvise` THP
// mode, Debian's default, gives them to no one else), which it does only where its blocks are
// large and written whole (chunk_store::prefer_huge_pages says where, and what it costs). A
// heap about to touch fresh pages may have them populated in one call (segregated fit's carving).
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#include "concept.hpp"

namespace alloy::policy {

struct system_pages {
  using axis = alloy::axis::source;
  static constexpr std::size_t granule = 4096;
  static constexpr std::size_t preferred_chunk_bytes = std::size_t{1} << 16;
  static constexpr bool is_thread_safe = true;  // the kernel serialises mmap
  // Capabilities: each chunk is whole pages of its own mapping, which mprotect may change (guard
  // pages), and a freshly mapped chunk is anonymous memory, zero-filled by the kernel, as is any
  // address space the heap reserves beside it (its page map).
  static constexpr bool protects_pages = true;
  static constexpr bool zeroes_fresh_chunks = true;
  static constexpr bool kernel_pages = true;
  static constexpr bool remaps_pages = true;
  static constexpr bool huge_pages = true;
  static constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;  // x86-64's PMD page
  static constexpr bool populates_pages = true;

  void* allocate_chunk(std::size_t bytes, std::size_t alignment) noexcept {
    if (bytes > detail::max_request || alignment > detail::max_request) return nullptr;
    if (alignment > granule)
      if (void* p = map_where_the_kernel_would(bytes, alignment)) return p;
    const std::size_t span = bytes + (alignment > granule ? alignment - granule : 0);
    void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const std::uintptr_t begin = detail::addr(raw);
    const std::uintptr_t aligned = detail::align_up(begin, alignment);
    if (aligned > begin) ::munmap(raw, aligned - begin);
    const std::uintptr_t tail = aligned + bytes;
    if (begin + span > tail) ::munmap(detail::ptr(tail), begin + span - tail);
    return detail::ptr(aligned);
  }
  void deallocate_chunk(void* p, std::size_t bytes) noexcept { ::munmap(p, bytes); }

  /// The chunk at `p` resized to `new_bytes` where it lies; false leaves it as it was.
  bool resize_chunk(void* p, std::size_t old_bytes, std::size_t new_bytes) noexcept {
    return new_bytes <= detail::max_request && ::mremap(p, old_bytes, new_bytes, 0) != MAP_FAILED;
  }
  /// The pages of the chunk at `from` moved onto `to`, a chunk of `new_bytes` from this source,
  /// which they replace (its own pages are dropped); `from` is gone. false leaves both as they were.
  bool move_chunk(void* from, std::size_t old_bytes, void* to, std::size_t new_bytes) noexcept {
    return ::mremap(from, old_bytes, new_bytes, MREMAP_MAYMOVE | MREMAP_FIXED, to) != MAP_FAILED;
  }

  /// Asks for huge pages over the chunk at `p`: a hint, so a kernel without THP (or one that
  /// refuses) leaves the chunk as it was, in small pages.
  void advise_huge_pages(void* p, std::size_t bytes) noexcept { (void)::madvise(p, bytes, MADV_HUGEPAGE); }

#ifdef MADV_POPULATE_WRITE
  static constexpr int populate_write = MADV_POPULATE_WRITE;
#else
  static constexpr int populate_write = 23;  // the kernel's value, for C libraries older than 2.35
#endif

  /// Makes the pages of [p, p + bytes) resident and writable now (MADV_POPULATE_WRITE, Linux
  /// 5.14): one system call where touching them would trap once a page. A kernel that does not
  /// know the advice says so once (EINVAL), and no call is made again; a kernel short of memory
  /// (ENOMEM) leaves the pages to fault. Either way `errno` is as it was: a hint is no error of
  /// the malloc that gave it.
  void populate(void* p, std::size_t bytes) noexcept {
    static std::atomic<bool> unsupported{false};
    if (unsupported.load(std::memory_order_relaxed)) return;
    const int saved = errno;
    if (::madvise(p, bytes, populate_write) != 0 && errno == EINVAL) unsupported.store(true, std::memory_order_relaxed);
    errno = saved;
  }

  static std::string name() { return "system_pages"; }

 private:
  /// An aligned chunk where the kernel places a mapping of its size, or just below that at the
  /// alignment; nullptr where neither is aligned and free. Heap chunks are multiples of their
  /// alignment, so chunk after chunk lands aligned and the kernel merges them into one mapping
  /// (under the preload library, with the shell that runs it, sqlite3 makes 5 munmaps where
  /// over-mapping made 29, g++ 8-9 where it made 58; glibc 4 and 8), and a chunk given back
  /// leaves a hole the next one of its size fills. (A process-wide "below the last chunk" hint
  /// made 7 and 16, and never went back up: a program that made and dropped heaps walked down
  /// the address space for ever — under ASan, 170 MiB of fresh shadow a pass over the fuzz
  /// corpus.)
  static void* map_where_the_kernel_would(std::size_t bytes, std::size_t alignment) noexcept {
    void* raw = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    if (detail::addr(raw) % alignment == 0) return raw;
    ::munmap(raw, bytes);
    // Top-down, the kernel put it at the top of the highest gap it fits: the rest of the gap is
    // below it. MAP_FIXED_NOREPLACE fails where anything is mapped; a kernel older than 4.17
    // reads it as a hint and may map elsewhere, which the alignment test catches.
    const std::uintptr_t below = detail::align_down(detail::addr(raw), alignment);
    if (below == 0) return nullptr;
    raw = ::mmap(detail::ptr(below), bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    if (detail::addr(raw) % alignment == 0) return raw;
    ::munmap(raw, bytes);
    return nullptr;
  }
};

}  // namespace alloy::policy
