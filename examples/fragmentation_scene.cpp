// The seed's scene, reproduced for every search policy: memory is free, yet a 12 KiB request
// fails, because no single free piece is 12 KiB. Then the rest is freed, and a heap that
// merges free neighbours serves the request; one that does not, cannot.
//
// Each heap lives in a 64 KiB static arena (no system call, deterministic), is filled with
// blocks of about 4 KiB, and every other block is freed. docs/fragmentation.md quotes the output.
#include <alloc/alloy.hpp>
#include <boost/mp11/algorithm.hpp>
#include <cstdio>
#include <vector>

namespace P = alloy::policy;

using search_policies = boost::mp11::mp_list<P::first_fit, P::best_fit, P::next_fit, P::buddy::with<64, 16384>, P::tlsf,
                                             P::segregated_fit>;

template <class Search>
void scene() {
  // Size classes matter only to segregated_fit: up to 4 KiB, so its chunks fit the arena.
  using heap_type = alloy::allocator<Search, P::geometric_classes<16, 4096, 4>, P::static_arena<65536>, P::stats>;
  auto heap = std::make_unique<heap_type>();
  constexpr std::size_t block = 4000, request = 12 * 1024;

  std::vector<void*> blocks;
  while (void* p = heap->allocate(block)) blocks.push_back(p);
  for (std::size_t i = 0; i < blocks.size(); i += 2) heap->deallocate(blocks[i], block);
  const auto half = heap->stats();
  void* refused = heap->allocate(request);
  const bool heap_works = refused == nullptr && heap->invariant();
  if (refused != nullptr) heap->deallocate(refused);

  for (std::size_t i = 1; i < blocks.size(); i += 2) heap->deallocate(blocks[i], block);
  const auto all = heap->stats();
  void* served = heap->allocate(request);
  std::printf("| `%s` | %zu | %zu B | %zu B | %.2f | %s | %zu B | %zu B | %s |\n", Search::name().c_str(),
              blocks.size(), half.free_bytes, half.largest_free_block, half.external_fragmentation(),
              refused == nullptr ? (heap_works ? "refused, heap intact" : "refused, heap BROKEN") : "served",
              all.free_bytes, all.largest_free_block, served != nullptr ? "served" : "refused");
  if (served != nullptr) heap->deallocate(served);
}

int main() {
  std::printf("| search | 4000 B blocks placed | free bytes | largest free block | external fragmentation | "
              "12 KiB request | free bytes after freeing all | largest free block | 12 KiB request |\n"
              "|---|---|---|---|---|---|---|---|---|\n");
  boost::mp11::mp_for_each<search_policies>([]<class S>(S) { scene<S>(); });
}
