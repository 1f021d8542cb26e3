// The benchmark program: prints `bench <case> <ns_per_item>`, every case measured in the same run,
// each the median of several repetitions. The repetitions are interleaved (each round runs every
// case once), so a slow spell of a shared machine falls on all cases alike and the ratios between
// them hold better than the absolute numbers.
#include "common.hpp"

#include <boost/context/fiber.hpp>
#include <boost/context/pooled_fixedsize_stack.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace ctx = boost::context;

namespace bench {
long items = 1000000;
volatile long sink = 0;
}  // namespace bench

namespace {

using namespace bench;

int repetitions = 5;

// A case whose whole run is timed.
template <void (*RunOnce)()>
double timed() {
  const auto t0 = clock_type::now();
  RunOnce();
  return ns_per_item(t0, clock_type::now());
}

double median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

void report(const char* name, double ns) {
  std::printf("bench %s %.1f\n", name, ns);
  std::fflush(stdout);
}

// A fiber that switches back each time it is resumed.
ctx::fiber echo_fiber() {
  return ctx::fiber(std::allocator_arg, ctx::protected_fixedsize_stack(64 * 1024), [](ctx::fiber&& caller) {
    for (;;) caller = std::move(caller).resume();
    return std::move(caller);
  });
}

void raw_fiber() {
  ctx::fiber f = echo_fiber();
  for (long i = 0; i < items; ++i) f = std::move(f).resume();
  // f is left suspended: its destructor unwinds it
}

// One asio::post hop per item: a handler that posts itself.
void post_hop() {
  struct hop {
    asio::io_context* io;
    long* done;
    void operator()() const {
      if (++*done < items) asio::post(*io, *this);
    }
  };
  asio::io_context io;
  long done = 0;
  asio::post(io, hop{&io, &done});
  io.run();
  sink = done;
}

// The floor of any callback consumer of a fiber: one post hop whose handler also makes one raw
// fiber round trip. A switch costs more here than in raw_fiber's tight loop: its returns cross the
// handler's frames, which the processor mispredicts.
void post_fiber_hop() {
  struct hop {
    asio::io_context* io;
    ctx::fiber* fiber;
    long* done;
    void operator()() const {
      *fiber = std::move(*fiber).resume();
      if (++*done < items) asio::post(*io, *this);
    }
  };
  ctx::fiber f = echo_fiber();
  asio::io_context io;
  long done = 0;
  asio::post(io, hop{&io, &f, &done});
  io.run();
  sink = done;
}

// A raw fiber's whole life, per item: made on a pooled stack, resumed, finished, destroyed.
void lifecycle_raw_pooled() {
  ctx::pooled_fixedsize_stack stacks(64 * 1024);
  long ran = 0;
  for (long i = 0; i < items; ++i) {
    ctx::fiber f(std::allocator_arg, stacks, [&ran](ctx::fiber&& caller) {
      ++ran;
      return std::move(caller);
    });
    f = std::move(f).resume();
  }
  sink = ran;
}

// The floor of closing a generator suspended at a yield: C++ unwinds a stack only by an exception.
// A raw fiber on a pooled stack, per item: made, resumed to its first suspension, unwound there by
// one exception thrown at that point and caught at its entry, finished, destroyed.
struct unwind_request {};
void lifecycle_raw_unwound() {
  ctx::pooled_fixedsize_stack stacks(64 * 1024);
  long unwound = 0;
  for (long i = 0; i < items; ++i) {
    bool closing = false;
    ctx::fiber f(std::allocator_arg, stacks, [&unwound, &closing](ctx::fiber&& caller) {
      try {
        caller = std::move(caller).resume();
        if (closing) throw unwind_request();
      } catch (const unwind_request&) {
        ++unwound;
      }
      return std::move(caller);
    });
    f = std::move(f).resume();
    closing = true;
    f = std::move(f).resume();
  }
  sink = unwound;
}

// A generator's whole life, per item: made, its first item taken, closed, destroyed; with the default
// stack policy and the context's bookkeeping of started generators.
void lifecycle_default() {
  asio::io_context io;
  auto outer = ag::make_async_generator<long>(io, [&io](ag::context<long> co) {
    long sum = 0;
    for (long i = 0; i < items; ++i) {
      auto g = counter(io, 2);
      sum += g.anext(co);
      g.aclose(co);
    }
    ag::yield_(co, sum);
  });
  outer.anext([](std::exception_ptr, long v) { sink = v; });
  io.run();
}

// A callback consumer, as an Asio composed operation is: the handler asks for the next item and, if
// `Continuation`, says it continues the handler before it (asio_handler_is_continuation, as Asio's
// composed operations, async_read's for one, say of their intermediate handlers); otherwise it
// answers as a plain function object does, which Asio treats as a new chain at each step.
template <bool Continuation>
struct next_item {
  ag::async_generator<long>* gen;
  long* sum;
  void operator()(std::exception_ptr e, long v) const {
    if (e) return;
    *sum += v;
    gen->anext(*this);
  }
  friend bool asio_handler_is_continuation(next_item*) { return Continuation; }
};

template <class Consumer>
void anext_callback() {
  asio::io_context io;
  auto gen = counter(io, items);
  long sum = 0;
  gen.anext(Consumer{&gen, &sum});
  io.run();
  sink = sum;
}

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
void spawn_post() {
  asio::io_context io;
  asio::spawn(io, [](asio::yield_context yield) {
    for (long i = 0; i < items; ++i) asio::post(yield);
  }, asio::detached);
  io.run();
}

void spawn_channel() {
  asio::io_context io;
  asio::experimental::channel<void(ag::error_code, long)> ch(io, 0);
  asio::spawn(io, [&](asio::yield_context yield) {
    for (long i = 0; i < items; ++i) ch.async_send(ag::error_code(), i, yield);
    ch.close();
  }, asio::detached);
  asio::spawn(io, [&](asio::yield_context yield) {
    long sum = 0;
    for (long i = 0; i < items; ++i) sum += ch.async_receive(yield);
    sink = sum;
  }, asio::detached);
  io.run();
}

void anext_spawn() {
  asio::io_context io;
  auto gen = counter(io, items);
  asio::spawn(io, [&](asio::yield_context yield) {
    long sum = 0;
    for (long i = 0; i < items; ++i) sum += gen.anext(yield);
    sink = sum;
  }, asio::detached);
  io.run();
}
#endif

#if ASYNC_GENERATOR_HAS_CO_AWAIT
// A C++20 coroutine consuming a generator through asio::use_awaitable.
void anext_awaitable() {
  asio::io_context io;
  auto gen = counter(io, items);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    long sum = 0;
    for (long i = 0; i < items; ++i) sum += co_await gen.anext(asio::use_awaitable);
    sink = sum;
  }, asio::detached);
  io.run();
}

// The same generator as an asio::experimental::coro, consumed by the same kind of coroutine
// through async_resume(use_awaitable).
asio::experimental::coro<long> coro_counter(asio::any_io_executor, long n) {
  for (long i = 0; i < n; ++i) co_yield i;
}
void coro20() {
  asio::io_context io;
  auto gen = coro_counter(io.get_executor(), items);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    long sum = 0;
    for (long i = 0; i < items; ++i) sum += *co_await gen.async_resume(asio::use_awaitable);
    sink = sum;
  }, asio::detached);
  io.run();
}
#endif

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> only;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--items") == 0 && i + 1 < argc) {
      items = std::atol(argv[++i]);
    } else if (std::strcmp(argv[i], "--repetitions") == 0 && i + 1 < argc) {
      repetitions = std::atoi(argv[++i]);
    } else {
      only.push_back(argv[i]);
    }
  }
  struct bench_case {
    const char* name;
    double (*run_once)();  // ns per item
    std::vector<double> samples;
  };
  std::vector<bench_case> cases;
  auto add = [&](const char* name, double (*fn)()) {
    if (only.empty() || std::find(only.begin(), only.end(), name) != only.end()) cases.push_back({name, fn, {}});
  };
  add("raw_fiber", timed<raw_fiber>);
  add("post_hop", timed<post_hop>);
  add("post_fiber_hop", timed<post_fiber_hop>);
#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
  add("spawn_post", timed<spawn_post>);
  add("spawn_channel", timed<spawn_channel>);
  add("await_post", await_post);
  add("anext_spawn", timed<anext_spawn>);
#endif
  add("anext_fiber", [] { return yield_from_fiber(0); });
  add("anext_callback", timed<anext_callback<next_item<true>>>);
  add("anext_callback_plain", timed<anext_callback<next_item<false>>>);
#if ASYNC_GENERATOR_HAS_CO_AWAIT
  add("coro20", timed<coro20>);
  add("anext_awaitable", timed<anext_awaitable>);
#endif
  add("lifecycle_raw_pooled", timed<lifecycle_raw_pooled>);
  add("lifecycle_raw_unwound", timed<lifecycle_raw_unwound>);
  add("lifecycle_default", timed<lifecycle_default>);
  add("yield_from_depth_1", [] { return yield_from_fiber(1); });
  add("yield_from_depth_4", [] { return yield_from_fiber(4); });
  add("yield_from_depth_16", [] { return yield_from_fiber(16); });
  add("yield_from_depth_64", [] { return yield_from_fiber(64); });
  add("yield_from_depth_1000", [] { return yield_from_fiber(1000); });
  add("yield_from_depth_10000", [] { return yield_from_fiber(10000); });
  add("yield_from_build_10000_per_level", [] { return yield_from_build_per_level(10000); });
  add("yield_from_close_10000_per_level", [] { return yield_from_close_per_level(10000); });
  add("yield_from_depth_1_callback", [] { return yield_from_callbacks(1); });
  add("yield_from_depth_1000_callback", [] { return yield_from_callbacks(1000); });
  add("yield_from_depth_10000_callback", [] { return yield_from_callbacks(10000); });
#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
  add("yield_from_depth_1_spawn", [] { return yield_from_spawn(1); });
  add("yield_from_depth_1000_spawn", [] { return yield_from_spawn(1000); });
  add("yield_from_depth_10000_spawn", [] { return yield_from_spawn(10000); });
#endif
#if ASYNC_GENERATOR_HAS_CO_AWAIT
  add("yield_from_depth_1_awaitable", [] { return yield_from_awaitable(1); });
  add("yield_from_depth_1000_awaitable", [] { return yield_from_awaitable(1000); });
  add("yield_from_depth_10000_awaitable", [] { return yield_from_awaitable(10000); });
#endif
  for (int r = 0; r < repetitions; ++r) {
    for (auto& c : cases) c.samples.push_back(c.run_once());
  }
  for (const auto& c : cases) report(c.name, median(c.samples));
  return 0;
}
