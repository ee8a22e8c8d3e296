// system_malloc: chunks from the C library's aligned_alloc. For platforms without mmap, and to
// let a host's malloc (or a sanitizer's) see and account every chunk.
// Not usable underneath a malloc replacement: it would call itself.
#pragma once
#include <cstdlib>
#include <string>

#include "concept.hpp"

namespace alloy::policy {

struct system_malloc {
  using axis = alloy::axis::source;
  static constexpr std::size_t granule = 64;
  static constexpr std::size_t preferred_chunk_bytes = std::size_t{1} << 16;
  static constexpr bool is_thread_safe = true;

  void* allocate_chunk(std::size_t bytes, std::size_t alignment) noexcept {
    if (bytes > detail::max_request || alignment > detail::max_request) return nullptr;
    return std::aligned_alloc(alignment, detail::align_up(bytes, alignment));
  }
  void deallocate_chunk(void* p, std::size_t) noexcept { std::free(p); }

  static std::string name() { return "system_malloc"; }
};

}  // namespace alloy::policy
