// linear_classes<Step, Max>: classes Step, 2*Step, ..., Max. Waste under Step bytes per block,
// but Max/Step free lists: for small, dense size ranges.
#pragma once
#include <string>

#include "concept.hpp"

namespace alloy::policy {

template <std::size_t Step, std::size_t Max>
struct linear_classes {
  static_assert(Step > 0, "linear_classes<Step, Max>: Step must be positive (for example linear_classes<16, 1024>)");
  static_assert(Max >= Step && Max % Step == 0,
                "linear_classes<Step, Max>: Max must be a positive multiple of Step (for example linear_classes<16, 1024>)");
  using axis = alloy::axis::size_classes;

  static constexpr std::size_t count = Max / Step;
  static constexpr std::size_t max_size = Max;

  static constexpr std::size_t class_of(std::size_t n) noexcept { return n <= Step ? 0 : (n - 1) / Step; }
  static constexpr std::size_t size_of(std::size_t c) noexcept { return (c + 1) * Step; }
  static std::string name() { return "linear_classes<" + std::to_string(Step) + ", " + std::to_string(Max) + ">"; }
};

}  // namespace alloy::policy
