// Two runs of one program must not get one heap layout: runs the layout helper twice per
// composition and compares the orders in which blocks were handed out.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

namespace {

std::string run_helper(const std::string& mode) {
  const std::string command = std::string(ALLOY_LAYOUT_HELPER) + " " + mode;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  REQUIRE(::pclose(pipe) == 0);
  return out;
}

}  // namespace

TEST_CASE("two runs of the same program get different heap layouts when hardened", "[hardening][placement]") {
  const std::string plain_first = run_helper("plain");
  const std::string plain_second = run_helper("plain");
  INFO("unhardened: " << plain_first);
  CHECK(plain_first == plain_second);  // without hardening the layout repeats run after run

  const std::string hardened_first = run_helper("hardened");
  const std::string hardened_second = run_helper("hardened");
  INFO("hardened, run 1: " << hardened_first << "hardened, run 2: " << hardened_second);
  CHECK(hardened_first.size() > 32);
  CHECK(hardened_first != hardened_second);  // equal with odds of 1 in 32!
  CHECK(hardened_first != plain_first);
}
