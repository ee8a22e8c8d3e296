// Hardening axis: defences against heap exploitation. A hardening policy gives heaps a
// `link_codec` through which every free-list link is stored and loaded.
#pragma once
#include <concepts>

#include "../axis.hpp"

namespace alloy {
namespace policy {
struct no_hardening;
}

template <class P>
concept hardening_policy = std::same_as<typename P::axis, axis::hardening> && requires(const typename P::link_codec& c, void* p) {
  { c.encode(p, p) } noexcept -> std::same_as<void*>;  // (next, address of the slot it is stored in)
  { c.decode(p, p) } noexcept -> std::same_as<void*>;
  { P::name() } -> std::convertible_to<std::string>;
};

template <>
struct axis_info<axis::hardening> {
  static constexpr std::string_view name = "hardening";
  using default_policy = policy::no_hardening;
  template <class P> static constexpr bool satisfied = hardening_policy<P>;
};

}  // namespace alloy
