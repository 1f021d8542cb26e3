// async_generator.hpp, continued: the operations with every kind of completion token, and the
// rules every Asio asynchronous operation follows.
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using responder_type = ag::async_generator<int, int, std::string>;

// Yields 1; answers a sent v with 10 * v; answers an athrow of std::out_of_range with -1; then
// returns "done".
template <class ExecutorOrContext>
responder_type responder(ExecutorOrContext&& ex) {
  return ag::make_async_generator<int, int, std::string>(ex, [](ag::context<int, int> co) -> std::string {
    ag::compat::optional<int> v = ag::yield_(co, 1);
    try {
      ag::yield_(co, v ? 10 * *v : 0);
    } catch (const std::out_of_range&) {
      ag::yield_(co, -1);
    }
    return "done";
  });
}

// The return value of the stop_async_iteration that `end` throws ("no stop" when it throws none).
template <class Fn>
std::string stop_thrown_by(Fn&& end) {
  try {
    end();
  } catch (const ag::stop_async_iteration& e) {
    return e.has_value() ? e.value<std::string>() : "no value";
  }
  return "no stop";
}

// Drops the only handle on its own generator (held in `slot`), then, if `await_first`, awaits a
// post, then yields 1 and 2: the generator must live on until the operation completes, as a
// running Python generator does, and be finalized then.
ag::async_generator<int> dropping_itself(asio::io_context& io, ag::async_generator<int>& slot, bool await_first) {
  return ag::make_async_generator<int>(io, [&slot, await_first](ag::context<int> co) {
    lifetime alive;
    slot = ag::async_generator<int>();
    if (await_first) asio::post(co);
    ag::yield_(co, 1);
    ag::yield_(co, 2);
  });
}

}  // namespace

// --- Completion tokens -----------------------------------------------------------------------

TEST_CASE("anext, asend, athrow and aclose complete through plain callbacks") {
  asio::io_context io;
  auto g = responder(io);
  std::vector<std::string> log;
  g.anext([&](std::exception_ptr e, int v) {
    log.push_back("anext " + std::to_string(v) + (e ? " error" : ""));
    g.asend(4, [&](std::exception_ptr e2, int v2) {
      log.push_back("asend " + std::to_string(v2) + (e2 ? " error" : ""));
      g.athrow(std::make_exception_ptr(std::out_of_range("x")), [&](std::exception_ptr e3, int v3) {
        log.push_back("athrow " + std::to_string(v3) + (e3 ? " error" : ""));
        g.aclose([&](std::exception_ptr e4) { log.push_back(e4 ? "aclose error" : "aclose"); });
      });
    });
  });
  io.run();
  CHECK(log == std::vector<std::string>{"anext 1", "asend 40", "athrow -1", "aclose"});
}

TEST_CASE("a body that drops the last handle on its generator during a callback's anext yields, then is finalized") {
  for (bool await_first : {false, true}) {
    CAPTURE(await_first);
    asio::io_context io;
    ag::async_generator<int> g;
    g = dropping_itself(io, g, await_first);
    std::vector<std::string> log;
    g.anext([&](std::exception_ptr e, int v) { log.push_back(e ? "error" : std::to_string(v)); });
    io.run();
    CHECK(log == std::vector<std::string>{"1"});
    CHECK_FALSE(g.frame());
    CHECK(lifetime::live() == 0);  // closed at its yield once the operation was over
  }
}

TEST_CASE("a body that drops the last handle on its generator during anext from another body yields, then is finalized") {
  for (bool await_first : {false, true}) {
    CAPTURE(await_first);
    asio::io_context io;
    ag::async_generator<int> g;
    g = dropping_itself(io, g, await_first);
    auto consumer = ag::make_async_generator<int>(io, [&g](ag::context<int> co) { ag::yield_(co, g.anext(co)); });
    CHECK(anext(io, consumer).value == 1);
    CHECK(lifetime::live() == 0);
  }
}

TEST_CASE("the operations work with asio::use_future while the io_context runs on another thread") {
  io_thread runner;
  auto g = responder(runner.io);
  CHECK(g.anext(asio::use_future).get() == 1);
  CHECK(g.asend(4, asio::use_future).get() == 40);
  CHECK(g.athrow(std::make_exception_ptr(std::out_of_range("x")), asio::use_future).get() == -1);
  std::future<int> end = g.anext(asio::use_future);
  CHECK(stop_thrown_by([&] { end.get(); }) == "done");
  CHECK_NOTHROW(g.aclose(asio::use_future).get());
  std::future<int> after = g.anext(asio::use_future);
  CHECK(stop_thrown_by([&] { after.get(); }) == "no value");
}

TEST_CASE("asio::use_future delivers a body's error and aclose's error through the future") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) {
    try {
      ag::yield_(co, 1);
    } catch (const ag::generator_exit&) {
      ag::yield_(co, 2);
    }
  });
  std::future<int> first = g.anext(asio::use_future);
  io.run();
  CHECK(first.get() == 1);
  std::future<void> closed = g.aclose(asio::use_future);
  io.restart();
  io.run();
  CHECK_THROWS_WITH_AS(closed.get(), "async generator ignored GeneratorExit", ag::runtime_error);
}

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
TEST_CASE("the operations work with asio::yield_context inside asio::spawn") {
  asio::io_context io;
  auto g = responder(io);
  run_spawned(io, [&](asio::yield_context yield) {
    CHECK(g.anext(yield) == 1);
    CHECK(g.asend(4, yield) == 40);
    CHECK(g.athrow(std::make_exception_ptr(std::out_of_range("x")), yield) == -1);
    CHECK(stop_thrown_by([&] { g.anext(yield); }) == "done");
    g.aclose(yield);
    CHECK(stop_thrown_by([&] { g.asend(5, yield); }) == "no value");
  });
}

TEST_CASE("a body that drops the last handle on its generator during anext from asio::spawn yields, then is finalized") {
  for (bool await_first : {false, true}) {
    CAPTURE(await_first);
    asio::io_context io;
    ag::async_generator<int> g;
    g = dropping_itself(io, g, await_first);
    int first = 0;
    run_spawned(io, [&](asio::yield_context yield) { first = g.anext(yield); });
    CHECK(first == 1);
    CHECK(lifetime::live() == 0);
  }
}

// A generator that awaits a timer before each yield and in its cleanup, on `ex`.
template <class Executor>
ag::async_generator<int, int> awaiting_responder(const Executor& ex, std::vector<std::string>& log) {
  return ag::make_async_generator<int, int>(ex, [&log](ag::context<int, int> co) {
    asio::steady_timer timer(co.get_executor());
    int sent = 1;
    try {
      for (;;) {
        timer.expires_after(std::chrono::milliseconds(1));
        timer.async_wait(co);
        auto s = ag::yield_(co, sent);
        sent = s ? *s * 10 : sent + 1;
      }
    } catch (const ag::generator_exit&) {
      timer.expires_after(std::chrono::milliseconds(1));
      timer.async_wait(co);
      log.push_back("cleanup awaited");
      throw;
    }
  });
}

TEST_CASE("from asio::spawn, a generator on the coroutine's executor that awaits suspends the coroutine until it yields") {
  asio::io_context io;
  std::vector<std::string> log;
  auto g = awaiting_responder(io.get_executor(), log);
  run_spawned(io, [&](asio::yield_context yield) {
    CHECK(g.anext(yield) == 1);
    CHECK(g.asend(4, yield) == 40);
    CHECK(g.anext(yield) == 41);
    g.aclose(yield);
  });
  CHECK(log == std::vector<std::string>{"cleanup awaited"});
}

TEST_CASE("from asio::spawn, a generator on another io_context's thread is driven through a handler") {
  io_thread other;
  asio::io_context io;
  std::vector<std::string> log;
  auto g = awaiting_responder(other.io.get_executor(), log);
  run_spawned(io, [&](asio::yield_context yield) {
    CHECK(g.anext(yield) == 1);
    CHECK(g.asend(4, yield) == 40);
    g.aclose(yield);
  });
  CHECK(log == std::vector<std::string>{"cleanup awaited"});
}

TEST_CASE("asio::yield_context rethrows a body's error in the spawned coroutine") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [](ag::context<int>) { throw std::out_of_range("body failed"); });
  std::string caught;
  run_spawned(io, [&](asio::yield_context yield) {
    try {
      g.anext(yield);
    } catch (const std::out_of_range& e) {
      caught = e.what();
    }
  });
  CHECK(caught == "body failed");
}
#endif

#if ASYNC_GENERATOR_HAS_CO_AWAIT
namespace {
asio::awaitable<void> use_responder(responder_type& g, std::vector<std::string>& log) {
  log.push_back(std::to_string(co_await g.anext(asio::use_awaitable)));
  log.push_back(std::to_string(co_await g.asend(4, asio::use_awaitable)));
  log.push_back(std::to_string(co_await g.athrow(std::make_exception_ptr(std::out_of_range("x")), asio::use_awaitable)));
  try {
    co_await g.anext(asio::use_awaitable);
  } catch (const ag::stop_async_iteration& e) {
    log.push_back(e.has_value() ? e.value<std::string>() : "no value");
  }
  co_await g.aclose(asio::use_awaitable);
  log.push_back("closed");
}
}  // namespace

TEST_CASE("the operations work with asio::use_awaitable inside asio::co_spawn") {
  asio::io_context io;
  auto g = responder(io);
  std::vector<std::string> log;
  std::exception_ptr error;
  asio::co_spawn(io, use_responder(g, log), [&](std::exception_ptr e) { error = e; });
  io.run();
  CHECK_FALSE(error);
  CHECK(log == std::vector<std::string>{"1", "40", "-1", "done", "closed"});
}
#endif

#if ASYNC_GENERATOR_HAS_DEFERRED
TEST_CASE("with asio::deferred an operation starts only when the deferred operation is invoked") {
  asio::io_context io;
  bool started = false;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    started = true;
    ag::yield_(co, 1);
  });
  auto op = g.anext(asio::deferred);
  io.run();
  CHECK_FALSE(started);
  int got = 0;
  std::move(op)([&](std::exception_ptr e, int v) {
    CHECK_FALSE(e);
    got = v;
  });
  io.restart();
  io.run();
  CHECK(started);
  CHECK(got == 1);
}

TEST_CASE("a deferred operation can be completed with another token, such as asio::use_future") {
  asio::io_context io;
  auto g = responder(io);
  std::future<int> first = g.anext(asio::deferred)(asio::use_future);
  io.run();
  CHECK(first.get() == 1);
  std::future<void> closed = g.aclose(asio::deferred)(asio::use_future);
  io.restart();
  io.run();
  CHECK_NOTHROW(closed.get());
}
#endif

// --- What newer Asio versions add ----------------------------------------------------------------

namespace {
// Whether the operations can be called without a token (`Asio's default_completion_token_t`).
template <class G, class = void>
struct callable_without_token : std::false_type {};
template <class G>
struct callable_without_token<G, ag::detail::void_t<decltype(std::declval<G&>().anext())>> : std::true_type {};
}  // namespace

#if ASYNC_GENERATOR_HAS_DEFERRED_BY_DEFAULT
TEST_CASE("an operation called without a token returns a deferred operation, as Asio's own operations do") {
  CHECK(callable_without_token<ag::async_generator<int>>::value);
  asio::io_context io;
  bool started = false;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    started = true;
    ag::yield_(co, 1);
  });
  auto op = g.anext();
  CHECK(asio::is_async_operation<decltype(op)>::value);
  io.run();
  CHECK_FALSE(started);
  std::future<int> first = std::move(op)(asio::use_future);
  io.restart();
  io.run();
  CHECK(first.get() == 1);
  std::future<void> closed = g.aclose()(asio::use_future);
  io.restart();
  io.run();
  CHECK_NOTHROW(closed.get());
}

#if ASYNC_GENERATOR_HAS_CO_AWAIT
TEST_CASE("co_await gen.anext() without a token works in an awaitable, as co_await timer.async_wait() does") {
  asio::io_context io;
  auto g = responder(io);
  std::vector<std::string> log;
  std::exception_ptr error;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        log.push_back(std::to_string(co_await g.anext()));
        log.push_back(std::to_string(co_await g.asend(4)));
        log.push_back(std::to_string(co_await g.athrow(std::make_exception_ptr(std::out_of_range("x")))));
        try {
          co_await g.anext();
        } catch (const ag::stop_async_iteration& e) {
          log.push_back(e.value<std::string>());
        }
        co_await g.aclose();
        log.push_back("closed");
      },
      [&](std::exception_ptr e) { error = e; });
  io.run();
  CHECK_FALSE(error);
  CHECK(log == std::vector<std::string>{"1", "40", "-1", "done", "closed"});
}
#endif
#else
TEST_CASE("before Asio 1.31, an operation called without a token does not compile, as Asio's own operations") {
  CHECK_FALSE(callable_without_token<ag::async_generator<int>>::value);
}
#endif

#if ASYNC_GENERATOR_HAS_ANY_COMPLETION_HANDLER
TEST_CASE("an asio::any_completion_handler is a handler like any other, its associated executor kept") {
  asio::io_context io;
  auto strand = asio::make_strand(io);
  auto g = responder(io);
  std::vector<std::string> log;
  asio::any_completion_handler<void(std::exception_ptr, int)> next =
      asio::bind_executor(strand, [&](std::exception_ptr e, int v) {
        log.push_back(std::to_string(v) + (e ? " error" : "") + (strand.running_in_this_thread() ? " on the strand" : ""));
      });
  g.anext(std::move(next));
  io.run();
  asio::any_completion_handler<void(std::exception_ptr)> closed = [&](std::exception_ptr e) {
    log.push_back(e ? "close error" : "closed");
  };
  g.aclose(std::move(closed));
  io.restart();
  io.run();
  CHECK(log == std::vector<std::string>{"1 on the strand", "closed"});
}
#endif

// --- Asio's rules for asynchronous operations -------------------------------------------------

namespace {

// Starts an operation, through `start(notify)`, from inside a handler running on `io` (where a
// dispatch would run inline), and checks its handler runs only after the initiating call returned.
template <class Start>
void check_completes_after_initiation(asio::io_context& io, Start start) {
  bool returned = false;
  bool ran = false;
  bool ran_after_return = false;
  asio::post(io, [&] {
    start([&] {
      ran = true;
      ran_after_return = returned;
    });
    returned = true;
  });
  io.restart();
  io.run();
  CHECK(ran);
  CHECK(ran_after_return);
}

}  // namespace

TEST_CASE("the handler is never invoked inside the initiating function") {
  asio::io_context io;
  SUBCASE("anext on a generator that yields at once") {
    auto g = async_range(io, 1);
    check_completes_after_initiation(io, [&](auto notify) { g.anext([notify](std::exception_ptr, int) { notify(); }); });
  }
  SUBCASE("aclose on an unstarted generator") {
    auto g = async_range(io, 1);
    check_completes_after_initiation(io, [&](auto notify) { g.aclose([notify](std::exception_ptr) { notify(); }); });
  }
  SUBCASE("asend and athrow on an unstarted generator") {
    auto g = responder(io);
    check_completes_after_initiation(io, [&](auto notify) { g.asend(1, [notify](std::exception_ptr, int) { notify(); }); });
    check_completes_after_initiation(io, [&](auto notify) {
      g.athrow(std::make_exception_ptr(std::out_of_range("x")), [notify](std::exception_ptr, int) { notify(); });
    });
  }
  SUBCASE("anext on an exhausted generator") {
    auto g = async_range(io, 0);
    collect(io, g);
    check_completes_after_initiation(io, [&](auto notify) { g.anext([notify](std::exception_ptr, int) { notify(); }); });
  }
  SUBCASE("anext on an empty (default-constructed) generator") {
    ag::async_generator<int> g;
    check_completes_after_initiation(io, [&](auto notify) {
      g.anext(asio::bind_executor(io, [notify](std::exception_ptr, int) { notify(); }));
    });
  }
  SUBCASE("anext on a generator that is already running") {
    asio::steady_timer gate(io, std::chrono::hours(1));
    auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
      ag::error_code ec;
      gate.async_wait(co[ec]);
    });
    bool first_done = false;
    g.anext([&](std::exception_ptr, int) { first_done = true; });
    io.poll();
    REQUIRE(g.ag_running());
    check_completes_after_initiation(io, [&](auto notify) {
      g.anext([notify](std::exception_ptr, int) { notify(); });
      gate.cancel();
    });
    CHECK(first_done);
  }
}

// Records its completion; says it continues the handler that started it when `Continuation`.
template <bool Continuation>
struct recording_handler {
  std::vector<std::string>* order;
  void operator()(std::exception_ptr, int) const { order->push_back("completion"); }
  friend bool asio_handler_is_continuation(recording_handler*) { return Continuation; }
};

// The order in which an anext started from a running handler completes, relative to a post made
// just after it by the same handler.
template <bool Continuation>
std::vector<std::string> completion_order() {
  asio::io_context io;
  auto g = async_range(io, 1);
  std::vector<std::string> order;
  asio::post(io, [&] {
    g.anext(recording_handler<Continuation>{&order});
    asio::post(io, [&] { order.push_back("posted after"); });
  });
  io.run();
  return order;
}

TEST_CASE("a handler that says it continues the running one is deferred, as Asio's own operations defer it") {
  // Asio's io_context keeps deferred work in the running thread's queue until the handler returns.
  CHECK(completion_order<true>() == std::vector<std::string>{"posted after", "completion"});
  CHECK(completion_order<false>() == std::vector<std::string>{"completion", "posted after"});
}

TEST_CASE("an operation on an empty generator completes with empty_generator_error") {
  asio::io_context io;
  ag::async_generator<int> g;
  CHECK_FALSE(g);
  CHECK_THROWS_AS(g.get_executor(), ag::empty_generator_error);
  std::exception_ptr error;
  g.aclose(asio::bind_executor(io, [&](std::exception_ptr e) { error = e; }));
  io.run();
  CHECK(message_of<ag::empty_generator_error>(error) ==
        "operation on an empty async_generator (default-constructed or moved from)");
}

TEST_CASE("the handler runs on its associated executor") {
  asio::io_context io;
  SUBCASE("a strand bound with bind_executor") {
    auto strand = asio::make_strand(io);
    auto g = async_range(io, 1);
    bool on_strand = false;
    g.anext(asio::bind_executor(strand, [&](std::exception_ptr, int) { on_strand = strand.running_in_this_thread(); }));
    io.run();
    CHECK(on_strand);
  }
  SUBCASE("a second io_context's executor") {
    asio::io_context second;
    auto g = async_range(io, 1);
    bool on_second = false;
    g.anext(asio::bind_executor(second, [&](std::exception_ptr, int) {
      on_second = second.get_executor().running_in_this_thread();
    }));
    io.run();
    CHECK_FALSE(on_second);
    second.run();
    CHECK(on_second);
  }
  SUBCASE("by default, the generator's executor") {
    auto strand = asio::make_strand(io);
    auto g = ag::make_async_generator<int>(strand, [](ag::context<int> co) { ag::yield_(co, 1); });
    bool on_strand = false;
    g.anext([&](std::exception_ptr, int) { on_strand = strand.running_in_this_thread(); });
    io.run();
    CHECK(on_strand);
  }
}

TEST_CASE("io_context::run does not return while an operation whose handler it runs is pending") {
  SUBCASE("the generator runs on another thread's io_context") {
    asio::io_context io;
    io_thread other;
    auto g = ag::make_async_generator<int>(other.io, [](ag::context<int> co) {
      asio::steady_timer timer(co.get_executor(), std::chrono::milliseconds(2));
      timer.async_wait(co);
    });
    bool ended = false;
    g.anext(asio::bind_executor(io, [&](std::exception_ptr e, int) { ended = is_stop(e); }));
    io.run();
    CHECK(ended);
  }
  SUBCASE("the body awaits a timer of another thread's io_context") {
    io_thread other;  // outlives io: the generator, dropped suspended, is unwound when io goes
    asio::io_context io;
    auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
      asio::steady_timer timer(other.io, std::chrono::milliseconds(2));
      timer.async_wait(co);
      ag::yield_(co, 1);
    });
    int got = 0;
    g.anext([&](std::exception_ptr, int v) { got = v; });
    io.run();
    CHECK(got == 1);
  }
}

TEST_CASE("destroying the io_context of a pending operation destroys it without calling its handler") {
  auto tracked = std::make_shared<int>(0);
  const std::weak_ptr<int> watch = tracked;
  bool called = false;
  SUBCASE("an operation whose body awaits a timer") {
    {
      asio::io_context io;
      {
        auto g = ag::make_async_generator<int>(io, [tracked](ag::context<int> co) {
          lifetime guard;
          asio::steady_timer timer(co.get_executor(), std::chrono::hours(1));
          timer.async_wait(co);
          ag::yield_(co, 1);
        });
        g.anext([tracked, &called](std::exception_ptr, int) { called = true; });
        io.poll();
        REQUIRE(g.ag_running());
        CHECK(lifetime::live() == 1);
      }  // the pending operation keeps the generator alive
      tracked.reset();
      CHECK_FALSE(watch.expired());
    }
    CHECK(lifetime::live() == 0);
  }
  SUBCASE("an operation that never started") {
    {
      asio::io_context io;
      auto g = ag::make_async_generator<int>(io, [tracked](ag::context<int> co) { ag::yield_(co, 1); });
      g.anext([tracked, &called](std::exception_ptr, int) { called = true; });
      g = {};
      tracked.reset();
      CHECK_FALSE(watch.expired());
    }
  }
  CHECK(watch.expired());
  CHECK_FALSE(called);
}
