// Allocates 10,000 strings. Given a library's file name, run with that malloc library preloaded,
// also checks that malloc, free and operator new resolve to it. Without one it is the program
// the trace recorder records.
#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {
bool from(const char* symbol, const char* library) {
  Dl_info info{};
  void* f = dlsym(RTLD_DEFAULT, symbol);
  const bool ok = f != nullptr && dladdr(f, &info) != 0 && std::strstr(info.dli_fname, library) != nullptr;
  if (!ok) std::fprintf(stderr, "%s is not from %s (%s)\n", symbol, library, f ? info.dli_fname : "not found");
  return ok;
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> words;
  for (int i = 0; i < 10000; ++i) words.push_back(std::string(static_cast<std::size_t>(i % 300), 'x'));
  std::size_t total = 0;
  for (const std::string& w : words) total += w.size();
  const bool ok = argc < 2 || (from("malloc", argv[1]) && from("free", argv[1]) && from("_Znwm", argv[1]));
  return ok && total == 1485000 ? 0 : 1;
}
