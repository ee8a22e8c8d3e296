// Death tests without a framework: run a piece of code in a forked child and report how the
// child ended and what it wrote on stderr. The child runs plain code (no REQUIRE: a Catch2
// failure would throw inside the child), with core dumps off so an expected abort is cheap.
#pragma once
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

namespace alloy::testing {

struct child_outcome {
  int signal = 0;      ///< the signal that killed the child, 0 if it exited
  int exit_code = -1;  ///< its exit status when it exited
  std::string err;     ///< everything it wrote on stderr
};

template <class F>
child_outcome run_in_child(F&& body) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return {};
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    ::dup2(pipe_fds[1], 2);
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    // Catch2's and the sanitizers' handlers would report the expected signal as a failure or
    // turn it into an exit; the test wants the signal itself.
    for (int s : {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE}) std::signal(s, SIG_DFL);
    body();
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  child_outcome out;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) out.err.append(buffer, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) out.signal = WTERMSIG(status);
  if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
  return out;
}

}  // namespace alloy::testing
