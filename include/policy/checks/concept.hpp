// Checking axis: a layer that detects its users' errors (double free, overflow, foreign free).
#pragma once
#include "../wrapping_policy.hpp"

namespace alloy {

template <class P>
concept checks_policy = wrapping_policy<P, axis::checks>;

template <>
struct axis_info<axis::checks> {
  static constexpr std::string_view name = "checks";
  template <class P> static constexpr bool satisfied = checks_policy<P>;
  template <class P> static consteval bool diagnose() { return detail::diagnose_wrapping_policy<P>(); }
};

}  // namespace alloy
