// Native CPython 3.13 async generator semantics, one behaviour at a time: what each method does
// in each state of the generator, then what CPython 3.10–3.13 do when a generator is already
// running or re-entered, where test_async_generator.cpp does not already cover it.
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// Yields 1, 2, 3, running `on_exit` when generator_exit reaches a yield.
template <class OnExit>
ag::async_generator<int, int> closing(asio::io_context& io, OnExit on_exit) {
  return ag::make_async_generator<int, int>(io, [on_exit](ag::context<int, int> co) {
    try {
      ag::yield_(co, 1);
      ag::yield_(co, 2);
      ag::yield_(co, 3);
    } catch (const ag::generator_exit&) {
      on_exit(co);
    }
  });
}

// Yields 1, then catches an std::out_of_range thrown in and does `then(co)`.
template <class R, class Then>
ag::async_generator<int, void, R> catching(asio::io_context& io, Then then) {
  return ag::make_async_generator<int, void, R>(io, [then](ag::context<int> co) -> R {
    try {
      ag::yield_(co, 1);
    } catch (const std::out_of_range&) {
      return then(co);
    }
    return R();
  });
}

}  // namespace

// --- Method semantics ----------------------------------------------------------------------

TEST_CASE("asend with a value before the first start fails with type_error and leaves the generator usable") {
  asio::io_context io;
  std::vector<std::string> received;
  auto g = ag::make_async_generator<int, int>(io, [&](ag::context<int, int> co) {
    auto v = ag::yield_(co, 1);
    received.push_back(v ? std::to_string(*v) : "None");
  });
  outcome<int> refused = asend(io, g, 5);
  CHECK(message_of<ag::type_error>(refused.error) == "can't send non-None value to a just-started async generator");
  CHECK_FALSE(g.ag_running());
  CHECK(anext(io, g).value == 1);
  CHECK(is_stop(asend(io, g, 6).error));
  CHECK(received == std::vector<std::string>{"6"});
}

TEST_CASE("athrow on a never-started generator completes with that exception, runs no body code and closes it") {
  asio::io_context io;
  bool ran = false;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    ran = true;
    ag::yield_(co, 1);
  });
  const std::exception_ptr thrown = std::make_exception_ptr(std::out_of_range("v"));
  outcome<int> o = complete(io, [&](auto h) { g.athrow(thrown, h); });
  CHECK(o.error == thrown);
  CHECK(is_empty_stop(anext(io, g).error));
  CHECK_FALSE(ran);
}

TEST_CASE("aclose on a never-started generator closes it: a later asend ends iteration and a later athrow is a no-op") {
  // test_aclose_on_unstarted_generator checks the aclose itself and a later anext.
  asio::io_context io;
  auto g = ag::make_async_generator<int, int>(io, [](ag::context<int, int> co) { ag::yield_(co, 1); });
  CHECK_FALSE(aclose(io, g));
  CHECK(is_empty_stop(asend(io, g, 5).error));
  outcome<int> o = athrow(io, g, std::out_of_range("x"));
  CHECK_FALSE(o.error);
  CHECK(o.value == 0);
}

TEST_CASE("a natural end or a return without value raises an empty stop_async_iteration, and so does every later anext or asend") {
  asio::io_context io;
  auto g = ag::make_async_generator<int, int>(io, [](ag::context<int, int> co) {
    ag::yield_(co, 1);
    return;  // NOLINT(readability-redundant-control-flow): Python's bare `return`
  });
  CHECK(anext(io, g).value == 1);
  CHECK(is_empty_stop(anext(io, g).error));
  CHECK(is_empty_stop(anext(io, g).error));
  CHECK(is_empty_stop(asend(io, g, 2).error));
  CHECK(is_empty_stop(anext(io, g).error));
}

TEST_CASE("athrow on an exhausted or closed generator completes with no error and a value-initialised value") {
  asio::io_context io;
  auto exhausted = async_range(io, 1);
  collect(io, exhausted);
  outcome<int> o = athrow(io, exhausted, std::out_of_range("x"));
  CHECK_FALSE(o.error);
  CHECK(o.value == 0);

  auto closed = async_range(io, 3);
  anext(io, closed);
  CHECK_FALSE(aclose(io, closed));
  o = athrow(io, closed, std::out_of_range("x"));
  CHECK_FALSE(o.error);
  CHECK(o.value == 0);
}

TEST_CASE("aclose on a closed generator, a second time, or after the body raised, completes without error") {
  // test_aclose_on_finished_generator checks an exhausted generator.
  asio::io_context io;
  auto closed = async_range(io, 3);
  anext(io, closed);
  CHECK_FALSE(aclose(io, closed));
  CHECK_FALSE(aclose(io, closed));
  CHECK_FALSE(aclose(io, closed));

  auto failed = ag::make_async_generator<int>(io, [](ag::context<int>) { throw std::out_of_range("body"); });
  CHECK(message_of<std::out_of_range>(anext(io, failed).error) == "body");
  CHECK_FALSE(aclose(io, failed));
}

TEST_CASE("a body raising stop_async_iteration fails with runtime_error 'async generator raised StopAsyncIteration' caused by it") {
  // CPython does the same for StopIteration ("...raised StopIteration"); C++ has no StopIteration,
  // so that half does not apply. test_throw_StopIteration_or_StopAsyncIteration checks one thrown
  // in by athrow; this one is raised by the body itself.
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) {
    ag::yield_(co, 1);
    throw ag::stop_async_iteration(std::string("inner"));
  });
  CHECK(anext(io, g).value == 1);
  outcome<int> o = anext(io, g);
  REQUIRE(message_of<ag::runtime_error>(o.error) == "async generator raised StopAsyncIteration");
  try {
    std::rethrow_exception(o.error);
  } catch (const ag::runtime_error& e) {
    CHECK(stop_value_of<std::string>(e.cause()) == "inner");
  }
  CHECK(is_empty_stop(anext(io, g).error));
}

TEST_CASE("a body raising E fails the operation with E, and the generator is finished afterwards") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) {
    ag::yield_(co, 1);
    throw std::out_of_range("boom");
  });
  CHECK(anext(io, g).value == 1);
  CHECK(message_of<std::out_of_range>(anext(io, g).error) == "boom");
  CHECK(is_empty_stop(anext(io, g).error));
}

TEST_CASE("athrow that the body catches, followed by a yield, completes with the yielded value and the body goes on") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) {
    try {
      ag::yield_(co, 1);
    } catch (const std::out_of_range& e) {
      ag::yield_(co, std::string(e.what()) == "caught" ? 2 : -2);
    }
    ag::yield_(co, 3);
  });
  CHECK(anext(io, g).value == 1);
  outcome<int> o = athrow(io, g, std::out_of_range("caught"));
  CHECK_FALSE(o.error);
  CHECK(o.value == 2);
  CHECK(anext(io, g).value == 3);
  CHECK(is_stop(anext(io, g).error));
}

TEST_CASE("athrow that the body catches, followed by a return, completes with stop_async_iteration") {
  asio::io_context io;
  auto falls_off = catching<void>(io, [](ag::context<int>) {});
  CHECK(anext(io, falls_off).value == 1);
  CHECK(is_empty_stop(athrow(io, falls_off, std::out_of_range("x")).error));
  CHECK(is_empty_stop(anext(io, falls_off).error));

  // With a return value (the async_generator package's extension), the stop carries it.
  auto returns = catching<std::string>(io, [](ag::context<int>) { return std::string("after athrow"); });
  CHECK(anext(io, returns).value == 1);
  CHECK(stop_value_of<std::string>(athrow(io, returns, std::out_of_range("x")).error) == "after athrow");
}

TEST_CASE("athrow that the body does not catch completes with that very exception and finishes the generator") {
  asio::io_context io;
  auto g = async_range(io, 3);
  CHECK(anext(io, g).value == 0);
  const std::exception_ptr thrown = std::make_exception_ptr(std::invalid_argument("not caught"));
  outcome<int> o = complete(io, [&](auto h) { g.athrow(thrown, h); });
  CHECK(o.error == thrown);
  CHECK(is_empty_stop(anext(io, g).error));
}

TEST_CASE("athrow of generator_exit at a plain yield propagates it, ends iteration if caught and returned, yields if caught and yielded") {
  asio::io_context io;
  const std::exception_ptr exit = std::make_exception_ptr(ag::generator_exit());
  SUBCASE("not caught: generator_exit comes out of athrow") {
    auto g = async_range(io, 3);
    anext(io, g);
    outcome<int> o = complete(io, [&](auto h) { g.athrow(exit, h); });
    CHECK(o.error == exit);
    CHECK(is_stop(anext(io, g).error));
  }
  SUBCASE("caught, then the body returns: stop_async_iteration") {
    auto g = closing(io, [](ag::context<int, int>) {});
    anext(io, g);
    CHECK(is_empty_stop(complete(io, [&](auto h) { g.athrow(exit, h); }).error));
  }
  SUBCASE("caught, then the body yields: the yielded value, no error (only aclose turns a yield into an error)") {
    auto g = closing(io, [](ag::context<int, int> co) { ag::yield_(co, 5); });
    anext(io, g);
    outcome<int> o = complete(io, [&](auto h) { g.athrow(exit, h); });
    CHECK_FALSE(o.error);
    CHECK(o.value == 5);
  }
}

namespace {
// Yields 1; closed there, it records that and yields 2; then yields 3.
ag::async_generator<int> yields_again_when_closed(asio::io_context& io, std::vector<std::string>& events) {
  return ag::make_async_generator<int>(io, [&events](ag::context<int> co) {
    try {
      ag::yield_(co, 1);
    } catch (const ag::generator_exit&) {
      events.push_back("caught generator_exit");
      ag::yield_(co, 2);
    }
    ag::yield_(co, 3);
  });
}
}  // namespace

TEST_CASE("aclose where the body yields after generator_exit fails with 'async generator ignored GeneratorExit', leaving it at that yield") {
  // test_aclose_yielding checks the message and a second aclose; Python 3.13 also resumes the body
  // from the offending yield on the next anext.
  asio::io_context io;
  std::vector<std::string> events;
  auto g = yields_again_when_closed(io, events);
  CHECK(anext(io, g).value == 1);
  CHECK(message_of<ag::runtime_error>(aclose(io, g)) == "async generator ignored GeneratorExit");
  CHECK(anext(io, g).value == 3);
  CHECK(is_stop(anext(io, g).error));
}

TEST_CASE("after an aclose that failed because the body yielded, a second aclose is a no-op and anext resumes the body") {
  asio::io_context io;
  std::vector<std::string> events;
  auto g = yields_again_when_closed(io, events);
  CHECK(anext(io, g).value == 1);
  CHECK(message_of<ag::runtime_error>(aclose(io, g)) == "async generator ignored GeneratorExit");
  CHECK_FALSE(aclose(io, g));
  CHECK(events == std::vector<std::string>{"caught generator_exit"});
  CHECK(anext(io, g).value == 3);
}

TEST_CASE("after an aclose that failed because the body yielded, athrow raises an empty stop_async_iteration, as CPython's ag_closed does") {
  asio::io_context io;
  std::vector<std::string> events;
  auto g = yields_again_when_closed(io, events);
  CHECK(anext(io, g).value == 1);
  CHECK(message_of<ag::runtime_error>(aclose(io, g)) == "async generator ignored GeneratorExit");
  CHECK(is_empty_stop(athrow(io, g, std::out_of_range("e")).error));
  CHECK(anext(io, g).value == 3);
}

TEST_CASE("a generator dropped after a failed aclose is closed synchronously, without the finalizer or a scheduled close") {
  asio::io_context io;
  unraisable_log log;
  int finalizer_calls = 0;
  ag::set_asyncgen_hooks(ag::keep, [&](ag::generator_ref) { ++finalizer_calls; });
  {
    auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) {
      for (;;) {
        try {
          ag::yield_(co, 1);
        } catch (const ag::generator_exit&) {
        }
      }
    });
    CHECK(anext(io, g).value == 1);
    CHECK(message_of<ag::runtime_error>(aclose(io, g)) == "async generator ignored GeneratorExit");
  }
  ag::set_asyncgen_hooks(ag::keep, ag::asyncgen_hook());
  CHECK(finalizer_calls == 0);
  CHECK(log.entries == std::vector<std::string>{"RuntimeError: async generator ignored GeneratorExit"});
  io.restart();
  CHECK(io.poll() == 0);  // nothing was scheduled
}

TEST_CASE("athrow of stop_async_iteration on a never-started generator raises runtime_error from it, as PEP 479 does in a body") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) { ag::yield_(co, 1); });
  const std::exception_ptr thrown = std::make_exception_ptr(ag::stop_async_iteration());
  outcome<int> o = complete(io, [&](auto h) { g.athrow(thrown, h); });
  CHECK(message_of<ag::runtime_error>(o.error) == "async generator raised StopAsyncIteration");
  CHECK(ag::cause_of(o.error) == thrown);
  CHECK(is_empty_stop(anext(io, g).error));
}

TEST_CASE("aclose where the body awaits in its cleanup runs those awaits on the executor and then completes") {
  asio::io_context io;
  asio::steady_timer gate(io, std::chrono::hours(1));
  std::vector<std::string> events;
  auto g = closing(io, [&](ag::context<int, int> co) {
    events.push_back("cleanup");
    ag::error_code ec;
    gate.async_wait(co[ec]);
    events.push_back("gate");
    asio::post(co);
    events.push_back("post");
  });
  CHECK(anext(io, g).value == 1);
  g.aclose([&](std::exception_ptr e) { events.push_back(e ? "aclose failed" : "aclose"); });
  io.restart();
  io.poll();
  CHECK(g.ag_running());
  CHECK(events == std::vector<std::string>{"cleanup"});
  gate.cancel();
  io.run();
  CHECK(events == std::vector<std::string>{"cleanup", "gate", "post", "aclose"});
  CHECK(is_empty_stop(anext(io, g).error));
}

TEST_CASE("aclose where the cleanup raises E fails with E, and the generator is finished") {
  asio::io_context io;
  auto g = closing(io, [](ag::context<int, int>) { throw std::out_of_range("cleanup raised"); });
  CHECK(anext(io, g).value == 1);
  CHECK(message_of<std::out_of_range>(aclose(io, g)) == "cleanup raised");
  CHECK(is_empty_stop(anext(io, g).error));
  CHECK_FALSE(aclose(io, g));
}

TEST_CASE("aclose where the body catches generator_exit and returns completes without error") {
  asio::io_context io;
  bool caught = false;
  auto g = closing(io, [&](ag::context<int, int>) { caught = true; });
  CHECK(anext(io, g).value == 1);
  CHECK(anext(io, g).value == 2);
  CHECK_FALSE(aclose(io, g));
  CHECK(caught);
  CHECK(is_empty_stop(anext(io, g).error));
}

TEST_CASE("the value of a yield under anext is empty (Python's None)") {
  asio::io_context io;
  std::vector<std::string> values;
  auto g = ag::make_async_generator<int, std::string>(io, [&](ag::context<int, std::string> co) {
    for (int i = 0; i < 3; ++i) {
      auto v = ag::yield_(co, i);
      values.push_back(v ? *v : "None");
    }
  });
  CHECK(collect(io, g) == std::vector<int>{0, 1, 2});
  CHECK(values == std::vector<std::string>{"None", "None", "None"});
}

// Native generators' SyntaxErrors for `return value` and for `yield from` in the body do not apply:
// they are compile-time rules of Python's syntax for native async generators. Here, as in the
// async_generator package, a body may return a value (the generator's R, carried by the first
// stop_async_iteration) and delegates with ag::yield_from_ (the package's yield_from_).

// --- "Already running" and re-entrance, CPython 3.10–3.13 ----------------------------------
// Covered in test_async_generator.cpp: ag_running while suspended in an await, a second anext/asend
// in flight, anext re-entered from the body. What CPython does with awaitable objects (reuse,
// close() on an awaitable, never-awaited warnings, throw() into a fresh awaitable) and the
// 3-argument athrow do not apply: operations here are Asio operations, not awaitable objects.

TEST_CASE("athrow and aclose while an operation is in flight fail with '…already running' and leave it undisturbed") {
  asio::io_context io;
  asio::steady_timer gate(io, std::chrono::hours(1));
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    ag::error_code ec;
    gate.async_wait(co[ec]);
    ag::yield_(co, 1);
  });
  std::vector<std::string> events;
  g.anext([&](std::exception_ptr e, int v) { events.push_back(e ? "anext failed" : "anext " + std::to_string(v)); });
  io.poll();
  REQUIRE(g.ag_running());
  g.athrow(std::make_exception_ptr(std::out_of_range("x")),
           [&](std::exception_ptr e, int) { events.push_back(message_of<ag::runtime_error>(e)); });
  g.aclose([&](std::exception_ptr e) { events.push_back(message_of<ag::runtime_error>(e)); });
  io.poll();
  CHECK(g.ag_running());
  gate.cancel();
  io.run();
  CHECK(events == std::vector<std::string>{"athrow(): asynchronous generator is already running",
                                           "aclose(): asynchronous generator is already running", "anext 1"});
}

TEST_CASE("aclose and athrow re-entered from inside the body fail with '…already running' (3.13)") {
  asio::io_context io;
  ag::async_generator<int> g;
  std::vector<std::string> inside;
  g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    ag::yield_(co, 1);
    try {
      g.aclose(co);
    } catch (const ag::runtime_error& e) {
      inside.push_back(e.what());
    }
    try {
      g.athrow(std::make_exception_ptr(std::out_of_range("x")), co);
    } catch (const ag::runtime_error& e) {
      inside.push_back(e.what());
    }
    ag::yield_(co, 2);
  });
  CHECK(anext(io, g).value == 1);
  CHECK(anext(io, g).value == 2);
  CHECK(inside == std::vector<std::string>{"aclose(): asynchronous generator is already running",
                                           "athrow(): asynchronous generator is already running"});
}
