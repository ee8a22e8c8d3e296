// Size-class axis: a constexpr, O(1) map between request sizes and a small set of block sizes.
#pragma once
#include <concepts>
#include <cstddef>

#include "../axis.hpp"
#include "../detail/math.hpp"

namespace alloy {

/// A size-class map publishes `count` classes, `max_size` (the largest size served by a class),
/// and two constexpr functions: `class_of(size)` for 1 <= size <= max_size, the smallest class
/// whose block holds `size`; and `size_of(c)`, strictly increasing in c.
template <class P>
concept size_class_members = requires(std::size_t n) {
  { P::count } -> std::convertible_to<std::size_t>;
  { P::max_size } -> std::convertible_to<std::size_t>;
  { P::class_of(n) } noexcept -> std::same_as<std::size_t>;
  { P::size_of(n) } noexcept -> std::same_as<std::size_t>;
};

template <class P>
concept size_classes_policy = std::same_as<typename P::axis, axis::size_classes> && named_policy<P> &&
                         size_class_members<P> && (P::count > 0) && (P::size_of(P::count - 1) == P::max_size);

/// The laws every size-class map obeys, each named so a failure can say which.
enum class size_class_law {
  none,                 ///< every law holds
  round_trip,           ///< class_of(size_of(c)) == c
  strictly_increasing,  ///< size_of(c) > size_of(c - 1)
  block_holds_request,  ///< size_of(class_of(n)) >= n, and class_of(n) < count
  tightest_block,       ///< size_of(class_of(n) - 1) < n: no smaller class would do
};

/// The first law broken and where: the class (round_trip, strictly_increasing) or the request
/// size (block_holds_request, tightest_block). Every size up to `exhaustive_sizes` is checked;
/// above it, each class's first and last two sizes and 16 between (a compiler's budget for
/// constant evaluation: clang 14's 2^20 steps ran out checking every size of a 128 KiB map).
struct size_class_fault {
  size_class_law law = size_class_law::none;
  std::size_t at = 0;
};
inline constexpr std::size_t exhaustive_sizes = std::size_t{16} << 10;

template <size_classes_policy M>
constexpr size_class_fault first_size_class_fault() {
  for (std::size_t c = 0; c < M::count; ++c) {
    if (M::class_of(M::size_of(c)) != c) return {size_class_law::round_trip, c};
    if (c > 0 && M::size_of(c) <= M::size_of(c - 1)) return {size_class_law::strictly_increasing, c};
  }
  const auto fault_at = [](std::size_t n) -> size_class_fault {
    const std::size_t c = M::class_of(n);
    if (c >= M::count || M::size_of(c) < n) return {size_class_law::block_holds_request, n};
    if (c > 0 && M::size_of(c - 1) >= n) return {size_class_law::tightest_block, n};
    return {};
  };
  for (std::size_t n = 1; n <= M::max_size && n <= exhaustive_sizes; ++n)
    if (const size_class_fault f = fault_at(n); f.law != size_class_law::none) return f;
  for (std::size_t c = 1; c < M::count; ++c) {
    const std::size_t lo = M::size_of(c - 1) + 1, hi = M::size_of(c);
    if (hi <= exhaustive_sizes) continue;
    const std::size_t step = (hi - lo) / 17 + 1;
    for (std::size_t n : {lo, lo + 1, hi - 1, hi})  // the class's own sizes only: lo + 1 passes hi when lo == hi
      if (const size_class_fault f = n <= hi ? fault_at(n) : size_class_fault{}; f.law != size_class_law::none) return f;
    for (std::size_t n = lo + step; n < hi; n += step)
      if (const size_class_fault f = fault_at(n); f.law != size_class_law::none) return f;
  }
  return {};
}

/// True when every law holds (`static_assert(size_class_laws<M>())` beside each shipped map,
/// and in tests). The composition checks it too, naming the law and the size at fault.
template <size_classes_policy M>
constexpr bool size_class_laws() {
  return first_size_class_fault<M>().law == size_class_law::none;
}

namespace detail {

/// Instantiated with the first fault, so the compiler's note prints the law and the class or
/// size at fault (`Map`, `Law`, `At`); each law has its own message.
template <class Map, size_class_law Law, std::size_t At>
struct size_class_law_check {
  static_assert(Law != size_class_law::round_trip,
                "alloy: size classes break the round-trip law: class_of(size_of(c)) != c for the class `At` in the "
                "note below");
  static_assert(Law != size_class_law::strictly_increasing,
                "alloy: size classes break the law 'size_of is strictly increasing' at the class `At` in the note "
                "below");
  static_assert(Law != size_class_law::block_holds_request,
                "alloy: size classes break the law 'every size is served by a block at least as large': a request "
                "of `At` bytes (note below) maps to a smaller block, or to no class; the heap would overrun it");
  static_assert(Law != size_class_law::tightest_block,
                "alloy: size classes break the law 'class_of(n) is the tightest class': a request of `At` bytes "
                "(note below) fits the class before the one class_of gives");
  static constexpr bool value = Law == size_class_law::none;
};

}  // namespace detail

template <>
struct axis_info<axis::size_classes> {
  static constexpr std::string_view name = "size_classes";
  template <class P>
  static consteval bool lawful() {
    if constexpr (size_classes_policy<P>) return size_class_laws<P>();
    else return false;
  }
  /// The concept and its laws: a map that breaks one does not compose.
  template <class P>
  static constexpr bool satisfied = lawful<P>();
  template <class P>
  static consteval bool diagnose() {
    if constexpr (!named_policy<P>) {
      return detail::diagnose_name<P>();
    } else if constexpr (!size_class_members<P>) {
      static_assert(size_class_members<P>, "alloy: the size-class map `P` (note below) lacks one of `static constexpr` "
                                           "count, max_size, `std::size_t class_of(std::size_t) noexcept`, "
                                           "`std::size_t size_of(std::size_t) noexcept`");
      return false;
    } else if constexpr (!size_classes_policy<P>) {
      static_assert(size_classes_policy<P>, "alloy: the size-class map `P` (note below) needs count > 0 and "
                                       "size_of(count - 1) == max_size");
      return false;
    } else {
      constexpr size_class_fault fault = first_size_class_fault<P>();
      return detail::size_class_law_check<P, fault.law, fault.at>::value;
    }
  }
};

}  // namespace alloy
