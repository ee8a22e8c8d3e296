// align<N>: every block is aligned to at least N bytes (SIMD vectors, cache lines).
#pragma once
#include <string>

#include "concept.hpp"

namespace alloy::policy {

template <std::size_t N>
struct align {
  static_assert(alloy::detail::is_pow2(N), "align<N>: N must be a power of two (try align<16>, align<32> or align<64>)");
  static_assert(N >= alignof(void*), "align<N>: N must be at least alignof(void*) (8): a free block stores a pointer");
  using axis = alloy::axis::alignment;
  static constexpr std::size_t value = N;
  static std::string name() { return "align<" + std::to_string(N) + ">"; }
};

}  // namespace alloy::policy
