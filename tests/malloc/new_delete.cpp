// Every operator new/delete form, run with the library under test in LD_PRELOAD (the
// environment variable ALLOY_EXPECT_MALLOC names it, to prove the forms really resolve to it).
#include <dlfcn.h>
#include <malloc.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace {

bool from_library(const char* symbol) {
  const char* expected = std::getenv("ALLOY_EXPECT_MALLOC");
  Dl_info info{};
  void* f = dlsym(RTLD_DEFAULT, symbol);
  return expected != nullptr && f != nullptr && dladdr(f, &info) != 0 && std::strstr(info.dli_fname, expected) != nullptr;
}

bool aligned_to(const void* p, std::size_t a) { return reinterpret_cast<std::uintptr_t>(p) % a == 0; }

// Through volatile pointers so the compiler cannot pair and elide the calls.
void* (*volatile new_plain)(std::size_t) = &::operator new;
void* (*volatile new_array)(std::size_t) = &::operator new[];
void* (*volatile new_aligned)(std::size_t, std::align_val_t) = &::operator new;
volatile std::size_t huge = ~std::size_t{0} / 2;

int handler_calls = 0;

}  // namespace

TEST_CASE("every operator new and delete comes from the preloaded library", "[malloc]") {
  for (const char* s : {"_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t",
                        "_ZnamSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t", "_ZnamSt11align_val_tRKSt9nothrow_t",
                        "_ZdlPv", "_ZdaPv", "_ZdlPvm", "_ZdaPvm", "_ZdlPvSt11align_val_t", "_ZdaPvSt11align_val_t",
                        "_ZdlPvmSt11align_val_t", "_ZdaPvmSt11align_val_t", "_ZdlPvRKSt9nothrow_t", "_ZdaPvRKSt9nothrow_t",
                        "_ZdlPvSt11align_val_tRKSt9nothrow_t", "_ZdaPvSt11align_val_tRKSt9nothrow_t"}) {
    INFO(s);
    CHECK(from_library(s));
  }
}

TEST_CASE("operator new forms allocate usable, aligned memory that delete takes back", "[malloc]") {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{24}, std::size_t{1000}, std::size_t{70000},
                        std::size_t{3} << 20}) {
    void* a = new_plain(n);
    void* b = new_array(n);
    void* c = ::operator new(n, std::nothrow);
    void* d = ::operator new[](n, std::nothrow);
    for (void* p : {a, b, c, d}) {
      REQUIRE(p != nullptr);
      CHECK(aligned_to(p, 16));
      CHECK(malloc_usable_size(p) >= n);
      std::memset(p, 0x5a, n);
    }
    ::operator delete(a, n);
    ::operator delete[](b, n);
    ::operator delete(c, std::nothrow);
    ::operator delete[](d, std::nothrow);
    for (std::size_t al : {std::size_t{32}, std::size_t{256}, std::size_t{4096}, std::size_t{1} << 21}) {
      const auto align = std::align_val_t{al};
      void* e = new_aligned(n, align);
      void* f = ::operator new[](n, align);
      void* g = ::operator new(n, align, std::nothrow);
      void* h = ::operator new[](n, align, std::nothrow);
      for (void* p : {e, f, g, h}) {
        REQUIRE(p != nullptr);
        CHECK(aligned_to(p, al));
        CHECK(malloc_usable_size(p) >= n);
        std::memset(p, 0xa5, n);
      }
      ::operator delete(e, n, align);
      ::operator delete[](f, align);
      ::operator delete(g, align, std::nothrow);
      ::operator delete[](h, n, align);
    }
  }
  ::operator delete(nullptr);
  ::operator delete[](nullptr, std::size_t{8});
}

TEST_CASE("an impossible new calls the new_handler, then throws bad_alloc; nothrow new returns null", "[malloc]") {
  CHECK_THROWS_AS(new_plain(huge), std::bad_alloc);
  CHECK_THROWS_AS(new_aligned(huge, std::align_val_t{64}), std::bad_alloc);
  CHECK(::operator new(huge, std::nothrow) == nullptr);
  CHECK(::operator new[](huge, std::align_val_t{64}, std::nothrow) == nullptr);
  handler_calls = 0;
  std::set_new_handler([] {
    if (++handler_calls == 3) std::set_new_handler(nullptr);  // gives up after three tries
  });
  CHECK_THROWS_AS(new_plain(huge), std::bad_alloc);
  CHECK(handler_calls == 3);
  handler_calls = 0;
  std::set_new_handler([] {
    if (++handler_calls == 2) std::set_new_handler(nullptr);
  });
  CHECK(::operator new(huge, std::nothrow) == nullptr);
  CHECK(handler_calls == 2);
}

TEST_CASE("containers run on the preloaded library", "[malloc]") {
  std::vector<std::string> words;
  for (int i = 0; i < 20000; ++i) words.push_back(std::string(static_cast<std::size_t>(i % 90), 'x') + std::to_string(i));
  std::size_t total = 0;
  for (const auto& w : words) total += w.size();
  CHECK(total > 20000);
  CHECK(malloc_usable_size(words.data()) >= words.size() * sizeof(std::string));
}
