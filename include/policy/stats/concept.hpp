// Instrumentation axis: a layer over the heap that may count what passes through it.
#pragma once
#include "../wrapping_policy.hpp"

namespace alloy {

/// A stats policy is a wrapping layer; one that counts also names its record as
/// `P::layer<H>::snapshot` and offers `stats()`.
template <class P>
concept stats_policy = wrapping_policy<P, axis::stats>;

template <>
struct axis_info<axis::stats> {
  static constexpr std::string_view name = "stats";
  template <class P> static constexpr bool satisfied = stats_policy<P>;
  template <class P> static consteval bool diagnose() { return detail::diagnose_wrapping_policy<P>(); }
};

}  // namespace alloy
