// Fault-injection axis: a layer that makes chosen allocations fail on purpose, so a user can
// test how their own code behaves when the N-th allocation fails, for every N.
#pragma once
#include "../detail/layer.hpp"

namespace alloy {
namespace policy {
struct no_faults;
}

template <class P>
concept faults_policy = wrapping_policy<P, axis::faults>;

template <>
struct axis_info<axis::faults> {
  static constexpr std::string_view name = "faults";
  using default_policy = policy::no_faults;
  template <class P> static constexpr bool satisfied = faults_policy<P>;
};

}  // namespace alloy
