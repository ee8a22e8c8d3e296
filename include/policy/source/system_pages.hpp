// system_pages: chunks straight from the kernel with mmap, returned with munmap.
// An aligned chunk is first asked for just below the last one (the kernel hands out addresses
// top-down, so that space is usually free, and it is aligned): one system call. Where that
// space is taken, it over-maps by the alignment and trims both ends — three calls, two of them
// munmaps that flush the TLB — so any power-of-two alignment is honoured either way, and
// untouched pages never cost resident memory. A chunk resizes with mremap: where it lies
// when the address space after it is free, else its pages move onto a fresh chunk — the
// kernel moves page-table entries, no byte is copied (a huge block's realloc). A heap may ask
// for transparent huge pages over a chunk (madvise MADV_HUGEPAGE: the kernel's `madvise` THP
// mode, Debian's default, gives them to no one else), which it does only where its blocks are
// large and written whole (chunk_store::prefer_huge_pages says where, and what it costs).
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
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

  void* allocate_chunk(std::size_t bytes, std::size_t alignment) noexcept {
    if (bytes > detail::max_request || alignment > detail::max_request) return nullptr;
    if (alignment > granule)
      if (void* p = map_below_last(bytes, alignment)) return p;
    const std::size_t span = bytes + (alignment > granule ? alignment - granule : 0);
    void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const std::uintptr_t begin = detail::addr(raw);
    const std::uintptr_t aligned = detail::align_up(begin, alignment);
    if (aligned > begin) ::munmap(raw, aligned - begin);
    const std::uintptr_t tail = aligned + bytes;
    if (begin + span > tail) ::munmap(detail::ptr(tail), begin + span - tail);
    if (alignment > granule) last_aligned_chunk_.store(aligned, std::memory_order_relaxed);
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

  static std::string name() { return "system_pages"; }

 private:
  /// An aligned chunk mapped in one call at the aligned address below the last aligned chunk
  /// mapped, or nullptr where that space is taken (or there was no chunk yet). Heap chunks are
  /// multiples of their alignment, so chunk after chunk lands there, and the kernel merges them
  /// into one mapping: under the preload library, sqlite3 makes 7 munmaps where it made 29,
  /// g++ 16 where it made 58 (glibc: 2 and 8).
  static void* map_below_last(std::size_t bytes, std::size_t alignment) noexcept {
    const std::uintptr_t last = last_aligned_chunk_.load(std::memory_order_relaxed);
    if (last <= bytes + alignment) return nullptr;
    const std::uintptr_t below = detail::align_down(last - bytes, alignment);
    // MAP_FIXED_NOREPLACE fails where anything is mapped; a kernel older than 4.17 reads it as
    // a hint and may map elsewhere, which the alignment test below catches.
    void* raw = ::mmap(detail::ptr(below), bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    if (detail::addr(raw) % alignment != 0) {
      ::munmap(raw, bytes);
      return nullptr;
    }
    last_aligned_chunk_.store(detail::addr(raw), std::memory_order_relaxed);
    return raw;
  }
  // Process-wide, as the address space is: a hint only, so a race between two heaps costs one
  // of them the slower path, never a wrong chunk.
  static inline std::atomic<std::uintptr_t> last_aligned_chunk_{0};
};

}  // namespace alloy::policy
