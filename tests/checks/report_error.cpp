// The one error reporter (policy/detail/report_error.hpp), shared by checks and hardening:
// it formats into a fixed buffer and writes with write(2), so reporting allocates nothing —
// a report is found inside a heap, under its lock, or in a heap already corrupted — and works
// in a signal handler. This program replaces the global operator new to count (and, in a
// child, forbid) allocations around each report.
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <new>
#include <policy/hardening.hpp>
#include <string>

#include "../hardening/child_process.hpp"

namespace {
std::atomic<std::size_t> allocations{0};
std::atomic<bool> forbid_allocation{false};
}  // namespace

namespace {
void* counted_malloc(std::size_t n) noexcept {
  if (forbid_allocation.load()) {
    static const char message[] = "operator new called while reporting\n";
    if (::write(2, message, sizeof message - 1) < 0) std::_Exit(3);
    std::_Exit(3);
  }
  allocations.fetch_add(1);
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace

// Every form whose memory the replaced deletes below free (a sanitizer's own new paired with
// free() would be reported as a mismatch).
void* operator new(std::size_t n) {
  if (void* p = counted_malloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace P = alloy::policy;
using alloy::check;
using alloy::detail::error_message;

namespace {

using checked_heap = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::checked>;

// A handler that allocates nothing either: the last report, in static storage.
struct last_report {
  check what;
  const void* pointer;
  std::size_t size;
  char allocator[256];
  std::size_t allocator_size;
  int count;
};
last_report seen;

void remember(const alloy::check_report& r) noexcept {
  seen.what = r.check;
  seen.pointer = r.pointer;
  seen.size = r.size;
  seen.allocator_size = r.allocator.copy(seen.allocator, sizeof seen.allocator);
  ++seen.count;
}

}  // namespace

TEST_CASE("error_message formats text, decimals, hex and pointers in place", "[checks][report]") {
  error_message m;
  m.text("alloy: ").dec(0).text(" ").dec(18446744073709551615u).text(" ").hex(0).text(" ").hex(0xdeadbeef);
  m.text(" ").pointer(reinterpret_cast<const void*>(std::uintptr_t{0x7f00aa})).text("\n");
  CHECK(std::string(m.view()) == "alloy: 0 18446744073709551615 0x0 0xdeadbeef 0x7f00aa\n");
}

TEST_CASE("a message longer than the buffer is cut and still ends its line", "[checks][report]") {
  error_message m;
  for (std::size_t i = 0; i < error_message::capacity; ++i) m.text("x");
  m.text("tail that does not fit\n");
  const std::string text(m.view());
  CHECK(text.size() == error_message::capacity);
  CHECK(text.back() == '\n');
  CHECK(text.find("tail") == std::string::npos);
}

TEST_CASE("a check report reaches the handler without allocating", "[checks][report]") {
  checked_heap storage;  // on the stack: a heap object from operator new would count too
  checked_heap* heap = &storage;
  const alloy::check_handler previous = alloy::set_check_handler(&remember);
  seen = {};
  void* p = heap->allocate(40);
  heap->deallocate(p, 40);
  const std::size_t before = allocations.load();
  heap->deallocate(p, 40);  // double free
  alignas(64) static unsigned char elsewhere[128];
  heap->deallocate(elsewhere + 64);  // foreign pointer
  const std::size_t during = allocations.load() - before;
  alloy::set_check_handler(previous);
  CHECK(during == 0);
  CHECK(seen.count == 2);
  CHECK(seen.what == check::foreign_pointer);
  // The allocator's name, as name_of gives it, without a string built for the report.
  CHECK(std::string(seen.allocator, seen.allocator_size) == alloy::name_of<checked_heap>());
  heap->release();
}

TEST_CASE("the default check handler prints through write(2) and aborts, allocating nothing",
          "[checks][report]") {
  const auto outcome = alloy::testing::run_in_child([] {
    checked_heap heap;
    void* p = heap.allocate(24);
    heap.deallocate(p, 24);
    forbid_allocation = true;
    heap.deallocate(p, 24);  // double free: the default handler aborts here
  });
  CHECK(outcome.signal == SIGABRT);
  CHECK_THAT(outcome.err, Catch::Contains("alloy: double_free detected: block 0x"));
  CHECK_THAT(outcome.err, Catch::Contains("(24 bytes) of allocator 'segregated_fit + pow2_classes<16, 256>"));
  CHECK_THAT(outcome.err, !Catch::Contains("operator new called"));
}

TEST_CASE("hardening reports through the same writer, allocating nothing", "[checks][report][hardening]") {
  const auto outcome = alloy::testing::run_in_child([] {
    alloy::allocator<P::first_fit, P::hardened::with<P::double_free_check>> heap;
    void* p = heap.allocate(64);
    void* keep = heap.allocate(64);  // so that p merges with nothing and keeps its tag
    heap.deallocate(p, 64);
    forbid_allocation = true;
    heap.deallocate(p, 64);
    (void)keep;
  });
  CHECK(outcome.signal == SIGABRT);
  CHECK_THAT(outcome.err, Catch::Contains("alloy hardening: double free: the block is already on its free list (block 0x"));
  CHECK_THAT(outcome.err, Catch::Contains("); aborting\n"));
  CHECK_THAT(outcome.err, !Catch::Contains("operator new called"));
}

TEST_CASE("a report can be written from a signal handler", "[checks][report]") {
  const auto outcome = alloy::testing::run_in_child([] {
    std::signal(SIGUSR1, [](int) {
      error_message m;
      m.text("alloy: from a signal handler, block ").pointer(&seen).text("\n");
      m.write_to_stderr();
    });
    forbid_allocation = true;
    std::raise(SIGUSR1);
  });
  CHECK(outcome.exit_code == 0);
  CHECK_THAT(outcome.err, Catch::Contains("alloy: from a signal handler, block 0x"));
}
