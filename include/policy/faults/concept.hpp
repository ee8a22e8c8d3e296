// Fault-injection axis: a layer that makes chosen allocations fail on purpose, so a user can
// test how their own code behaves when the N-th allocation fails, for every N.
#pragma once
#include "../wrapping_policy.hpp"

namespace alloy {

template <class P>
concept faults_policy = wrapping_policy<P, axis::faults>;

template <>
struct axis_info<axis::faults> {
  static constexpr std::string_view name = "faults";
  template <class P> static constexpr bool satisfied = faults_policy<P>;
  template <class P> static consteval bool diagnose() { return detail::diagnose_wrapping_policy<P>(); }
};

}  // namespace alloy
