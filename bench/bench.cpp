// The benchmark program: prints `bench <case> <ns_per_item>`, every case measured in the same run,
// each the median of several repetitions.
#include <async_generator.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/context/fiber.hpp>
#include <boost/context/pooled_fixedsize_stack.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/spawn.hpp>
#endif

#if ASYNC_GENERATOR_HAS_CO_AWAIT
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace ag = async_generator;
namespace asio = boost::asio;
namespace ctx = boost::context;

namespace {

using clock_type = std::chrono::steady_clock;

long items = 1000000;
int repetitions = 5;
volatile long sink = 0;

template <class F>
double measure(F&& run_once) {
  std::vector<double> samples;
  for (int r = 0; r < repetitions; ++r) {
    const auto t0 = clock_type::now();
    run_once();
    const auto t1 = clock_type::now();
    samples.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(items));
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

void report(const char* name, double ns) {
  std::printf("bench %s %.1f\n", name, ns);
  std::fflush(stdout);
}

void raw_fiber() {
  ctx::fiber f(std::allocator_arg, ctx::protected_fixedsize_stack(64 * 1024), [](ctx::fiber&& caller) {
    for (;;) caller = std::move(caller).resume();
    return std::move(caller);
  });
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

ag::async_generator<long> counter(asio::io_context& io, long n) {
  return ag::make_async_generator<long>(io, [n](ag::context<long> co) {
    for (long i = 0; i < n; ++i) ag::yield_(co, i);
  });
}

// A chain of `depth` generators, each delegating to the next with yield_from_ (depth 0: the counter
// itself), consumed from another generator's body.
ag::async_generator<long> delegating(asio::io_context& io, int depth) {
  if (depth == 0) return counter(io, items);
  return ag::make_async_generator<long>(io, [&io, depth](ag::context<long> co) {
    ag::yield_from_(co, delegating(io, depth - 1));
  });
}

template <int Depth>
void consume_from_fiber() {
  asio::io_context io;
  auto outer = ag::make_async_generator<long>(io, [&io](ag::context<long> co) {
    auto chain = delegating(io, Depth);
    long sum = 0;
    for (long i = 0; i < items; ++i) sum += chain.anext(co);
    ag::yield_(co, sum);
  });
  outer.anext([](std::exception_ptr, long v) { sink = v; });
  io.run();
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

// A callback consumer, as an Asio composed operation would be: the handler asks for the next item.
struct next_item {
  ag::async_generator<long>* gen;
  long* sum;
  void operator()(std::exception_ptr e, long v) const {
    if (e) return;
    *sum += v;
    gen->anext(*this);
  }
};

void anext_callback() {
  asio::io_context io;
  auto gen = counter(io, items);
  long sum = 0;
  gen.anext(next_item{&gen, &sum});
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
  asio::experimental::channel<void(boost::system::error_code, long)> ch(io, 0);
  asio::spawn(io, [&](asio::yield_context yield) {
    for (long i = 0; i < items; ++i) ch.async_send(boost::system::error_code(), i, yield);
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
  auto run = [&](const char* name, void (*fn)()) {
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) return;
    report(name, measure(fn));
  };
  run("raw_fiber", raw_fiber);
  run("post_hop", post_hop);
#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
  run("spawn_post", spawn_post);
  run("spawn_channel", spawn_channel);
  run("anext_spawn", anext_spawn);
#endif
  run("anext_fiber", consume_from_fiber<0>);
  run("anext_callback", anext_callback);
#if ASYNC_GENERATOR_HAS_CO_AWAIT
  run("coro20", coro20);
  run("anext_awaitable", anext_awaitable);
#endif
  run("lifecycle_raw_pooled", lifecycle_raw_pooled);
  run("lifecycle_default", lifecycle_default);
  run("yield_from_depth_1", consume_from_fiber<1>);
  run("yield_from_depth_4", consume_from_fiber<4>);
  run("yield_from_depth_16", consume_from_fiber<16>);
  run("yield_from_depth_64", consume_from_fiber<64>);
  return 0;
}
