// The size bins of a thread cache: 16-byte steps up to 64, then four per doubling (jemalloc's
// spacing, at most 25% rounding waste). A thread cache keeps its own bins, independent of the
// heap's size classes, because a wrapping layer cannot see the heap's class map; every block
// of bin b is taken from the heap as a request of `size_of(b)` and given back as one, so any
// heap below serves it correctly whatever its own classes are.
#pragma once
#include <bit>
#include <cstddef>

#include "config.hpp"

namespace alloy::detail {

struct cache_bins {
  /// The bin of a request of `size` bytes, 1 <= size.
  ALLOY_FAST_PATH static constexpr std::size_t bin_of(std::size_t size) noexcept {
    const std::size_t s = size - 1;
    if (s < 64) return s >> 4;
    const auto top = static_cast<std::size_t>(std::bit_width(s));  // 2^(top-1) <= s < 2^top, top >= 7
    return 4 * (top - 7) + (s >> (top - 3));                         // s >> (top - 3) is 4..7
  }
  /// The block size every request of bin `b` is served with.
  static constexpr std::size_t size_of(std::size_t b) noexcept {
    if (b < 4) return (b + 1) * 16;
    return (b % 4 + 5) << (b / 4 + 3);
  }
  /// How many bins cover requests up to `max_size`.
  static constexpr std::size_t count_for(std::size_t max_size) noexcept { return max_size == 0 ? 0 : bin_of(max_size) + 1; }
};

namespace cache_bins_laws {
// Checked up to 4 KiB: the mapping is the same shape in every doubling above, and clang 14's
// constexpr step limit stops a walk over every size to 64 KiB.
constexpr bool hold(std::size_t up_to) {
  for (std::size_t s = 1; s <= up_to; ++s) {
    const std::size_t b = cache_bins::bin_of(s);
    if (cache_bins::size_of(b) < s) return false;                              // a bin's block holds its requests
    if (b > 0 && cache_bins::size_of(b - 1) >= s) return false;                // ... and the bin is the smallest that does
    if (cache_bins::size_of(b) % 16 != 0) return false;                        // block sizes keep 16-byte alignment
    if (s > 64 && (cache_bins::size_of(b) - s) * 4 > s) return false;          // waste at most 25% above 64 bytes
  }
  return true;
}
static_assert(hold(1 << 12), "cache_bins: bin_of and size_of must be inverse, tight and 16-byte granular");
static_assert(cache_bins::bin_of(1) == 0 && cache_bins::bin_of(64) == 3 && cache_bins::bin_of(65) == 4);
static_assert(cache_bins::count_for(16384) == 36);
}  // namespace cache_bins_laws

}  // namespace alloy::detail
