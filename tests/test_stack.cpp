// stack.hpp: the stacks of generator bodies, sized per generator or globally.
#include "support.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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

namespace {

// Makes the stack policies see `conditions` (no guard regions, another mapping budget) until destroyed.
struct simulated_stack_conditions {
  ag::detail::stack_conditions saved = ag::detail::current_stack_conditions();
  explicit simulated_stack_conditions(ag::detail::stack_conditions conditions) {
    ag::detail::simulate_stack_conditions(conditions);
  }
  simulated_stack_conditions(const simulated_stack_conditions&) = delete;
  simulated_stack_conditions& operator=(const simulated_stack_conditions&) = delete;
  ~simulated_stack_conditions() { ag::detail::simulate_stack_conditions(saved); }
};
constexpr ag::detail::stack_conditions without_guard_regions{false, 1 << 20};
constexpr ag::detail::stack_conditions without_guard_regions_or_mappings{false, 0};

bool kernel_has_guard_regions() {
  simulated_stack_conditions as_the_kernel_has({true, ag::detail::current_stack_conditions().mapping_budget});
  return ag::detail::current_stack_conditions().guard_regions;
}

// The kernel mappings of this process: each takes one of vm.max_map_count's.
long mappings() {
  std::ifstream maps("/proc/self/maps");
  long n = 0;
  for (std::string line; std::getline(maps, line);) ++n;
  return n;
}

}  // namespace

TEST_CASE("stack_options asks for the default stack policy unless given one") {
  CHECK(ag::stack_options().policy == ag::stack_policy::default_policy);
  CHECK(ag::stack_options{16 * kib, ag::stack_policy::carved}.policy == ag::stack_policy::carved);
}

TEST_CASE("the default stack policy is initially adaptive") {
  CHECK(ag::default_stack_policy() == ag::stack_policy::adaptive);
}

TEST_CASE("set_default_stack_policy changes the default policy and refuses default_policy") {
  ag::set_default_stack_policy(ag::stack_policy::carved);
  CHECK(ag::default_stack_policy() == ag::stack_policy::carved);
  CHECK_THROWS_WITH_AS(ag::set_default_stack_policy(ag::stack_policy::default_policy),
                       "set_default_stack_policy: the default must be adaptive, guarded or carved",
                       std::invalid_argument);
  CHECK(ag::default_stack_policy() == ag::stack_policy::carved);
  ag::set_default_stack_policy(ag::stack_policy::guarded);
  CHECK(ag::default_stack_policy() == ag::stack_policy::guarded);
  ag::set_default_stack_policy(ag::stack_policy::adaptive);
  CHECK(ag::default_stack_policy() == ag::stack_policy::adaptive);
}

TEST_CASE("the adaptive policy's budget of guarded stacks in mappings of their own is initially a quarter of vm.max_map_count") {
  CHECK(static_cast<long>(ag::detail::current_stack_conditions().mapping_budget) == max_map_count() / 4);
}

TEST_CASE("a generator on a carved stack runs, and the next one of that size reuses the stack") {
  CHECK(next_generator_reuses_the_stack(ag::stack_options{40 * kib, ag::stack_policy::carved}));
}

TEST_CASE("a guarded stack with a guard region is reused by the next guarded generator of its size") {
  if (!kernel_has_guard_regions()) {
    MESSAGE("the kernel has no guard regions (Linux 6.13 and later have them)");
    return;
  }
  CHECK(next_generator_reuses_the_stack(ag::stack_options{84 * kib, ag::stack_policy::guarded}));
}

TEST_CASE("without guard regions, a guarded stack in a mapping of its own is reused by the next guarded generator of its size") {
  simulated_stack_conditions conditions(without_guard_regions);
  CHECK(next_generator_reuses_the_stack(ag::stack_options{88 * kib, ag::stack_policy::guarded}));
  CHECK(next_generator_reuses_the_stack(ag::stack_options{92 * kib, ag::stack_policy::adaptive}));
}

TEST_CASE("past the adaptive policy's budget, a stack with a canary is reused by the next adaptive generator of its size") {
  simulated_stack_conditions conditions(without_guard_regions_or_mappings);
  CHECK(next_generator_reuses_the_stack(ag::stack_options{96 * kib, ag::stack_policy::adaptive}));
}

TEST_CASE("a stack goes back to the pool of its kind: a carved one is not given to a guarded generator, nor the reverse") {
  asio::io_context io;
  const std::size_t size = 100 * kib;
  std::uintptr_t carved = 0;
  std::uintptr_t guarded = 0;
  std::uintptr_t carved_again = 0;
  {
    auto g = stack_address(io, ag::stack_options{size, ag::stack_policy::carved}, &carved);
    CHECK(collect(io, g) == std::vector<int>{0});
  }
  {
    auto g = stack_address(io, ag::stack_options{size, ag::stack_policy::guarded}, &guarded);
    CHECK(collect(io, g) == std::vector<int>{0});
  }
  auto g = stack_address(io, ag::stack_options{size, ag::stack_policy::carved}, &carved_again);
  CHECK(collect(io, g) == std::vector<int>{0});
  CHECK(guarded != carved);
  CHECK(carved_again == carved);
}

TEST_CASE("a body recursing through 160 KiB of stack works with a 256 KiB carved stack") {
  asio::io_context io;
  auto g = deep_recursion(io, 40, ag::stack_options{256 * kib, ag::stack_policy::carved});
  outcome<int> o = anext(io, g);
  REQUIRE_FALSE(o.error);
  CHECK(o.value > static_cast<int>(150 * kib));
}

TEST_CASE("a body recursing through 160 KiB of stack works with a 256 KiB stack with a canary") {
  simulated_stack_conditions conditions(without_guard_regions_or_mappings);
  asio::io_context io;
  auto g = deep_recursion(io, 40, ag::stack_options{256 * kib, ag::stack_policy::adaptive});
  outcome<int> o = anext(io, g);
  REQUIRE_FALSE(o.error);
  CHECK(o.value > static_cast<int>(150 * kib));
  CHECK(is_stop(anext(io, g).error));
}

namespace {
// The first anext's error for a stack of 4 GiB, in a child process allowed 2 GiB of address space
// more, the stack policies seeing `conditions`.
std::string first_anext_error_beyond_the_address_space(ag::stack_policy policy, ag::detail::stack_conditions conditions) {
  child_outcome out = run_in_child([policy, conditions] {
    ag::detail::simulate_stack_conditions(conditions);
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

TEST_CASE("a guarded stack that cannot be carved fails the first anext with stack_exhausted, naming the options") {
#if ASYNC_GENERATOR_TSAN
  MESSAGE("not under ThreadSanitizer: its shadow memory needs more address space than the limit set here");
  return;
#endif
  if (!kernel_has_guard_regions()) {
    MESSAGE("the kernel has no guard regions (Linux 6.13 and later have them)");
    return;
  }
  CHECK(first_anext_error_beyond_the_address_space(ag::stack_policy::guarded, ag::detail::current_stack_conditions()) ==
        "cannot map a block of 4294971392 bytes for guarded generator stacks: Cannot allocate memory (memory "
        "exhausted; lower the stack size with stack_options::size or set_default_stack_size)\n");
}

TEST_CASE("without guard regions, a guarded stack that cannot be mapped fails the first anext with stack_exhausted, naming the options") {
#if ASYNC_GENERATOR_TSAN
  MESSAGE("not under ThreadSanitizer: its shadow memory needs more address space than the limit set here");
  return;
#endif
  CHECK(first_anext_error_beyond_the_address_space(ag::stack_policy::guarded, without_guard_regions) ==
        "cannot map a generator stack of 4294967296 bytes: Cannot allocate memory (memory or vm.max_map_count "
        "exhausted; lower the stack size with stack_options::size or set_default_stack_size, use "
        "stack_policy::adaptive, or raise vm.max_map_count)\n");
}

TEST_CASE("a carved stack that cannot be mapped fails the first anext with stack_exhausted, naming the options") {
#if ASYNC_GENERATOR_TSAN
  MESSAGE("not under ThreadSanitizer: its shadow memory needs more address space than the limit set here");
  return;
#endif
  CHECK(first_anext_error_beyond_the_address_space(ag::stack_policy::carved, ag::detail::current_stack_conditions()) ==
        "cannot map a block of 4294967296 bytes for carved generator stacks: Cannot allocate memory (memory "
        "exhausted; lower the stack size with stack_options::size or set_default_stack_size)\n");
}

TEST_CASE("an adaptive stack that cannot be had in any kind fails the first anext with stack_exhausted, naming the options") {
#if ASYNC_GENERATOR_TSAN
  MESSAGE("not under ThreadSanitizer: its shadow memory needs more address space than the limit set here");
  return;
#endif
  // With guard regions, then a mapping of its own, then a canary: the last kind tried names the options.
  CHECK(first_anext_error_beyond_the_address_space(ag::stack_policy::adaptive, ag::detail::current_stack_conditions()) ==
        "cannot map a block of 4294967296 bytes for carved generator stacks: Cannot allocate memory (memory "
        "exhausted; lower the stack size with stack_options::size or set_default_stack_size)\n");
}

TEST_CASE("with guard regions, 40000 live guarded generators, more than vm.max_map_count allows in mappings of their own, take few mappings") {
#if ASYNC_GENERATOR_ASAN || ASYNC_GENERATOR_TSAN
  MESSAGE("not under a sanitizer: its shadow memory takes mappings of its own");
  return;
#endif
  if (!kernel_has_guard_regions()) {
    MESSAGE("the kernel has no guard regions (Linux 6.13 and later have them)");
    return;
  }
  child_outcome out = run_in_child([] {
    asio::io_context io;
    const long before = mappings();
    std::vector<ag::async_generator<int>> live;
    long started = 0;
    const auto one = [](ag::context<int> co) { ag::yield_(co, 1); };
    for (int i = 0; i < 40000; ++i) {
      // Half by the guarded policy, half by the default one.
      const ag::stack_policy policy = i % 2 == 0 ? ag::stack_policy::guarded : ag::stack_policy::default_policy;
      live.push_back(ag::make_async_generator<int>(io, one, ag::stack_options{8 * kib, policy}));
      started += anext(io, live.back()).value == 1;
    }
    const long added = mappings() - before;
    std::printf("%ld started; %s\n", started, added < 100 ? "fewer than 100 mappings more" : std::to_string(added).c_str());
  });
  CHECK(WIFEXITED(out.status));
  CHECK(out.output == "40000 started; fewer than 100 mappings more\n");
}

TEST_CASE("without guard regions, past vm.max_map_count a guarded stack fails with stack_exhausted naming the limit, and carved stacks go on") {
#if ASYNC_GENERATOR_ASAN || ASYNC_GENERATOR_TSAN
  MESSAGE("not under a sanitizer: its shadow memory takes mappings of its own, and fails first");
  return;
#endif
  if (max_map_count() > 100000) {
    MESSAGE("vm.max_map_count is " << max_map_count() << ": too many guarded stacks to exhaust it in a test");
    return;
  }
  child_outcome out = run_in_child([] {
    ag::detail::simulate_stack_conditions(without_guard_regions);
    asio::io_context io;
    std::vector<ag::async_generator<int>> live;
    std::string error;
    const auto one = [](ag::context<int> co) { ag::yield_(co, 1); };
    while (error.empty()) {
      live.push_back(ag::make_async_generator<int>(io, one, ag::stack_options{12 * kib, ag::stack_policy::guarded}));
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
        "guarded stack takes two mappings; raise vm.max_map_count, or use stack_policy::adaptive (the default) for "
        "this many live generators)\n1000 carved generators ran\n");
}

TEST_CASE("without guard regions, the adaptive policy maps guarded stacks up to its budget, then carves stacks with a canary instead of failing") {
#if ASYNC_GENERATOR_ASAN || ASYNC_GENERATOR_TSAN
  MESSAGE("not under a sanitizer: its shadow memory takes mappings of its own");
  return;
#endif
  child_outcome out = run_in_child([] {
    // A budget of 1000 stacks (initially a quarter of vm.max_map_count: this is the same past it).
    constexpr long budget = 1000;
    constexpr long count = 3 * budget;
    ag::detail::simulate_stack_conditions({false, budget});
    asio::io_context io;
    const long before = mappings();
    std::vector<ag::async_generator<int>> live;
    long started = 0;
    const auto one = [](ag::context<int> co) { ag::yield_(co, 1); };
    for (long i = 0; i < count; ++i) {
      live.push_back(ag::make_async_generator<int>(io, one, ag::stack_options{8 * kib}));
      started += anext(io, live.back()).value == 1;
    }
    const long added = mappings() - before;
    // Two mappings for each guarded stack of the budget (less the few earlier tests left in the pool,
    // which count in it), a few for the blocks the rest are carved from.
    const bool to_the_budget = added <= 2 * budget + 20 && added >= 2 * (budget - 100);
    std::printf("%s started; %s\n", started == count ? "all" : std::to_string(started).c_str(),
                to_the_budget ? "mapped to the budget" : ("mappings added: " + std::to_string(added)).c_str());
  });
  CHECK(WIFEXITED(out.status));
  CHECK(out.output == "all started; mapped to the budget\n");
}

namespace {

// A child process whose generator's stack overflows: the name of that generator on the first line,
// then what the library and doctest wrote.
std::string overflowing_generator_name(const child_outcome& out) {
  const std::size_t eol = out.output.find('\n');
  REQUIRE(eol != std::string::npos);
  return out.output.substr(0, eol);
}
std::string after_first_line(const child_outcome& out) { return out.output.substr(out.output.find('\n') + 1); }

std::string overflow_report(const std::string& name, std::size_t stack_size, const char* ending) {
  return "async_generator: stack overflow in " + name + ": its stack of " + std::to_string(stack_size - 64) +
         " bytes is too small; give it a larger one with stack_options::size or set_default_stack_size" + ending;
}

// In a child process, the stack policies seeing `conditions`: a generator made with `stack` recurses
// until it faults.
child_outcome overflow_faulting(ag::stack_options stack, ag::detail::stack_conditions conditions) {
  return run_in_child([stack, conditions] {
    ag::detail::simulate_stack_conditions(conditions);
    // The firstiter hook names the generator as its first anext starts.
    ag::set_asyncgen_hooks([](ag::generator_ref g) {
      std::printf("%s\n", g.description().c_str());
      std::fflush(stdout);
    });
    // A size no other test uses: a new stack, whose guard's registration puts the fault handler back
    // in place (doctest replaces it in each test case).
    asio::io_context io;
    auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) { ag::yield_(co, bottomless()); }, stack);
    anext(io, g);
  });
}

void check_reported_before_the_fault(const child_outcome& out, std::size_t stack_size) {
  CHECK(WIFSIGNALED(out.status));
  CHECK(WTERMSIG(out.status) == SIGSEGV);
  INFO("the child wrote:\n" << out.output);
  const std::string name = overflowing_generator_name(out);
  CHECK(name.find("<async_generator object at 0x") == 0);
  const std::string report = overflow_report(name, stack_size, "\n");
  // Then the fault goes to the handler that was there before (doctest's, which reports the crash too).
  CHECK(after_first_line(out).substr(0, report.size()) == report);
}

}  // namespace

TEST_CASE("a stack overflow in a body is reported, naming the generator and its stack size, before the process dies") {
#if ASYNC_GENERATOR_TSAN
  MESSAGE("not under ThreadSanitizer: it takes over a fault's signal, and the process does not die of it");
  return;
#endif
  // The default policy: a guard region where the kernel has them.
  check_reported_before_the_fault(overflow_faulting(ag::stack_options{36 * kib}, ag::detail::current_stack_conditions()),
                                  36 * kib);
}

TEST_CASE("without guard regions, a stack overflow on a stack of the default policy is reported as it faults on the guard page of a mapping of its own") {
#if ASYNC_GENERATOR_TSAN
  MESSAGE("not under ThreadSanitizer: it takes over a fault's signal, and the process does not die of it");
  return;
#endif
  check_reported_before_the_fault(overflow_faulting(ag::stack_options{44 * kib}, without_guard_regions), 44 * kib);
}

namespace {

// Recurses 1 KiB a level, writing every byte of each level's frame, until a frame lies below `floor`:
// as an overflow does, it writes over the lowest bytes of the stack and goes on below. Not inlined, so
// each level is a frame of its own; not instrumented by AddressSanitizer, whose red zones between the
// frames would be bytes left unwritten.
__attribute__((noinline, no_sanitize_address)) int descend_below(std::uintptr_t floor) {
  volatile char frame[kib];
  for (std::size_t i = 0; i < sizeof frame; ++i) frame[i] = static_cast<char>(i);
  if (reinterpret_cast<std::uintptr_t>(&frame[0]) < floor) return frame[0];
  return descend_below(floor) + frame[sizeof frame - 1];
}

// Where a value's move overflows the stack: armed by a delegating body for the move of its
// delegate's first item, the one code of its own a body runs between that item and its suspension.
struct armed_overflow {
  std::uintptr_t floor = 0;  // 0: disarmed
  std::uintptr_t top = 0;    // of the body's stack: a move elsewhere does not overflow
};
armed_overflow value_move_overflow;

struct overflowing_move {
  int value = 0;
  overflowing_move() = default;
  explicit overflowing_move(int v) : value(v) {}
  overflowing_move(overflowing_move&& o) noexcept : value(o.value) { overflow_if_armed(); }
  overflowing_move& operator=(overflowing_move&& o) noexcept {
    value = o.value;
    overflow_if_armed();
    return *this;
  }
  static void overflow_if_armed() noexcept {
    volatile char here = 0;
    const std::uintptr_t at = reinterpret_cast<std::uintptr_t>(&here);
    const armed_overflow armed = value_move_overflow;
    if (armed.floor == 0 || at > armed.top || at < armed.floor) return;
    value_move_overflow = armed_overflow{};
    descend_below(armed.floor);
  }
};

// How a body whose stack has a canary leaves its stack after overflowing it.
enum class leaving { yield, await, end, consume, delegate };

// A body that yields 0, `*where` set to the address of a local (where its stack is); resumed,
// overflows its stack of `size` bytes by a few KiB, then leaves it by `how`.
template <class Y>
ag::async_generator<Y> leaving_after_an_overflow(asio::io_context& io, std::size_t size, leaving how, std::uintptr_t* where) {
  return ag::make_async_generator<Y>(
      io,
      [size, how, where, &io](ag::context<Y> co) {
        volatile char local = 0;
        const std::uintptr_t top = reinterpret_cast<std::uintptr_t>(&local);
        *where = top;
        ag::yield_(co, Y(0));
        // At least 2 KiB below the stack's lowest byte, which lies less than `size` below the local.
        const std::uintptr_t floor = top - size - 2 * kib;
        auto other = ag::make_async_generator<Y>(io, [](ag::context<Y> inner) { ag::yield_(inner, Y(1)); });
        if (how == leaving::delegate) {
          value_move_overflow = armed_overflow{floor, top};
        } else {
          descend_below(floor);
        }
        switch (how) {
          case leaving::end:
            return;
          case leaving::yield:
            ag::yield_(co, Y(1));
            break;
          case leaving::await:
            asio::post(co);
            break;
          case leaving::consume:
            other.anext(co);
            break;
          case leaving::delegate:
            ag::yield_from_(co, other);
            break;
        }
        // Back on the stack, which the check did not find damaged; the process ends before any
        // other exit from the stack would find it.
        std::printf("the overflow went unnoticed\n");
        std::fflush(stdout);
        std::_Exit(0);
      },
      ag::stack_options{size});
}

// In a child process past the adaptive policy's budget, without guard regions: a generator on a
// stack with a canary overflows it, then leaves the stack by `how`. Its stack is carved right above
// another generator's, which the overflow runs into, as it would in a program.
template <class Y>
child_outcome overflowing_a_canary(leaving how) {
  return run_in_child([how] {
    ag::detail::simulate_stack_conditions(without_guard_regions_or_mappings);
    std::string last_started;
    ag::set_asyncgen_hooks([&last_started](ag::generator_ref g) { last_started = g.description(); });
    constexpr std::size_t size = 52 * kib;  // a size no other test uses: stacks carved one above the other
    asio::io_context io;
    std::vector<ag::async_generator<Y>> live;
    std::uintptr_t below = 0;
    for (;;) {
      std::uintptr_t here = 0;
      live.push_back(leaving_after_an_overflow<Y>(io, size, how, &here));
      bool done = false;
      live.back().anext([&done](std::exception_ptr, Y) { done = true; });
      io.run();
      io.restart();
      if (!done) std::printf("a generator did not start\n");
      if (below != 0 && here == below + size) break;  // the last two are neighbours
      below = here;
    }
    std::printf("%s\n", last_started.c_str());
    std::fflush(stdout);
    live.back().anext([](std::exception_ptr, Y) {});
    io.run();
    // Before the generators' destructors resume the one whose stack the overflow damaged.
    std::printf("the overflow went unnoticed\n");
    std::fflush(stdout);
    std::_Exit(0);
  });
}

void check_reported_and_aborted(const child_outcome& out) {
  INFO("the child wrote:\n" << out.output);
  CHECK(WIFSIGNALED(out.status));
  CHECK(WTERMSIG(out.status) == SIGABRT);
  const std::string name = overflowing_generator_name(out);
  CHECK(name.find("<async_generator object at 0x") == 0);
  const std::string report =
      overflow_report(name, 52 * kib, " (detected after the fact, at a suspension: its stack has no guard page)\n");
  // Then doctest reports the SIGABRT.
  CHECK(after_first_line(out).substr(0, report.size()) == report);
}

}  // namespace

TEST_CASE("without guard regions, past the adaptive policy's budget, a stack overflow on a stack with a canary is reported as the body yields, and the process aborts") {
#if ASYNC_GENERATOR_TSAN
  MESSAGE("not under ThreadSanitizer: it takes over the abort's signal, and the process does not die of it");
  return;
#endif
  check_reported_and_aborted(overflowing_a_canary<int>(leaving::yield));
}

TEST_CASE("a stack overflow on a stack with a canary is reported as the body awaits") {
#if ASYNC_GENERATOR_TSAN
  MESSAGE("not under ThreadSanitizer: it takes over the abort's signal, and the process does not die of it");
  return;
#endif
  check_reported_and_aborted(overflowing_a_canary<int>(leaving::await));
}

TEST_CASE("a stack overflow on a stack with a canary is reported as the body ends") {
#if ASYNC_GENERATOR_TSAN
  MESSAGE("not under ThreadSanitizer: it takes over the abort's signal, and the process does not die of it");
  return;
#endif
  check_reported_and_aborted(overflowing_a_canary<int>(leaving::end));
}

TEST_CASE("a stack overflow on a stack with a canary is reported as the body takes an item of another generator") {
#if ASYNC_GENERATOR_TSAN
  MESSAGE("not under ThreadSanitizer: it takes over the abort's signal, and the process does not die of it");
  return;
#endif
  check_reported_and_aborted(overflowing_a_canary<int>(leaving::consume));
}

TEST_CASE("a stack overflow on a stack with a canary is reported as the body suspends delegating to another generator") {
#if ASYNC_GENERATOR_TSAN
  MESSAGE("not under ThreadSanitizer: it takes over the abort's signal, and the process does not die of it");
  return;
#endif
  check_reported_and_aborted(overflowing_a_canary<overflowing_move>(leaving::delegate));
}
