// A use-after-free in user code, which ASan must report through Alloy as it would through
// malloc (CTest expects ASan's report; built only with ALLOY_SANITIZE=address...).
#include <alloc/alloy.hpp>
#include <cstdio>

namespace P = alloy::policy;

int main() {
  alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>> heap;
  auto* p = static_cast<volatile unsigned char*>(heap.allocate(64));
  p[20] = 1;
  heap.deallocate(const_cast<unsigned char*>(p), 64);
  std::printf("read after free: %d\n", p[20]);  // ASan stops the program here
  return 0;
}
