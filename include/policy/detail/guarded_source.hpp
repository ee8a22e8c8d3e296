// A memory-source adaptor that ends every chunk with an inaccessible guard page, so a linear
// overflow off the end of a chunk (its last block, or a large block) faults instead of
// corrupting whatever the kernel mapped next. chunk_store sees the chunk without its guard:
// ownership and accounting stay exact.
//
// Over a source that remaps pages the guard moves with the chunk's end: a chunk grows by moving
// its pages onto a fresh guarded chunk (its own guard already in place behind them), and shrinks
// where it lies, the guard protected at its new end first. So a hardened heap's large block keeps
// its guard right behind it through realloc, with no byte copied and no page faulted again.
//
//   +--------------------------- chunk (bytes) ---------------------------+-------------+
//   | header | blocks ...                                                 | guard (---) |
//   +---------------------------------------------------------------------+-------------+
#pragma once
#include <sys/mman.h>

#include <cstddef>
#include <string>
#include <type_traits>

#include "../source/concept.hpp"
#include "math.hpp"

namespace alloy::detail {

/// Only over a source that publishes `protects_pages` (source/concept.hpp): the composition
/// refuses guard pages over any other (alloc/detail/compatibility.hpp), so this adaptor is
/// never built over one.
template <class Source>
class guarded_source {
 public:
  using axis = typename Source::axis;
  static constexpr std::size_t guard_bytes = 4096;  // the x86-64 / AArch64-4K page
  static_assert(Source::granule % guard_bytes == 0, "chunk sizes must be whole pages for the guard to sit at the end");
  static constexpr std::size_t granule = Source::granule;
  static constexpr std::size_t preferred_chunk_bytes = Source::preferred_chunk_bytes;
  static constexpr bool is_thread_safe = Source::is_thread_safe;
  static constexpr bool kernel_pages = source_kernel_pages<Source>;  // a guard changes no page's owner
  static constexpr bool zeroes_fresh_chunks = source_zeroes_fresh_chunks<Source>;  // nor a byte before it
  static constexpr bool populates_pages = source_populates_pages<Source>;
  // Huge pages stay on offer: the guard is a mapping of its own after the chunk, so the
  // chunk's aligned huge-page ranges are what they were. Without them a hardened heap's huge
  // blocks faulted a page at a time (sort's 64 MiB buffer under the hardened library: 1.49x
  // the unhardened library's CPU time).
  static constexpr bool huge_pages = source_huge_pages<Source>;
  static constexpr std::size_t huge_page_bytes = [] {
    if constexpr (huge_pages) return Source::huge_page_bytes;
    else return std::size_t{0};
  }();

  void* allocate_chunk(std::size_t bytes, std::size_t alignment) noexcept {
    if (bytes > max_request) return nullptr;
    void* base = inner_.allocate_chunk(bytes + guard_bytes, alignment);
    if (base == nullptr) return nullptr;
    if (::mprotect(static_cast<std::byte*>(base) + bytes, guard_bytes, PROT_NONE) != 0) {
      inner_.deallocate_chunk(base, bytes + guard_bytes);
      return nullptr;
    }
    return base;
  }
  void deallocate_chunk(void* p, std::size_t bytes) noexcept { inner_.deallocate_chunk(p, bytes + guard_bytes); }

  static constexpr bool remaps_pages = source_remaps_pages<Source>;
  /// Shrinks the chunk at `p` where it lies: its new last page's successor becomes the guard,
  /// then the rest (the old guard included) goes. Growing where it lies would need the pages
  /// behind the guard, a second mapping: false, and the heap moves the chunk (move_chunk).
  bool resize_chunk(void* p, std::size_t old_bytes, std::size_t new_bytes) noexcept
    requires remaps_pages
  {
    if (new_bytes >= old_bytes) return new_bytes == old_bytes;
    auto* new_guard = static_cast<std::byte*>(p) + new_bytes;
    if (::mprotect(new_guard, guard_bytes, PROT_NONE) != 0) return false;
    if (!inner_.resize_chunk(p, old_bytes + guard_bytes, new_bytes + guard_bytes)) {
      (void)::mprotect(new_guard, guard_bytes, PROT_READ | PROT_WRITE);  // as it was: the block's pages
      return false;
    }
    return true;
  }
  /// The pages of the chunk at `from` moved onto `to` (a guarded chunk of `new_bytes` from this
  /// source): only the accessible part moves — one mapping, which is all the kernel moves in one
  /// call — and lands in front of `to`'s own guard; the guard left behind at `from` goes.
  bool move_chunk(void* from, std::size_t old_bytes, void* to, std::size_t new_bytes) noexcept
    requires remaps_pages
  {
    if (!inner_.move_chunk(from, old_bytes, to, new_bytes)) return false;
    inner_.deallocate_chunk(static_cast<std::byte*>(from) + old_bytes, guard_bytes);
    return true;
  }
  void populate(void* p, std::size_t bytes) noexcept
    requires populates_pages
  {
    inner_.populate(p, bytes);
  }

  void advise_huge_pages(void* p, std::size_t bytes) noexcept
    requires huge_pages
  {
    inner_.advise_huge_pages(p, bytes);
  }

  static std::string name() { return Source::name() + " + guard pages"; }

 private:
  [[no_unique_address]] Source inner_;
};

/// The source a heap takes its chunks from: guarded when its hardening asks for guard pages.
template <class Source, bool Guard>
using maybe_guarded_source = std::conditional_t<Guard, guarded_source<Source>, Source>;

}  // namespace alloy::detail
