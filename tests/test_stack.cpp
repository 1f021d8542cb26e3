// stack.hpp: the stacks of generator bodies, sized per generator or globally.
#include "support.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kib = 1024;

// Restores the process-wide default stack size on destruction.
struct default_size_guard {
  std::size_t saved = ag::default_stack_size();
  ~default_size_guard() { ag::set_default_stack_size(saved); }
};

// Recurses `depth` levels, each with a 4 KiB frame, lowering `*deepest` to the lowest frame address
// reached. The buffers are written and read so the recursion cannot be optimised into a loop.
void recurse(int depth, unsigned char seed, unsigned* sum, std::uintptr_t* deepest) {
  volatile unsigned char frame[4 * kib];
  for (std::size_t i = 0; i < sizeof frame; i += 512) frame[i] = static_cast<unsigned char>(seed + i);
  const std::uintptr_t here = reinterpret_cast<std::uintptr_t>(&frame[0]);
  if (here < *deepest) *deepest = here;
  if (depth > 1) recurse(depth - 1, static_cast<unsigned char>(seed + 1), sum, deepest);
  for (std::size_t i = 0; i < sizeof frame; i += 512) *sum += frame[i];
}

// A body: recurses `depth` levels (4 KiB each), then yields how many bytes of stack that took,
// measured from its own frame.
void yield_stack_used(ag::context<int> co, int depth) {
  volatile unsigned char top = 0;
  unsigned sum = 0;
  const std::uintptr_t start = reinterpret_cast<std::uintptr_t>(&top);
  std::uintptr_t deepest = start;
  recurse(depth, top, &sum, &deepest);
  ag::yield_(co, static_cast<int>(start - deepest));
}

ag::async_generator<int> deep_recursion(asio::io_context& io, int depth, ag::stack_options stack) {
  return ag::make_async_generator<int>(io, [depth](ag::context<int> co) { yield_stack_used(co, depth); }, stack);
}

// A generator that yields the address of a local of its body (where its stack is).
ag::async_generator<int> stack_address(asio::io_context& io, ag::stack_options stack, std::uintptr_t* where) {
  return ag::make_async_generator<int>(
      io,
      [where](ag::context<int> co) {
        volatile char local = 0;
        *where = reinterpret_cast<std::uintptr_t>(&local);
        ag::yield_(co, 0);
      },
      stack);
}

}  // namespace

TEST_CASE("stack_options asks for the default stack size unless given a size") {
  CHECK(ag::stack_options().size == 0);
  CHECK(ag::stack_options{128 * kib}.size == 128 * kib);
}

TEST_CASE("the default stack size is initially 64 KiB") { CHECK(ag::default_stack_size() == 64 * kib); }

TEST_CASE("set_default_stack_size changes the default stack size") {
  default_size_guard guard;
  ag::set_default_stack_size(256 * kib);
  CHECK(ag::default_stack_size() == 256 * kib);
  ag::set_default_stack_size(96 * kib);
  CHECK(ag::default_stack_size() == 96 * kib);
}

TEST_CASE("set_default_stack_size refuses less than two pages and keeps the previous default") {
  default_size_guard guard;
  const std::size_t before = ag::default_stack_size();
  CHECK_THROWS_WITH_AS(ag::set_default_stack_size(0), "set_default_stack_size: a stack needs at least two pages",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(ag::set_default_stack_size(4096), "set_default_stack_size: a stack needs at least two pages",
                       std::invalid_argument);
  CHECK(ag::default_stack_size() == before);
}

TEST_CASE("a generator with a custom stack size runs and yields like any other") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(
      io,
      [](ag::context<int> co) {
        for (int i = 0; i < 3; ++i) ag::yield_(co, i);
      },
      ag::stack_options{32 * kib});
  CHECK(collect(io, g) == std::vector<int>{0, 1, 2});
}

TEST_CASE("a generator function with stack_options gives each generator that stack size") {
  asio::io_context io;
  auto deep = ag::make_generator_function<int>(&yield_stack_used, ag::stack_options{256 * kib});
  auto g = deep(io, 40);  // about 160 KiB: more than the 64 KiB default
  outcome<int> o = anext(io, g);
  REQUIRE_FALSE(o.error);
  CHECK(o.value > static_cast<int>(150 * kib));
}

TEST_CASE("a body recursing through 160 KiB of stack works with a 256 KiB stack") {
  asio::io_context io;
  auto g = deep_recursion(io, 40, ag::stack_options{256 * kib});
  outcome<int> o = anext(io, g);
  REQUIRE_FALSE(o.error);
  CHECK(o.value > static_cast<int>(150 * kib));
  CHECK(is_stop(anext(io, g).error));
}

TEST_CASE("generators made after set_default_stack_size get the new default") {
  default_size_guard guard;
  ag::set_default_stack_size(256 * kib);
  asio::io_context io;
  auto g = deep_recursion(io, 40, ag::stack_options());
  outcome<int> o = anext(io, g);
  REQUIRE_FALSE(o.error);
  CHECK(o.value > static_cast<int>(150 * kib));
}

namespace {
// Whether a generator made with `stack` after another one ended runs on the stack the other had.
bool next_generator_reuses_the_stack(ag::stack_options stack) {
  asio::io_context io;
  std::uintptr_t first = 0;
  std::uintptr_t second = 0;
  {
    auto g = stack_address(io, stack, &first);
    CHECK(collect(io, g) == std::vector<int>{0});
  }
  auto g = stack_address(io, stack, &second);
  CHECK(collect(io, g) == std::vector<int>{0});
  return first != 0 && second == first;
}
}  // namespace

TEST_CASE("a finished generator's stack is reused by the next generator of the same stack size") {
  CHECK(next_generator_reuses_the_stack(ag::stack_options{72 * kib}));  // a size no other test uses
}

namespace {

// Runs `body` in a child process, its stdout and stderr captured; `status` as waitpid gives it.
struct child_outcome {
  int status = 0;
  std::string output;
};
template <class Body>
child_outcome run_in_child(Body body) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  // Nothing buffered may be written twice, by the child too.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    try {
      body();
    } catch (...) {
      std::fflush(stdout);
      ::_exit(3);
    }
    std::fflush(stdout);
    ::_exit(0);
  }
  ::close(fds[1]);
  child_outcome out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.output.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  ::waitpid(pid, &out.status, 0);
  return out;
}

// The first anext's error message of a generator made with `stack`, run on its own io_context.
std::string first_anext_error(ag::stack_options stack) {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) { ag::yield_(co, 1); }, stack);
  outcome<int> o = anext(io, g);
  return message_of<ag::stack_exhausted>(o.error);
}

// Recurses 1 KiB a level until `*levels` is reached: given a huge count, until the stack overflows.
// Each level is a frame of its own smaller than a page, written at its lowest byte, so the descent
// touches every page and faults on the guard page. Not inlined: at -O3 GCC inlines the recursion into
// itself, merging levels into 12 or 16 KiB frames whose first write jumps over the 4 KiB guard page
// into whatever lies below (unmapped here: a fault that is no overflow report's).
__attribute__((noinline)) int recurse_levels(int depth, const volatile int* levels) {
  volatile char frame[kib];
  frame[0] = static_cast<char>(depth);
  if (depth >= *levels) return frame[0];
  return recurse_levels(depth + 1, levels) + frame[0];
}
int bottomless() {
  static volatile int levels = 1 << 30;
  return recurse_levels(0, &levels);
}

long max_map_count() {
  std::ifstream in("/proc/sys/vm/max_map_count");
  long n = -1;
  in >> n;
  return n;
}

}  // namespace

TEST_CASE("stack_options asks for the default stack policy unless given one") {
  CHECK(ag::stack_options().policy == ag::stack_policy::default_policy);
  CHECK(ag::stack_options{16 * kib, ag::stack_policy::carved}.policy == ag::stack_policy::carved);
}

TEST_CASE("the default stack policy is initially guarded") { CHECK(ag::default_stack_policy() == ag::stack_policy::guarded); }

TEST_CASE("set_default_stack_policy changes the default policy and refuses default_policy") {
  ag::set_default_stack_policy(ag::stack_policy::carved);
  CHECK(ag::default_stack_policy() == ag::stack_policy::carved);
  CHECK_THROWS_WITH_AS(ag::set_default_stack_policy(ag::stack_policy::default_policy),
                       "set_default_stack_policy: the default must be guarded or carved", std::invalid_argument);
  CHECK(ag::default_stack_policy() == ag::stack_policy::carved);
  ag::set_default_stack_policy(ag::stack_policy::guarded);
  CHECK(ag::default_stack_policy() == ag::stack_policy::guarded);
}

TEST_CASE("a generator on a carved stack runs, and the next one of that size reuses the stack") {
  CHECK(next_generator_reuses_the_stack(ag::stack_options{40 * kib, ag::stack_policy::carved}));
}

TEST_CASE("a body recursing through 160 KiB of stack works with a 256 KiB carved stack") {
  asio::io_context io;
  auto g = deep_recursion(io, 40, ag::stack_options{256 * kib, ag::stack_policy::carved});
  outcome<int> o = anext(io, g);
  REQUIRE_FALSE(o.error);
  CHECK(o.value > static_cast<int>(150 * kib));
}

namespace {
// The first anext's error for a stack of 4 GiB, in a child process allowed 2 GiB of address space more.
std::string first_anext_error_beyond_the_address_space(ag::stack_policy policy) {
  child_outcome out = run_in_child([policy] {
    // 2 GiB more than the process maps now: under a sanitizer, which maps more as it goes, an absolute
    // limit below what its shadow memory already takes would fail its own next mapping first.
    unsigned long pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    struct rlimit limit;
    ::getrlimit(RLIMIT_AS, &limit);
    limit.rlim_cur = pages * static_cast<unsigned long>(::sysconf(_SC_PAGESIZE)) + 2048ul * 1024 * 1024;
    ::setrlimit(RLIMIT_AS, &limit);
    std::printf("%s\n", first_anext_error(ag::stack_options{4096ul * 1024 * 1024, policy}).c_str());
  });
  CHECK(WIFEXITED(out.status));
  return out.output;
}
}  // namespace

TEST_CASE("a guarded stack that cannot be mapped fails the first anext with stack_exhausted, naming the options") {
#if ASYNC_GENERATOR_TSAN
  MESSAGE("not under ThreadSanitizer: its shadow memory needs more address space than the limit set here");
  return;
#endif
  CHECK(first_anext_error_beyond_the_address_space(ag::stack_policy::guarded) ==
        "cannot map a generator stack of 4294967296 bytes: Cannot allocate memory (memory or vm.max_map_count "
        "exhausted; lower the stack size with stack_options::size or set_default_stack_size, use "
        "stack_policy::carved, or raise vm.max_map_count)\n");
}

TEST_CASE("a carved stack that cannot be mapped fails the first anext with stack_exhausted, naming the options") {
#if ASYNC_GENERATOR_TSAN
  MESSAGE("not under ThreadSanitizer: its shadow memory needs more address space than the limit set here");
  return;
#endif
  CHECK(first_anext_error_beyond_the_address_space(ag::stack_policy::carved) ==
        "cannot map a block of 4294967296 bytes for carved generator stacks: Cannot allocate memory (memory "
        "exhausted; lower the stack size with stack_options::size or set_default_stack_size)\n");
}

TEST_CASE("past vm.max_map_count, a guarded stack fails with stack_exhausted naming the limit, and carved stacks go on") {
#if ASYNC_GENERATOR_ASAN || ASYNC_GENERATOR_TSAN
  MESSAGE("not under a sanitizer: its shadow memory takes mappings of its own, and fails first");
  return;
#endif
  if (max_map_count() > 100000) {
    MESSAGE("vm.max_map_count is " << max_map_count() << ": too many guarded stacks to exhaust it in a test");
    return;
  }
  child_outcome out = run_in_child([] {
    asio::io_context io;
    std::vector<ag::async_generator<int>> live;
    std::string error;
    const auto one = [](ag::context<int> co) { ag::yield_(co, 1); };
    while (error.empty()) {
      live.push_back(ag::make_async_generator<int>(io, one, ag::stack_options{12 * kib}));
      error = message_of<ag::stack_exhausted>(anext(io, live.back()).error);
    }
    std::printf("%s\n", error.c_str());
    for (int i = 0; i < 1000; ++i) {
      live.push_back(ag::make_async_generator<int>(io, one, ag::stack_options{12 * kib, ag::stack_policy::carved}));
      if (anext(io, live.back()).value != 1) std::printf("a carved generator failed\n");
    }
    std::printf("1000 carved generators ran\n");
  });
  CHECK(WIFEXITED(out.status));
  CHECK(out.output ==
        "cannot protect a generator stack's guard page: Cannot allocate memory (vm.max_map_count exhausted: each "
        "guarded stack takes two mappings; raise vm.max_map_count, or use stack_policy::carved for this many live "
        "generators)\n1000 carved generators ran\n");
}

TEST_CASE("a stack overflow in a body is reported, naming the generator and its stack size, before the process dies") {
#if ASYNC_GENERATOR_TSAN
  MESSAGE("not under ThreadSanitizer: it takes over a fault's signal, and the process does not die of it");
  return;
#endif
  child_outcome out = run_in_child([] {
    // The firstiter hook names the generator as its first anext starts.
    ag::set_asyncgen_hooks([](ag::generator_ref g) {
      std::printf("%s\n", g.description().c_str());
      std::fflush(stdout);
    });
    // A size no other test uses: a new mapping, which puts the fault handler back in place (doctest
    // replaces it in each test case).
    asio::io_context io;
    auto g = ag::make_async_generator<int>(
        io, [](ag::context<int> co) { ag::yield_(co, bottomless()); }, ag::stack_options{36 * kib});
    anext(io, g);
  });
  CHECK(WIFSIGNALED(out.status));
  CHECK(WTERMSIG(out.status) == SIGSEGV);
  INFO("the child wrote:\n" << out.output);
  const std::size_t eol = out.output.find('\n');
  REQUIRE(eol != std::string::npos);
  const std::string name = out.output.substr(0, eol);
  CHECK(name.find("<async_generator object at 0x") == 0);
  const std::string report = "async_generator: stack overflow in " + name + ": its stack of " +
                             std::to_string(36 * kib - 64) +
                             " bytes is too small; give it a larger one with stack_options::size or "
                             "set_default_stack_size\n";
  // Then the fault goes to the handler that was there before (doctest's, which reports the crash too).
  CHECK(out.output.substr(eol + 1, report.size()) == report);
}
