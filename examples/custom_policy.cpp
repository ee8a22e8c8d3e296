// The worked example of docs/writing-a-policy.md: a policy written from scratch
// (custom_policy/fibonacci_classes.hpp), composed like any shipped one, and used.
#include <alloc/alloy.hpp>
#include <cstdio>

#include "custom_policy/fibonacci_classes.hpp"

namespace P = alloy::policy;

using fibonacci_heap = alloy::allocator<P::segregated_fit, example::fibonacci_classes<16, 4096>, P::stats>;

int main() {
  fibonacci_heap heap;
  void* blocks[6];
  const std::size_t sizes[6] = {10, 40, 70, 100, 200, 3000};
  for (int i = 0; i < 6; ++i) blocks[i] = heap.allocate(sizes[i]);
  for (int i = 0; i < 6; ++i) {
    std::printf("%5zu B -> %5zu B block\n", sizes[i], heap.usable_size(blocks[i]));
    heap.deallocate(blocks[i], sizes[i]);
  }
  const auto s = heap.stats();
  std::printf("%s: %zu classes, internal waste %.1f%%, live bytes after freeing all: %zu\n",
              alloy::name_of<fibonacci_heap>().c_str(), example::fibonacci_classes<16, 4096>::count,
              100 * s.internal_fragmentation(), s.live_bytes);
  return s.live_bytes == 0 ? 0 : 1;
}
