// Checking axis: a layer that detects its users' errors (double free, overflow, foreign free).
#pragma once
#include "../detail/layer.hpp"

namespace alloy {
namespace policy {
struct no_checks;
}

template <class P>
concept checks_policy = wrapping_policy<P, axis::checks>;

template <>
struct axis_info<axis::checks> {
  static constexpr std::string_view name = "checks";
  using default_policy = policy::no_checks;
  template <class P> static constexpr bool satisfied = checks_policy<P>;
};

}  // namespace alloy
