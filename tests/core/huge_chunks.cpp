// Large and huge blocks without page faults (segregated_heap's large parts, chunk_store): a huge
// block's chunk freed under reclaim is kept for the delay and serves the next huge request with
// no system call (grown by the kernel when smaller), goes back after the delay or on trim();
// large chunks ask the kernel for transparent huge pages, class chunks do not; a large block
// alone in its chunk grows with the chunk, its pages moved by the kernel rather than copied; and
// system_pages maps most aligned chunks in one call, right below the last.
#include <catch2/catch.hpp>
#include <sys/mman.h>
#include <sys/resource.h>

#include <alloc/alloy.hpp>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <filesystem>

namespace P = alloy::policy;

namespace {

constexpr std::size_t mib = std::size_t{1} << 20;

/// The malloc library's large-block design (tools/malloc/default_heap.hpp): a tlsf heap beside
/// the classes, blocks above 32 MiB in chunks of their own.
template <std::uint32_t DelayMs>
using huge_heap = alloy::allocator<P::segregated_fit::with<0, P::tlsf>, P::geometric_classes<16, (1 << 17), 4>,
                                   P::system_pages, P::reclaim::with<DelayMs>, P::stats>;

/// The VmFlags line of the mapping that holds `p` (/proc/self/smaps), empty if none does.
std::string vm_flags_of(const void* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream header(line);
    if (header >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = a >= begin && a < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line + ' ';
    }
  }
  return {};
}
/// Minor page faults of this process so far: a page touched for the first time costs one.
long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}
/// Page faults count the program's own pages only without a sanitizer's shadow memory.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr bool faults_are_the_heaps = false;
#elif defined(__has_feature)
constexpr bool faults_are_the_heaps = !__has_feature(thread_sanitizer) && !__has_feature(address_sanitizer);
#else
constexpr bool faults_are_the_heaps = true;
#endif

bool has_flag(const std::string& flags, const char* flag) { return flags.find(std::string(" ") + flag + " ") != std::string::npos; }

/// The kernel's pages without the huge-page capability: how a composition opts out.
struct small_pages : P::system_pages {
  static constexpr bool huge_pages = false;
  static std::string name() { return "small_pages"; }
};

}  // namespace

TEST_CASE("own chunks: a huge block freed and allocated again reuses its chunk", "[huge]") {
  huge_heap<60000> heap;  // a delay no test run reaches
  void* p = heap.allocate(40 * mib);
  REQUIRE(p != nullptr);
  std::memset(p, 1, 40 * mib);
  const auto live = heap.stats();
  heap.deallocate(p);
  const auto freed = heap.stats();
  CHECK(freed.reserved_bytes == live.reserved_bytes);  // kept, not unmapped
  CHECK(freed.free_bytes >= 40 * mib);
  CHECK(freed.pending_reclaim_bytes >= 40 * mib);  // and counted as waiting to go back
  CHECK(heap.invariant());
  if (alloy::detail::poisoning_observable()) CHECK(alloy::detail::is_poisoned(p, 1));  // a use after free is caught

  void* q = heap.allocate(40 * mib);
  CHECK(q == p);  // the same mapping: no mmap, and its pages are still faulted in
  CHECK_FALSE(alloy::detail::is_poisoned(q, 40 * mib));  // the user's again, every byte
  heap.deallocate(q);
  q = heap.allocate(36 * mib);  // smaller, but the chunk is not mostly waste: as it is
  CHECK(q == p);
  CHECK(heap.stats().reserved_bytes == live.reserved_bytes);

  // Larger than the kept chunk: the kernel grows it (mremap), and no second chunk is kept.
  heap.deallocate(q);
  void* r = heap.allocate(64 * mib);
  REQUIRE(r != nullptr);
  std::memset(r, 2, 64 * mib);
  CHECK(heap.stats().reserved_bytes < live.reserved_bytes + 40 * mib);
  heap.deallocate(r);
  CHECK(heap.invariant());
}

TEST_CASE("own chunks: at most four are kept, trim() gives them back at once", "[huge]") {
  huge_heap<60000> heap;
  const auto empty = heap.stats();
  std::vector<void*> blocks;
  for (int i = 0; i < 5; ++i) blocks.push_back(heap.allocate(40 * mib));
  for (void* b : blocks) REQUIRE(b != nullptr);
  for (void* b : blocks) heap.deallocate(b);
  const auto kept = heap.stats();
  CHECK(kept.reserved_bytes >= empty.reserved_bytes + 4 * 40 * mib);
  CHECK(kept.reserved_bytes < empty.reserved_bytes + 5 * 40 * mib);  // the fifth went back
  CHECK(heap.trim() >= 4);
  const auto trimmed = heap.stats();
  CHECK(trimmed.reserved_bytes < empty.reserved_bytes + 40 * mib);
  CHECK(trimmed.pending_reclaim_bytes < 40 * mib);
  CHECK(trimmed.reclaims >= kept.reclaims + 4);
  CHECK(heap.invariant());
}

TEST_CASE("own chunks: a kept chunk goes back once the delay has passed", "[huge]") {
  huge_heap<1> heap;
  void* p = heap.allocate(40 * mib);
  REQUIRE(p != nullptr);
  const auto live = heap.stats();
  heap.deallocate(p);
  CHECK(heap.stats().reserved_bytes == live.reserved_bytes);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // Progress comes on later slow paths: large blocks (the large heap's) allocated and freed,
  // enough for the reclaim clock to be read (one slow path in eight).
  for (int i = 0; i < 32 && heap.stats().reserved_bytes >= live.reserved_bytes; ++i) heap.deallocate(heap.allocate(256 << 10));
  CHECK(heap.stats().reserved_bytes < live.reserved_bytes - 32 * mib);
  CHECK(heap.invariant());
}

TEST_CASE("own chunks: without reclaim a huge block's chunk goes back on free", "[huge]") {
  using plain = alloy::allocator<P::segregated_fit::with<0, P::tlsf>, P::geometric_classes<16, (1 << 17), 4>,
                                 P::system_pages, P::stats>;
  plain heap;
  void* p = heap.allocate(40 * mib);
  REQUIRE(p != nullptr);
  const auto live = heap.stats();
  heap.deallocate(p);
  CHECK(heap.stats().reserved_bytes < live.reserved_bytes - 32 * mib);
}

namespace {
/// A pattern that tells every page of a block apart: what a copy or a move must keep.
unsigned char pattern(std::size_t i) { return static_cast<unsigned char>(i / 4096 * 7 + i % 251); }
void fill_pattern(void* p, std::size_t n) {
  auto* b = static_cast<unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) b[i] = pattern(i);
}
bool pattern_intact(const void* p, std::size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; i += 4093)  // every page, at shifting offsets
    if (b[i] != pattern(i)) return false;
  return b[n - 1] == pattern(n - 1);
}
}  // namespace

TEST_CASE("own chunks: without a large heap every large block's chunk is kept and reused", "[huge]") {
  // Every block above the classes is a chunk of its own (the hardened library's design).
  using classes_only = alloy::allocator<P::segregated_fit, P::geometric_classes<16, (1 << 17), 4>, P::system_pages,
                                        P::reclaim::with<60000>, P::stats>;
  classes_only heap;
  void* p = heap.allocate(600 << 10);
  REQUIRE(p != nullptr);
  std::memset(p, 1, 600 << 10);
  const auto live = heap.stats();
  heap.deallocate(p);
  CHECK(heap.stats().reserved_bytes == live.reserved_bytes);  // kept
  CHECK(heap.stats().pending_reclaim_bytes >= 600 << 10);
  heap.deallocate(p);  // a second free of a kept chunk's block: ignored, never kept twice
  void* q = heap.allocate(500 << 10);
  void* r = heap.allocate(500 << 10);
  CHECK(q == p);  // the kept chunk, its pages faulted in already
  CHECK(r != q);  // not the same chunk again: the double free did not keep it twice
  CHECK(heap.invariant());
  heap.deallocate(q);
  heap.deallocate(r);
  CHECK(heap.trim() >= 2);
  CHECK(heap.stats().reserved_bytes < live.reserved_bytes);
}

TEST_CASE("own chunks: behind guard pages a block grows by moving its pages and keeps its guard", "[huge][hardening]") {
  using guarded = alloy::allocator<P::segregated_fit, P::geometric_classes<16, (1 << 17), 4>, P::system_pages,
                                   P::hardened, P::reclaim::with<60000>>;
  STATIC_REQUIRE(alloy::source_remaps_pages<alloy::detail::guarded_source<P::system_pages>>);
  guarded heap;
  const auto guard_right_behind = [&](void* b) {
    const std::string flags = vm_flags_of(static_cast<std::byte*>(b) + heap.usable_size(b));
    INFO("the page after the block: " << flags);
    return !flags.empty() && !has_flag(flags, "rd") && !has_flag(flags, "wr");
  };
  std::size_t size = 200 << 10;
  void* p = heap.allocate(size);
  REQUIRE(p != nullptr);
  fill_pattern(p, size);
  CHECK(guard_right_behind(p));
  const long faults_before = minor_faults();
  for (std::size_t grown : {std::size_t{900} << 10, std::size_t{3} << 20, std::size_t{5} << 20}) {
    void* q = heap.reallocate(p, size, grown);
    REQUIRE(q != nullptr);
    CHECK(pattern_intact(q, size));  // moved by the kernel, or copied: the bytes are the block's
    CHECK(guard_right_behind(q));
    p = q;
    size = grown;
    fill_pattern(p, size);
  }
  if (faults_are_the_heaps) {
    // 5 MiB written in all: moved pages are not faulted again (a copy each time would fault
    // about 2,200 pages more).
    CHECK(minor_faults() - faults_before < 1500);
  }
  void* s = heap.reallocate(p, size, 1 << 20);  // shrinks where it lies: the guard moves in
  CHECK(s == p);
  CHECK(pattern_intact(s, 1 << 20));
  CHECK(heap.usable_size(s) < (1 << 20) + 4096);
  CHECK(guard_right_behind(s));
  heap.deallocate(s);
  void* t = heap.allocate(700 << 10);  // the kept chunk again, cut to the new block's very pages
  REQUIRE(t != nullptr);
  CHECK(t == s);
  CHECK(heap.usable_size(t) < (700 << 10) + 4096);  // unguarded, a chunk not mostly waste stays whole
  CHECK(guard_right_behind(t));
  heap.deallocate(t);
  CHECK(heap.invariant());
}

TEST_CASE("huge pages: a huge block's own chunk asks for them, shared chunks do not", "[huge]") {
  if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
    WARN("this kernel has no transparent huge pages: nothing to check");
    return;
  }
  huge_heap<60000> heap;
  void* small = heap.allocate(64);
  void* large = heap.allocate(4 * mib);  // the tlsf heap's: a chunk of 4 MiB or more
  void* huge = heap.allocate(40 * mib);  // a chunk of its own
  REQUIRE((small != nullptr && large != nullptr && huge != nullptr));
  const std::string small_flags = vm_flags_of(small), large_flags = vm_flags_of(large), huge_flags = vm_flags_of(huge);
  INFO("class chunk: " << small_flags << "\nlarge heap chunk: " << large_flags << "\nown chunk: " << huge_flags);
  REQUIRE(!small_flags.empty());
  CHECK(!has_flag(small_flags, "hg"));  // carved a page at a time: a huge page would be resident whole
  CHECK(!has_flag(large_flags, "hg"));  // many blocks, some long free: a huge page would be resident whole
  CHECK(has_flag(huge_flags, "hg"));
  heap.deallocate(small);
  heap.deallocate(large);
  heap.deallocate(huge);
}

TEST_CASE("huge pages: a source without the capability is never advised", "[huge]") {
  STATIC_REQUIRE(alloy::source_huge_pages<P::system_pages>);
  STATIC_REQUIRE_FALSE(alloy::source_huge_pages<small_pages>);
  STATIC_REQUIRE_FALSE(alloy::source_huge_pages<P::static_arena<65536>>);
  using plain = alloy::allocator<P::segregated_fit::with<0, P::tlsf>, P::geometric_classes<16, (1 << 17), 4>,
                                 small_pages, P::reclaim::with<60000>>;
  plain heap;
  void* large = heap.allocate(4 * mib);
  void* huge = heap.allocate(40 * mib);
  REQUIRE((large != nullptr && huge != nullptr));
  const std::string large_flags = vm_flags_of(large), huge_flags = vm_flags_of(huge);
  REQUIRE(!large_flags.empty());
  CHECK(!has_flag(large_flags, "hg"));
  CHECK(!has_flag(huge_flags, "hg"));
  heap.deallocate(large);
  heap.deallocate(huge);
}

TEST_CASE("huge pages: guard pages keep them for huge blocks, and only for huge blocks", "[huge][hardening]") {
  if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
    WARN("this kernel has no transparent huge pages: nothing to check");
    return;
  }
  // The hardened library's design: every block above the classes is a guarded chunk of its own.
  using guarded = alloy::allocator<P::segregated_fit, P::geometric_classes<16, (1 << 17), 4>, P::system_pages,
                                   P::hardened, P::reclaim::with<60000>>;
  guarded heap;
  void* large = heap.allocate(4 * mib);  // a chunk of its own, often written in part
  void* huge = heap.allocate(40 * mib);
  REQUIRE((large != nullptr && huge != nullptr));
  const std::string large_flags = vm_flags_of(large), huge_flags = vm_flags_of(huge);
  const std::string guard_flags = vm_flags_of(static_cast<std::byte*>(huge) + heap.usable_size(huge));
  INFO("4 MiB chunk: " << large_flags << "\n40 MiB chunk: " << huge_flags << "\nits guard: " << guard_flags);
  REQUIRE(!large_flags.empty());
  CHECK(!has_flag(large_flags, "hg"));
  CHECK(has_flag(huge_flags, "hg"));
  CHECK(!guard_flags.empty());
  CHECK(!has_flag(guard_flags, "rd"));  // the guard stays inaccessible
  std::memset(huge, 0x5A, heap.usable_size(huge));  // all of it writable, up to the guard
  heap.deallocate(large);
  heap.deallocate(huge);
}


TEST_CASE("large heap: a block alone in its chunk grows with the chunk, its pages not copied", "[huge][regrow]") {
  using large = alloy::allocator<P::tlsf, small_pages, P::stats>;  // small pages: a fault is a 4 KiB page
  large heap;
  void* p = heap.allocate(2 * mib);  // a chunk of its own size: the first chunk of an empty heap
  REQUIRE(p != nullptr);
  fill_pattern(p, 2 * mib);
  const auto before = heap.stats();
  const long faults = minor_faults();
  void* q = heap.reallocate(p, 2 * mib, 6 * mib);
  REQUIRE(q != nullptr);
  CHECK(pattern_intact(q, 2 * mib));
  // A copy into a new chunk would fault the 512 pages the 2 MiB land on; the kernel moves the
  // page-table entries instead (or grows the mapping where it lies).
  if (faults_are_the_heaps) CHECK(minor_faults() - faults < 64);
  CHECK(heap.usable_size(q) >= 6 * mib);
  // One chunk, grown: the old one is not kept beside a new one.
  CHECK(heap.stats().reserved_bytes < before.reserved_bytes + 4 * mib + 64 * 1024);
  std::memset(q, 3, 6 * mib);  // every grown byte is the user's
  CHECK(heap.invariant());

  // Shrunk, it splits the rest off as a free block of the grown (maybe moved) chunk, which
  // serves the next request: the index and the tags followed the chunk.
  void* r = heap.reallocate(q, 6 * mib, 1 * mib);
  REQUIRE(r == q);
  void* s = heap.allocate(3 * mib);
  REQUIRE(s != nullptr);
  CHECK(heap.stats().reserved_bytes < before.reserved_bytes + 4 * mib + 64 * 1024);
  CHECK(heap.invariant());
  heap.deallocate(s);
  heap.deallocate(r);
  CHECK(heap.invariant());
}

TEST_CASE("large heap: a block alone in its chunk is copied into a free block that fits, not grown", "[huge][regrow]") {
  using large = alloy::allocator<P::tlsf, small_pages, P::stats>;
  large heap;
  void* p = heap.allocate(2 * mib);
  void* room = heap.allocate(8 * mib);  // a second chunk, which becomes wholly free and is kept
  REQUIRE((p != nullptr && room != nullptr));
  fill_pattern(p, 2 * mib);
  heap.deallocate(room);
  const auto before = heap.stats();
  void* q = heap.reallocate(p, 2 * mib, 4 * mib);
  REQUIRE(q != nullptr);
  CHECK(q == room);  // its pages are resident already: copying there faults none
  CHECK(pattern_intact(q, 2 * mib));
  CHECK(heap.stats().reserved_bytes <= before.reserved_bytes);
  CHECK(heap.invariant());
  heap.deallocate(q);
}

TEST_CASE("large heap: a block alone in its chunk but a small part of the heap is copied, not grown", "[huge][regrow]") {
  using large = alloy::allocator<P::tlsf, small_pages, P::stats>;
  large heap;
  void* bulk = heap.allocate(16 * mib);  // most of the heap: its other blocks would reuse a copy's old chunk
  void* p = heap.allocate(2 * mib);      // a chunk of a quarter of the heap, p at its start
  REQUIRE((bulk != nullptr && p != nullptr));
  fill_pattern(p, 2 * mib);
  const auto before = heap.stats();
  void* q = heap.reallocate(p, 2 * mib, (4 * mib) + (mib / 2));  // more than p's chunk, under a quarter of the heap
  REQUIRE(q != nullptr);
  CHECK(pattern_intact(q, 2 * mib));
  CHECK(heap.stats().reserved_bytes >= before.reserved_bytes + 4 * mib);  // a new chunk; p's kept for the others
  CHECK(heap.invariant());
  heap.deallocate(q);
  heap.deallocate(bulk);
}

TEST_CASE("large heap: a grown chunk's links stay valid under encoded links", "[huge][regrow]") {
  using large = alloy::allocator<P::tlsf, P::system_pages, P::hardened::with<P::encoded_links>, P::reclaim::with<60000>>;
  large heap;
  std::vector<void*> blocks;
  void* p = heap.allocate(1 * mib);
  REQUIRE(p != nullptr);
  fill_pattern(p, 1 * mib);
  for (std::size_t size = 1 * mib; size < 24 * mib; size += size / 4) {  // huge-realloc's ladder
    p = heap.reallocate(p, size, size + size / 4);
    REQUIRE(p != nullptr);
    REQUIRE(pattern_intact(p, 1 * mib));
  }
  p = heap.reallocate(p, 24 * mib, 64 * 1024);  // the rest: free blocks linked inside the grown chunk
  REQUIRE(p != nullptr);
  for (int i = 0; i < 64; ++i) blocks.push_back(heap.allocate(96 * 1024));  // taken from them, links decoded
  for (void* b : blocks) REQUIRE(b != nullptr);
  CHECK(heap.invariant());
  for (void* b : blocks) heap.deallocate(b);
  heap.deallocate(p);
  CHECK(heap.invariant());
}

TEST_CASE("system_pages: aligned chunks where the kernel places them, any taken space stepped over, space reused", "[source]") {
  P::system_pages source;
  constexpr std::size_t count = 16;
  std::vector<std::byte*> chunks;
  std::size_t placed = 0;  // chunks where the kernel put a mapping of their size: the one-call path
  for (std::size_t i = 0; i < count; ++i) {
    // Where the kernel would place a mapping of the chunk's size now (nothing maps in between).
    void* probe = ::mmap(nullptr, mib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(probe != MAP_FAILED);
    ::munmap(probe, mib);
    auto* c = static_cast<std::byte*>(source.allocate_chunk(mib, mib));
    REQUIRE(c != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(c) % mib == 0);
    if (reinterpret_cast<std::uintptr_t>(probe) % mib == 0) {
      CHECK(c == probe);  // aligned there: taken there, in one call
      ++placed;
    }
    std::memset(c, int(i), mib);  // writable, whole
    chunks.push_back(c);
  }
  // Disjoint, contents intact; and the kernel's placement was aligned for most chunks, each
  // the size of its alignment (holes other mappings left may not be).
  for (std::size_t i = 0; i < count; ++i) {
    CHECK(chunks[i][0] == std::byte(i));
    CHECK(chunks[i][mib - 1] == std::byte(i));
  }
  CHECK(placed >= count / 2);
  // The space below the last chunk taken by a mapping not ours: the next chunk goes elsewhere,
  // aligned, and that mapping is untouched.
  void* squatter = ::mmap(chunks.back() - 4096, 4096, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  REQUIRE(squatter == chunks.back() - 4096);
  std::memset(squatter, 0x5a, 4096);
  auto* next = static_cast<std::byte*>(source.allocate_chunk(mib, mib));
  REQUIRE(next != nullptr);
  CHECK(reinterpret_cast<std::uintptr_t>(next) % mib == 0);
  CHECK((next + mib <= static_cast<std::byte*>(squatter) || next >= static_cast<std::byte*>(squatter) + 4096));
  std::memset(next, 1, mib);
  CHECK(static_cast<unsigned char*>(squatter)[4095] == 0x5a);
  source.deallocate_chunk(next, mib);
  ::munmap(squatter, 4096);
  for (std::byte* c : chunks) source.deallocate_chunk(c, mib);
  // Chunks given back leave their space to the next ones: a heap made and dropped again and
  // again does not walk down the address space (each step fresh page tables, under ASan fresh
  // shadow memory never given back).
  auto* again = static_cast<std::byte*>(source.allocate_chunk(mib, mib));
  REQUIRE(again != nullptr);
  CHECK(again >= chunks.back());
  source.deallocate_chunk(again, mib);
}

#if ALLOY_ASAN
namespace {
/// system_pages that remembers every range it maps: once the heap has given them all back, no
/// memory checker's mark may be left on any of them.
struct recorded_pages : P::system_pages {
  static inline std::vector<std::pair<std::byte*, std::size_t>> mapped;
  void* allocate_chunk(std::size_t bytes, std::size_t alignment) noexcept {
    void* p = P::system_pages::allocate_chunk(bytes, alignment);
    if (p != nullptr) mapped.emplace_back(static_cast<std::byte*>(p), bytes);
    return p;
  }
  static std::string name() { return "recorded_pages"; }
};
}  // namespace

// ASan keeps its marks per address, and the kernel hands a freed range out again first: poison
// left on a range given back is found by its next owner's first write (a false report, in
// whatever program maps there next). Every kind of chunk: class chunks, the large heap's, huge
// blocks' own chunks kept and reused at another alignment, grown, shrunk and moved.
TEST_CASE("ASan: address space given back carries no poison", "[huge][sanitizer]") {
  using alloy::detail::is_poisoned;
  recorded_pages::mapped.clear();
  {
    alloy::allocator<P::segregated_fit::with<0, P::tlsf>, P::geometric_classes<16, (1 << 17), 4>, recorded_pages,
                     P::reclaim::with<60000>>
        heap;
    std::vector<void*> small;
    for (int i = 0; i < 200; ++i) small.push_back(heap.allocate(16 + 48 * std::size_t(i)));
    for (void* p : small) heap.deallocate(p);
    void* large = heap.allocate(4 * mib);
    void* huge = heap.allocate(40 * mib);
    REQUIRE((large != nullptr && huge != nullptr));
    heap.deallocate(huge);                        // kept (the delay is long) ...
    huge = heap.allocate(38 * mib, 4 * mib);      // ... and reused, its payload elsewhere
    REQUIRE(huge != nullptr);
    huge = heap.reallocate(huge, 38 * mib, 60 * mib, 4 * mib);  // grown: in place or moved
    REQUIRE(huge != nullptr);
    huge = heap.reallocate(huge, 60 * mib, 20 * mib, 4 * mib);  // shrunk
    REQUIRE(huge != nullptr);
    heap.deallocate(huge);
    heap.deallocate(large);
  }
  REQUIRE(!recorded_pages::mapped.empty());
  for (const auto& [p, bytes] : recorded_pages::mapped) {
    INFO("a range of " << bytes << " bytes at " << static_cast<void*>(p));
    CHECK_FALSE(is_poisoned(p, bytes));
  }
}
#endif

// allocate_zeroed (calloc's): a large block fresh from the source is not written, every other
// block is cleared, whatever the composition.
namespace {

/// Pages of [p, p + bytes) resident now (mincore): a page never written is not.
std::size_t resident_pages(const void* p, std::size_t bytes) {
  const std::size_t page = 4096;
  const auto first = reinterpret_cast<std::uintptr_t>(p) / page * page;
  const std::size_t count = (reinterpret_cast<std::uintptr_t>(p) + bytes - first + page - 1) / page;
  std::vector<unsigned char> in(count);
  REQUIRE(::mincore(reinterpret_cast<void*>(first), count * page, in.data()) == 0);
  std::size_t n = 0;
  for (unsigned char c : in) n += c & 1u;
  return n;
}

bool all_zero(const unsigned char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] != 0) return false;
  return true;
}

using malloc_design = alloy::allocator<P::segregated_fit::with<mib, P::tlsf>, P::geometric_classes<16, 4096, 4>,
                                       P::system_pages, P::align<16>, P::thread_local_cache, P::reclaim::with<100>>;
using own_chunks = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 8192>, P::locked<alloy::spin_mutex>>;
using tlsf_pages = alloy::allocator<P::tlsf, P::system_pages>;
using tlsf_arena = alloy::allocator<P::tlsf, P::static_arena<(8 << 20)>>;  // its chunks are not fresh zeros
using checked_pages = alloy::allocator<P::segregated_fit::with<0, P::tlsf>, P::checked>;  // writes canaries
using hardened_pages = alloy::allocator<P::segregated_fit::with<0, P::tlsf>, P::thread_local_cache,
                                        P::hardened::with<P::encoded_links, P::guard_pages, P::double_free_check>>;
using buddy_pages = alloy::allocator<P::buddy, P::locked<>>;
using per_cpu_pages = alloy::allocator<P::segregated_fit::with<mib, P::tlsf>, P::per_cpu_cache>;

}  // namespace

TEMPLATE_TEST_CASE("allocate_zeroed: every block reads zero, reused ones included", "[huge][zeroed]", malloc_design,
                   own_chunks, tlsf_pages, tlsf_arena, checked_pages, hardened_pages, buddy_pages, per_cpu_pages) {
  static TestType heap;  // static: the arena source is 8 MiB inside the object
  std::vector<std::pair<unsigned char*, std::size_t>> live;
  std::uint64_t x = 12345;
  for (int i = 0; i < 400; ++i) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    // Mostly small and medium, one in eight up to 3 MiB, and size 0.
    const std::size_t n = (x >> 61) == 0 ? (x >> 20) % (3 * mib) : (x >> 40) % 9000;
    auto* p = static_cast<unsigned char*>(heap.allocate_zeroed(n));
    if (p == nullptr) {
      REQUIRE(std::is_same_v<TestType, tlsf_arena>);  // only the arena runs out
    } else {
      REQUIRE(all_zero(p, n));
      std::memset(p, 0xa5, n);  // dirty, so that a block reused uncleared would show
      live.emplace_back(p, n);
    }
    if (live.size() > 12 || (x & 1u)) {
      const std::size_t k = (x >> 8) % live.size();
      heap.deallocate(live[k].first);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }
  for (auto& [p, n] : live) heap.deallocate(p);
}

TEST_CASE("allocate_zeroed: a block fresh from the kernel is not written", "[huge][zeroed]") {
  static malloc_design heap;  // the process malloc's design: a tlsf heap beside the classes
  // 24 MiB: more than any free block (a fresh chunk for the large heap); 48 MiB: a chunk of its own.
  for (std::size_t n : {24 * mib, 48 * mib}) {
    auto* p = static_cast<unsigned char*>(heap.allocate_zeroed(n));
    REQUIRE(p != nullptr);
    if constexpr (faults_are_the_heaps) CHECK(resident_pages(p, n) <= 2);  // its first page, at most the next
    REQUIRE(all_zero(p, n));
    std::memset(p, 0x5a, n);
    heap.deallocate(p);
    auto* q = static_cast<unsigned char*>(heap.allocate_zeroed(n));  // reused (or kept): cleared
    REQUIRE(q != nullptr);
    REQUIRE(all_zero(q, n));
    heap.deallocate(q);
  }
}

TEST_CASE("allocate_zeroed: the layers that can tell a fresh block say so, the others are cleared", "[zeroed]") {
  // Thread cache (or per-CPU cache) -> lock -> segregated fit -> its tlsf heap; a heap as the top layer.
  STATIC_REQUIRE(alloy::layer_knows_zeroed<malloc_design::composition::top>);
  STATIC_REQUIRE(alloy::layer_knows_zeroed<tlsf_pages::composition::top>);
  STATIC_REQUIRE(alloy::layer_knows_zeroed<hardened_pages::composition::top>);
  STATIC_REQUIRE(alloy::layer_knows_zeroed<per_cpu_pages::composition::top>);
  // A wrapping layer inherits the heap's member but never declares it: its blocks are cleared
  // by the facade, so the canaries and counts stay its own. A heap that never tells: the same.
  STATIC_REQUIRE_FALSE(alloy::layer_knows_zeroed<checked_pages::composition::top>);
  STATIC_REQUIRE_FALSE(alloy::layer_knows_zeroed<buddy_pages::composition::top>);
}
