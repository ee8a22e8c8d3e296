// tlsf: two-level segregated fit, the real-time systems' standard general-purpose heap.
// O(1) allocate and free, whatever the number of free blocks, with immediate coalescing.
//
//   fl_bitmap  0 0 1 0 1 ...          a bit per power of two that holds a free block
//   sl_bitmap[fl]  16 bits            a bit per sixteenth of it
//   lists[fl][sl] -> [] -> []         LIFO lists of free blocks, boundary-tagged
//
// A request is rounded up to the next class boundary, so the first non-empty list found by two
// bit scans always fits ("good fit"); the block is split and the rest filed again. The heap
// (boundary tags, coalescing, splitting, growth) is the one the fit policies use
// (detail/tagged_heap.hpp); tlsf differs only in its index (detail/tlsf_heap.hpp).
#pragma once
#include <string>

#include "../detail/tlsf_heap.hpp"
#include "concept.hpp"

namespace alloy::policy {

struct tlsf {
  using axis = alloy::axis::search;

  /// Tuned form: `ChunkBytes` is the heap's first chunk (later ones grow geometrically);
  /// 0 means max(the memory source's preferred chunk, 64 KiB).
  template <std::size_t ChunkBytes>
  struct with {
    static_assert(ChunkBytes == 0 || detail::is_pow2(ChunkBytes),
                  "tlsf::with<ChunkBytes>: ChunkBytes must be 0 (automatic) or a power of two");
    using axis = alloy::axis::search;
    template <class Config>
    using heap = detail::tlsf_heap<Config, ChunkBytes>;
    static std::string name() { return "tlsf::with<" + std::to_string(ChunkBytes) + ">"; }
  };

  template <class Config>
  using heap = detail::tlsf_heap<Config, 0>;
  static std::string name() { return "tlsf"; }
};

}  // namespace alloy::policy
