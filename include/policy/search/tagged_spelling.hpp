// The spelling every policy over the boundary-tag heap (first, best and next fit, tlsf) shares:
// `P::x` and its tuned form `P::x::with<ChunkBytes>`. Policy-level, so it lives with the search
// policies; the heap itself is policy/detail/tagged_heap.hpp.
#pragma once
#include <cstddef>
#include <string>

#include "../axis.hpp"
#include "../detail/math.hpp"

namespace alloy::detail {

/// The spelling every tagged-heap policy shares: `P::x` and its tuned form `P::x::with<ChunkBytes>`,
/// where ChunkBytes is the heap's first chunk (later ones grow geometrically) and 0 means
/// max(the memory source's preferred chunk, 64 KiB). `Named` is the policy itself, giving
/// `static constexpr std::string_view base_name`.
template <class Named, template <class Config, std::size_t ChunkBytes> class Heap>
struct tagged_search_policy {
  using axis = alloy::axis::search;

  template <std::size_t ChunkBytes>
  struct with {
    static_assert(ChunkBytes == 0 || is_pow2(ChunkBytes),
                  "P::<fit or tlsf>::with<ChunkBytes>: ChunkBytes must be 0 (automatic) or a power of two");
    using axis = alloy::axis::search;
    template <class Config>
    using heap = Heap<Config, ChunkBytes>;
    static std::string name() {
      if constexpr (ChunkBytes == 0) return std::string(Named::base_name);
      else return std::string(Named::base_name) + "::with<" + std::to_string(ChunkBytes) + ">";
    }
  };

  /// The untuned spelling is the tuned form with the default argument (one design, one type).
  using tuned = with<0>;
  template <class Config>
  using heap = typename tuned::template heap<Config>;
  static std::string name() { return std::string(Named::base_name); }
};

}  // namespace alloy::detail
