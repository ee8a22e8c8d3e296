// The checking policy: every detection is triggered on purpose and its report checked, the
// heap keeps working and loses nothing after each, and it survives the model-based test.
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>
#include <boost/mp11/list.hpp>
#include <cstring>
#include <memory>

#include "../support/check_recorder.hpp"
#include "../support/model.hpp"

namespace P = alloy::policy;
using alloy::check;
using alloy::testing::check_recorder;

using checked_heap = alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>, P::checked, P::stats>;

namespace {

/// Frees `p` through the heap and checks the single report it must give.
void expect_one(check what, const void* p, std::size_t size) {
  const auto& reports = check_recorder::reports();
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].check == what);
  CHECK(reports[0].pointer == p);
  CHECK(reports[0].size == size);
  CHECK(reports[0].allocator == alloy::name_of<checked_heap>());
}

/// After a detection the heap still serves, frees and accounts exactly.
void still_works(checked_heap& heap) {
  void* p = heap.allocate(40);
  REQUIRE(p != nullptr);
  std::memset(p, 1, 40);
  heap.deallocate(p, 40);
  CHECK(heap.invariant());
}

}  // namespace

TEST_CASE("the checked allocator names itself", "[checks]") {
  CHECK(alloy::name_of<checked_heap>() == "segregated_fit + pow2_classes<8, 256> + single_thread + align<16> + stats + checked");
  STATIC_REQUIRE(alloy::checks_policy<P::checked>);
  STATIC_REQUIRE(alloy::checks_policy<P::checked::with<4>>);
  STATIC_REQUIRE(checked_heap::properties.max_class_size == 256 - 64);  // header and canaries take 64 bytes
}

TEST_CASE("correct use raises no report", "[checks]") {
  check_recorder recorder;
  auto heap = std::make_unique<checked_heap>();
  void* a = heap->allocate(24);
  void* b = heap->allocate(100, 64);
  void* c = heap->allocate(100000);
  REQUIRE((a && b && c));
  CHECK(heap->usable_size(a) == 24);  // the bytes beyond are canary
  CHECK(reinterpret_cast<std::uintptr_t>(b) % 64 == 0);
  std::memset(a, 7, 24);
  std::memset(b, 7, 100);
  std::memset(c, 7, 100000);
  void* a2 = heap->reallocate(a, 24, 20);   // in place
  void* b2 = heap->reallocate(b, 100, 300, 64);  // moves
  REQUIRE((a2 && b2));
  CHECK(static_cast<unsigned char*>(b2)[99] == 7);
  heap->deallocate(a2, 20);
  heap->deallocate(b2);
  heap->deallocate(c, 100000);
  for (int i = 0; i < 100; ++i) heap->deallocate(heap->allocate(static_cast<std::size_t>(i)));  // cycles the quarantine
  CHECK(heap->invariant());
  heap->release();
  CHECK(check_recorder::reports().empty());
}

TEST_CASE("each detection is reported and the heap goes on", "[checks]") {
  check_recorder recorder;
  auto heap = std::make_unique<checked_heap>();
  auto* p = static_cast<unsigned char*>(heap->allocate(32));
  REQUIRE(p != nullptr);

  SECTION("overflow past the end: canary_after") {
    p[32] = 0;
    heap->deallocate(p, 32);
    expect_one(check::canary_after, p, 32);
  }
  SECTION("underflow before the start: canary_before") {
    p[-1] = 0;
    heap->deallocate(p);
    expect_one(check::canary_before, p, 32);
  }
  SECTION("double free, sized and unsized") {
    heap->deallocate(p, 32);
    heap->deallocate(p);
    expect_one(check::double_free, p, 32);
    heap->deallocate(p, 32);
    CHECK(check_recorder::reports().size() == 2);
  }
  SECTION("a pointer the heap never handed out: foreign_pointer") {
    int on_stack = 0;
    checked_heap other;
    void* theirs = other.allocate(32);
    heap->deallocate(&on_stack);
    expect_one(check::foreign_pointer, &on_stack, 0);
    heap->deallocate(theirs, 32);  // another instance's block is foreign too
    CHECK(check_recorder::reports().size() == 2);
    CHECK(check_recorder::reports()[1].pointer == theirs);
    other.deallocate(theirs, 32);
    heap->deallocate(p, 32);
  }
  SECTION("a pointer inside a block: invalid_pointer") {
    heap->deallocate(p + 16);
    expect_one(check::invalid_pointer, p + 16, 0);
    heap->deallocate(p, 32);
  }
  SECTION("sized free with the wrong size: size_mismatch, and the block is still freed") {
    heap->deallocate(p, 48);
    expect_one(check::size_mismatch, p, 32);
    CHECK(heap->layers().live_blocks() == 0);  // in quarantine: stats, below the checks, count it live until reused
  }
  SECTION("a write after free: use_after_free when the block leaves quarantine") {
    heap->deallocate(p, 32);
    CHECK(check_recorder::reports().empty());
    alloy::detail::unpoison(p + 5, 1);  // under ASan the write itself would be reported: let it through
    p[5] = 42;
    for (std::size_t i = 0; i < checked_heap::composition::top::quarantine_blocks; ++i) heap->deallocate(heap->allocate(32));
    expect_one(check::use_after_free, p, 32);
  }
  SECTION("a block still live at release(): leak") {
    void* q = heap->allocate(77);
    heap->deallocate(p, 32);
    heap->release();
    expect_one(check::leak, q, 77);
    CHECK(heap->stats().reserved_bytes == 0);
  }
  check_recorder::reports().clear();
  still_works(*heap);
  heap->release();
  CHECK(check_recorder::reports().empty());
}

TEST_CASE("the quarantine gives memory back when the heap runs short", "[checks]") {
  check_recorder recorder;
  using small_arena = alloy::allocator<P::segregated_fit::with<4096>, P::pow2_classes<16, 256>, P::static_arena<65536>,
                                       P::checked::with<64>>;
  auto heap = std::make_unique<small_arena>();
  // Fill the arena, free everything, and fill it again: the second round needs the quarantined blocks.
  for (int round = 0; round < 2; ++round) {
    std::vector<void*> got;
    while (void* p = heap->allocate(100)) got.push_back(p);
    REQUIRE(got.size() > 100);
    for (void* p : got) heap->deallocate(p, 100);
  }
  CHECK(heap->invariant());
  CHECK(check_recorder::reports().empty());
}

using compositions = boost::mp11::mp_list<
    alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>, P::checked>,
    alloy::allocator<P::segregated_fit, P::geometric_classes<16, 4096, 4>, P::align<64>, P::checked::with<4>>,
    alloy::allocator<P::segregated_fit::with<4096>, P::pow2_classes<8, 512>, P::static_arena<1 << 20>, P::checked>>;

TEMPLATE_LIST_TEST_CASE("checked heaps survive random operations against a model", "[checks][model]", compositions) {
  check_recorder recorder;
  auto heap = std::make_unique<TestType>();
  alloy::testing::model_options o;
  o.operations = 5000;
  o.max_large = 60000;
  alloy::testing::run_model(*heap, o);
  heap->release();
  CHECK(check_recorder::reports().empty());
}
