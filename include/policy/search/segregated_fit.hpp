// segregated_fit: one free list per size class (the seed's 分离适配).
//
//   class 0 (16 B):  head -> [] -> [] -> []        each chunk serves one class; blocks are
//   class 1 (32 B):  head -> [] -> []              carved from it lazily, a batch at a time
//   ...
//   large:           one chunk per block, straight from the source, returned on free
//                    (or, in the tuned form with<ChunkBytes, LargeSearch>, a general heap:
//                    `segregated_fit::with<0, P::tlsf>` keeps large blocks in a coalescing tlsf;
//                    over a source that remaps pages, blocks above 32 MiB stay chunks of their
//                    own there too, and realloc resizes them with mremap)
//
// allocate: class_of(size), pop the list head. free: push onto the head. Both O(1), a few
// instructions when the size is known; unsized free reads the chunk header found by masking
// the address. Chunks of small classes stay with the heap until release().
#pragma once
#include <string>
#include <type_traits>

#include "../detail/segregated_heap.hpp"
#include "concept.hpp"

namespace alloy {
namespace policy {

struct segregated_fit {
  using axis = alloy::axis::search;

  /// Tuned form: `ChunkBytes` is the size of each class's chunk (0: the memory source's choice,
  /// raised so that a chunk holds at least four of the largest blocks). `LargeSearch` serves
  /// requests above the largest class: `void` (the default) gives each its own chunk from the
  /// source, returned on free; a search policy (`P::tlsf`, `P::first_fit`, ...) keeps them in
  /// that general heap, which coalesces and reallocates in place (the seed's large area).
  template <std::size_t ChunkBytes, class LargeSearch = void>
  struct with {
    static_assert(ChunkBytes == 0 || detail::is_pow2(ChunkBytes),
                  "segregated_fit::with<ChunkBytes>: ChunkBytes must be 0 (automatic) or a power of two");
    static_assert(std::is_void_v<LargeSearch> || search_policy<LargeSearch>,
                  "segregated_fit::with<ChunkBytes, LargeSearch>: LargeSearch must be void (direct chunks) or a "
                  "search policy such as P::tlsf");
    using axis = alloy::axis::search;
    // Capability: each class carves a batch of fresh blocks at a time (randomized_placement
    // shuffles it); a large heap places its blocks by size or address, so not with one.
    static constexpr bool shuffles_fresh_batch = std::is_void_v<LargeSearch>;
    // Capability: its heap publishes the codec of its class lists (link_codec()), so a thread
    // cache can link the class blocks it holds as the heap does.
    static constexpr bool shares_link_codec = true;
    template <class Config>
    using heap = detail::segregated_heap<Config, ChunkBytes, LargeSearch>;
    static std::string name() {
      if constexpr (ChunkBytes == 0 && std::is_void_v<LargeSearch>) return "segregated_fit";
      else if constexpr (std::is_void_v<LargeSearch>) return "segregated_fit::with<" + std::to_string(ChunkBytes) + ">";
      else return "segregated_fit::with<" + std::to_string(ChunkBytes) + ", " + LargeSearch::name() + ">";
    }
  };

  /// The untuned spelling is the tuned form with the default arguments (one design, one type).
  using tuned = with<0>;
  static constexpr bool shuffles_fresh_batch = tuned::shuffles_fresh_batch;
  static constexpr bool shares_link_codec = tuned::shares_link_codec;
  template <class Config>
  using heap = tuned::heap<Config>;
  static std::string name() { return tuned::name(); }
};

}  // namespace policy
}  // namespace alloy
