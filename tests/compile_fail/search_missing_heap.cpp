// expect: lacks `template <class Config> using heap = ...;`
#include <alloc/alloy.hpp>
struct heapless_search {
  using axis = alloy::axis::search;
  static std::string name() { return "heapless_search"; }
};
alloy::allocator<heapless_search> heap;
