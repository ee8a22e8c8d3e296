// geometric_classes<Min, Max, StepsPerDoubling>: jemalloc's spacing. The first S classes are
// Min, 2*Min, ..., S*Min; above that every doubling [2^k, 2^(k+1)] is cut into S equal steps,
// so internal waste stays under 1/S of the block while the class count grows only with log(Max).
//
//   <16, 4096, 4>:  16 32 48 64 | 80 96 112 128 | 160 192 224 256 | 320 ... | ... 4096
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <type_traits>

#include "concept.hpp"

namespace alloy::policy {

template <std::size_t Min, std::size_t Max, std::size_t StepsPerDoubling>
struct geometric_classes {
  static_assert(alloy::detail::is_pow2(Min) && alloy::detail::is_pow2(StepsPerDoubling),
                "geometric_classes<Min, Max, S>: Min and S must be powers of two (for example geometric_classes<16, 4096, 4>)");
  static_assert(alloy::detail::is_pow2(Max) && Max >= Min * StepsPerDoubling,
                "geometric_classes<Min, Max, S>: Max must be a power of two no smaller than Min * S");
  using axis = alloy::axis::size_classes;

 private:
  static constexpr std::size_t S = StepsPerDoubling;
  static constexpr std::size_t log_s = alloy::detail::log2_floor(S);
  static constexpr std::size_t base = Min * S;  // where the geometric groups start
  static constexpr std::size_t log_base = alloy::detail::log2_floor(base);

 public:
  static constexpr std::size_t count = S + (alloy::detail::log2_floor(Max) - log_base) * S;
  static constexpr std::size_t max_size = Max;

  static constexpr std::size_t class_of(std::size_t n) noexcept {
    // Small requests, the most frequent, read a table: a shift and a load, where the arithmetic
    // below costs a dozen instructions on every malloc of 65 B and more. Indexed by n - 1, the
    // very value a caller's own range test computes (`size - 1 < max`: the thread caches'), so
    // inlined there the two share it; n = 0 wraps past the table to the arithmetic.
    if (n - 1 < table_max) return small_classes[(n - 1) / Min];
    return compute_class(n);
  }
  static constexpr std::size_t size_of(std::size_t c) noexcept {
    if (c < S) return (c + 1) * Min;
    const std::size_t group = (c - S) >> log_s;
    const std::size_t step = (c - S) & (S - 1);
    const std::size_t low = base << group;
    return low + (step + 1) * (low >> log_s);
  }
  static std::string name() {
    return "geometric_classes<" + std::to_string(Min) + ", " + std::to_string(Max) + ", " + std::to_string(S) + ">";
  }

 private:
  static constexpr std::size_t compute_class(std::size_t n) noexcept {
    if (n <= base) return n <= Min ? 0 : (n - 1) / Min;  // linear head: a shift, Min is a power of two
    const std::size_t k = alloy::detail::log2_floor(n - 1);     // 2^k < n <= 2^(k+1)
    const std::size_t shift = k - log_s;                  // log2 of this group's spacing
    const std::size_t step = (n - 1 - (std::size_t{1} << k)) >> shift;  // 0 .. S-1
    return S + (k - log_base) * S + step;
  }
  /// The table covers every request up to Max when that takes at most 256 entries (Max <=
  /// 256 * Min: the process malloc's <16, 4096, 4>), so class_of is one load and no branch:
  /// malloc(64) + free 59.4 -> 58.4 instructions (bench/malloc/count.sh), and 1-4 KiB requests
  /// skip the arithmetic. The lines a program touches are those of the sizes it uses, mostly
  /// the first two. Larger ranges keep the table to 64 * Min, where classes are dense.
  static constexpr std::size_t table_max = Max <= Min * 256 ? Max : Min * 64;
  static constexpr auto small_classes = [] {
    using index = std::conditional_t<(count <= 256), std::uint8_t, std::uint16_t>;
    std::array<index, table_max / Min> t{};  // t[i]: the class of sizes i * Min + 1 .. (i + 1) * Min
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<index>(compute_class((i + 1) * Min));
    return t;
  }();
};

}  // namespace alloy::policy
