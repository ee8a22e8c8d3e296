// Threading axis: a layer that decides how the heap below may be shared between threads.
#pragma once
#include "../detail/layer.hpp"

namespace alloy {
namespace policy {
struct single_thread;
}

/// A threading policy is a wrapping layer that publishes `is_thread_safe`.
template <class P>
concept threading_policy = wrapping_policy<P, axis::threading>;

template <>
struct axis_info<axis::threading> {
  static constexpr std::string_view name = "threading";
  using default_policy = policy::single_thread;
  template <class P> static constexpr bool satisfied = threading_policy<P>;
};

}  // namespace alloy
