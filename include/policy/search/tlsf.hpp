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
//
// Tuned form: P::tlsf::with<ChunkBytes>, the first chunk taken from the memory source (later
// ones grow geometrically); 0, the default, means max(the source's preferred chunk, 64 KiB).
#pragma once
#include <string_view>

#include "../detail/tlsf_heap.hpp"
#include "concept.hpp"
#include "tagged_spelling.hpp"

namespace alloy::policy {

struct tlsf : detail::tagged_search_policy<tlsf, detail::tlsf_heap> {
  static constexpr std::string_view base_name = "tlsf";
};

}  // namespace alloy::policy
