// no_reclaim: a heap keeps what it took until release() (whole free chunks of the coalescing
// heaps aside, which they always give back but one). The library's default: not a byte, not an
// instruction — every reclaim branch of a heap is `if constexpr` on `enabled`.
#pragma once
#include <string>

#include "concept.hpp"

namespace alloy::policy {

struct no_reclaim : detail::reclaim_off {
  using axis = alloy::axis::reclaim;
  static std::string name() { return "no_reclaim"; }
};

}  // namespace alloy::policy
