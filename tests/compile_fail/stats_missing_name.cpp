// expect: lacks `static std::string name\(\)`
// A custom stats layer that forgot name(): the message names the member, nothing follows.
#include <alloc/alloy.hpp>
struct nameless_stats {
  using axis = alloy::axis::stats;
  template <class Inner>
  using layer = Inner;
};
alloy::allocator<nameless_stats> heap;
