// Alignment axis: the minimum alignment of every block the allocator returns.
#pragma once
#include <concepts>
#include <cstddef>

#include "../axis.hpp"
#include "../detail/math.hpp"

namespace alloy {
namespace policy {
template <std::size_t N> struct align;
}

/// An alignment policy publishes `value`, a power of two no smaller than a pointer
/// (free blocks hold a link, so a block is never less aligned than `void*`).
template <class P>
concept alignment_policy = std::same_as<typename P::axis, axis::alignment> && requires {
  { P::value } -> std::convertible_to<std::size_t>;
  { P::name() } -> std::convertible_to<std::string>;
} && alloy::detail::is_pow2(P::value) && P::value >= alignof(void*);

template <>
struct axis_info<axis::alignment> {
  static constexpr std::string_view name = "alignment";
  using default_policy = policy::align<alignof(std::max_align_t)>;
  template <class P> static constexpr bool satisfied = alignment_policy<P>;
};

}  // namespace alloy
