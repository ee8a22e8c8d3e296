// Prints the order in which a fresh heap hands out its first 32 blocks of 64 bytes (block
// indices from the lowest address): "plain" for the unhardened heap, "hardened" for the
// randomized one. test_hardening_layout runs it twice and compares.
#include <alloc/alloy.hpp>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <policy/hardening.hpp>
#include <vector>

namespace P = alloy::policy;

template <class Heap>
void print_order() {
  Heap heap;
  std::vector<void*> blocks;
  for (int i = 0; i < 32; ++i) blocks.push_back(heap.allocate(64));
  const auto lowest = reinterpret_cast<std::uintptr_t>(*std::min_element(blocks.begin(), blocks.end()));
  for (void* b : blocks) std::printf("%zu ", static_cast<std::size_t>((reinterpret_cast<std::uintptr_t>(b) - lowest) / 64));
  std::printf("\n");
}

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "plain") == 0) {
    print_order<alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>>>();
  } else if (argc == 2 && std::strcmp(argv[1], "hardened") == 0) {
    print_order<alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::hardened>>();
  } else {
    std::fprintf(stderr, "usage: hardening_layout plain|hardened\n");
    return 2;
  }
}
