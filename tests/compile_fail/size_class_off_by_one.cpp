// expect: block_holds_request, 3072
// A size-class map with a bug in class_of (a lookup entry left at zero): 3,072 B maps to the
// 16 B class. The composition names the law and the first size at
// fault (the note's `At`), instead of corrupting memory at run time.
#include <alloc/alloy.hpp>
#include <bit>
struct off_by_one_classes {  // powers of two 16 .. 4096
  using axis = alloy::axis::size_classes;
  static constexpr std::size_t count = 9;
  static constexpr std::size_t max_size = 4096;
  static constexpr std::size_t class_of(std::size_t n) noexcept {
    if (n == 3072) return 0;  // the bug
    return n <= 16 ? 0 : static_cast<std::size_t>(std::bit_width(n - 1)) - 4;
  }
  static constexpr std::size_t size_of(std::size_t c) noexcept { return std::size_t{16} << c; }
  static std::string name() { return "off_by_one_classes"; }
};
alloy::allocator<alloy::policy::segregated_fit, off_by_one_classes> heap;
