// A memory-source adaptor that ends every chunk with an inaccessible guard page, so a linear
// overflow off the end of a chunk (its last block, or a large block) faults instead of
// corrupting whatever the kernel mapped next. chunk_store sees the chunk without its guard:
// ownership and accounting stay exact.
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
