// expect: lacks `void\* allocate_chunk\(std::size_t bytes, std::size_t alignment\) noexcept`
#include <alloc/alloy.hpp>
struct half_a_source {  // claims the source axis but cannot hand out chunks
  using axis = alloy::axis::source;
  static std::string name() { return "half_a_source"; }
};
alloy::allocator<half_a_source> heap;
