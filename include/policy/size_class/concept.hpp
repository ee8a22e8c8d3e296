// Size-class axis: a constexpr, O(1) map between request sizes and a small set of block sizes.
#pragma once
#include <concepts>
#include <cstddef>

#include "../axis.hpp"
#include "../detail/math.hpp"

namespace alloy {
namespace policy {
template <std::size_t Min, std::size_t Max, std::size_t StepsPerDoubling> struct geometric_classes;
}

/// A size-class map publishes `count` classes, `max_size` (the largest size served by a class),
/// and two constexpr functions: `class_of(size)` for 1 <= size <= max_size, the smallest class
/// whose block holds `size`; and `size_of(c)`, strictly increasing in c.
template <class P>
concept size_class_map = std::same_as<typename P::axis, axis::size_classes> && requires(std::size_t n) {
  { P::count } -> std::convertible_to<std::size_t>;
  { P::max_size } -> std::convertible_to<std::size_t>;
  { P::class_of(n) } noexcept -> std::same_as<std::size_t>;
  { P::size_of(n) } noexcept -> std::same_as<std::size_t>;
  { P::name() } -> std::convertible_to<std::string>;
} && (P::count > 0) && (P::size_of(P::count - 1) == P::max_size);

template <>
struct axis_info<axis::size_classes> {
  static constexpr std::string_view name = "size_classes";
  using default_policy = policy::geometric_classes<16, 16384, 4>;
  template <class P> static constexpr bool satisfied = size_class_map<P>;
};

/// The laws every size-class map obeys, checked exhaustively at compile time for every size
/// up to `max_size` (`static_assert(size_class_laws<M>())` beside each shipped map, and in tests).
template <size_class_map M>
constexpr bool size_class_laws() {
  for (std::size_t c = 0; c < M::count; ++c) {
    if (M::class_of(M::size_of(c)) != c) return false;            // round trip
    if (c > 0 && M::size_of(c) <= M::size_of(c - 1)) return false;  // strictly increasing
  }
  for (std::size_t n = 1; n <= M::max_size; ++n) {
    const std::size_t c = M::class_of(n);
    if (c >= M::count || M::size_of(c) < n) return false;  // the block holds the request
    if (c > 0 && M::size_of(c - 1) >= n) return false;     // and is the tightest that does
  }
  return true;
}

}  // namespace alloy
