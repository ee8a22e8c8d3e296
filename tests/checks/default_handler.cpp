// The default check handler: prints what happened and aborts. CTest runs this program and
// expects its message (a test of output, since Catch2 cannot survive an abort).
#include <alloc/alloy.hpp>

namespace P = alloy::policy;

int main() {
  alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>, P::checked> heap;
  void* p = heap.allocate(24);
  heap.deallocate(p, 24);
  heap.deallocate(p, 24);  // double free: the handler aborts here
  return 0;                // not reached; reaching it fails the test (no message)
}
