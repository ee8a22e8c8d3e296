// pow2_classes<Min, Max>: one class per power of two. Cheapest mapping (one bit scan),
// worst internal waste (just under 50%).
#pragma once
#include <string>

#include "concept.hpp"

namespace alloy::policy {

template <std::size_t Min, std::size_t Max>
struct pow2_classes {
  static_assert(alloy::detail::is_pow2(Min) && alloy::detail::is_pow2(Max),
                "pow2_classes<Min, Max>: Min and Max must be powers of two (for example pow2_classes<8, 256>)");
  static_assert(Min <= Max, "pow2_classes<Min, Max>: Min must not exceed Max (write pow2_classes<8, 256>, not <256, 8>)");
  using axis = alloy::axis::size_classes;

  static constexpr std::size_t count = alloy::detail::log2_floor(Max) - alloy::detail::log2_floor(Min) + 1;
  static constexpr std::size_t max_size = Max;

  /// ceil(log2(n)) - log2(Min) for 1 <= n: OR-ing in Min - 1 lifts every n <= Min to class 0
  /// without a branch, so the fast path maps a size with `lea; or; bsr` and no compare.
  static constexpr std::size_t class_of(std::size_t n) noexcept {
    return alloy::detail::log2_floor((n - 1) | (Min - 1)) + 1 - alloy::detail::log2_floor(Min);
  }
  static constexpr std::size_t size_of(std::size_t c) noexcept { return Min << c; }
  static std::string name() { return "pow2_classes<" + std::to_string(Min) + ", " + std::to_string(Max) + ">"; }
};

}  // namespace alloy::policy
